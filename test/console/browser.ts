import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { build } from 'vite';

/**
 * What the console's end-to-end tests share: the console built once into a folder of their own (so a build
 * someone runs meanwhile in dist/console cannot change what is tested), headless Chromium, and pages that
 * collect every browser console error and page error, and leave a screenshot when a scenario fails.
 */

const REPOSITORY = resolve(import.meta.dirname, '../..');
export const ARTIFACTS = join(REPOSITORY, 'test-artifacts', 'console');

/** Builds the console (Vite, the project's config) into a temporary folder; `remove` deletes it. */
export async function buildConsole(): Promise<{ directory: string; remove: () => void }> {
  const directory = mkdtempSync(join(tmpdir(), 'console-build-'));
  await build({ configFile: join(REPOSITORY, 'console/vite.config.ts'), logLevel: 'error', build: { outDir: directory, emptyOutDir: true, sourcemap: false } });
  return { directory, remove: () => rmSync(directory, { recursive: true, force: true }) };
}

export function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`no Chromium at ${executablePath}: install Debian's chromium package, or set CHROMIUM_PATH to a Chromium or Chrome binary`);
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
}

/**
 * A failed request the browser logs as a console error ("Failed to load resource: ... status of 401") that a
 * scenario expects: the console makes them on purpose (a refused credential; a definition the API must refuse)
 * and shows the answer.
 */
export interface ExpectedFailure {
  readonly url: RegExp;
  readonly status: number;
}

export interface ConsolePage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Console and page errors so far, besides the expected failures. */
  readonly errors: string[];
  expect(failure: ExpectedFailure): void;
}

export async function openConsole(browser: Browser, viewport = { width: 1280, height: 800 }): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  // Well under the test's own timeout, so that a missing element fails the scenario (with its screenshot).
  page.setDefaultTimeout(8000);
  const errors: string[] = [];
  const expected: ExpectedFailure[] = [];
  const isExpected = (message: ConsoleMessage): boolean => {
    const status = /status of (\d{3})/.exec(message.text())?.[1];
    const url = message.location().url;
    return status !== undefined && expected.some((failure) => failure.status === Number(status) && failure.url.test(url));
  };
  page.on('console', (message) => {
    if (message.type() === 'error' && !isExpected(message)) errors.push(`console error: ${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  return { page, context, errors, expect: (failure) => expected.push(failure) };
}

/** Runs a scenario; when it fails, keeps a screenshot of the page under test-artifacts/console/ first. */
export async function scenario(name: string, open: () => Promise<ConsolePage>, body: (view: ConsolePage) => Promise<void>): Promise<void> {
  const view = await open();
  try {
    await body(view);
    if (view.errors.length > 0) throw new Error(`the browser reported errors:\n${view.errors.join('\n')}`);
  } catch (error) {
    mkdirSync(ARTIFACTS, { recursive: true });
    await view.page.screenshot({ path: join(ARTIFACTS, `${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`), fullPage: true }).catch(() => undefined);
    throw error;
  } finally {
    await view.context.close();
  }
}
