import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';
import { buildConsole, launchBrowser, openConsole, scenario, type ConsolePage } from './browser.ts';

/**
 * The web console end to end: built with Vite, served by a real local runtime, driven in headless Chromium.
 * A loopback service plays the services that workflows call: `/slow` answers after a pause (so a run is seen
 * running), `/flaky` answers 500 until it is mended.
 */

let runtime: LocalRuntime;
let call: <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
let browser: Browser;
let removeBuild: () => void;
let consoleDirectory: string;
const runtimeConsoleDirectory = () => consoleDirectory;
let service: Server;
let flakyBroken = true;

function startService(): Promise<string> {
  service = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (path === '/slow') setTimeout(() => reply(200, { done: true }), 1500).unref();
      else if (path === '/flaky' && flakyBroken) reply(500, { error: 'the flaky service is down' });
      else reply(200, { ok: true, path });
    });
  });
  return new Promise((resolve) => service.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(service.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  const [built, serviceUrl, launched] = await Promise.all([buildConsole(), startService(), launchBrowser()]);
  removeBuild = built.remove;
  consoleDirectory = built.directory;
  browser = launched;
  ({ runtime, call } = await startTestApi({ consoleDirectory: built.directory, serviceUrls: { LOOPBACK_URL: serviceUrl } }));
});

afterAll(async () => {
  await browser?.close();
  await runtime?.engine.idle();
  await runtime?.close();
  service?.closeAllConnections();
  await new Promise<void>((resolve) => (service ? service.close(() => resolve()) : resolve()));
  removeBuild?.();
});

const open = () => openConsole(browser);

/** Opens the console and continues without a credential (the local default auth mode allows it). */
async function signInAnonymously(view: ConsolePage, path = ''): Promise<Page> {
  const { page } = view;
  await page.goto(`${runtime.url}/console/${path}`);
  await page.getByRole('button', { name: 'Continue without signing in' }).click();
  await page.getByTestId('who').waitFor();
  return page;
}

const nodes = (page: Page) => page.locator('[data-node-id]');
const node = (page: Page, id: string) => page.locator(`[data-node-id="${id}"]`);

describe('the web console', () => {
  it('signs in without a credential when the server allows it, and signs out', async () => {
    await scenario('sign in', open, async ({ page }) => {
      await page.goto(`${runtime.url}/`);
      await expect.poll(() => page.url()).toMatch(/\/console\/workflows$/);
      await page.getByRole('heading', { name: 'Sign in to the orchestrator console' }).waitFor();
      await page.getByText('anonymous callers act as admin').waitFor();
      await page.getByRole('button', { name: 'Continue without signing in' }).click();
      await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor();
      expect(await page.getByTestId('who').textContent()).toContain('anonymous · admin');
      // The choice lasts for the tab: a reload keeps the session.
      await page.reload();
      await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to the orchestrator console' }).waitFor();
    });
  });

  it('creates a workflow from a template and draws one node per action', async () => {
    await scenario('template', open, async (view) => {
      const page = await signInAnonymously(view, 'workflows');
      await page.getByRole('link', { name: 'New workflow' }).click();
      await page.getByRole('radio', { name: /Document/ }).check();
      await page.getByLabel('Name', { exact: true }).fill('Console document analysis');
      await page.getByRole('button', { name: 'Create from template' }).click();
      await page.getByRole('heading', { name: 'Console document analysis', level: 1 }).waitFor();
      const id = /\/workflows\/([^/?]+)$/.exec(page.url())?.[1];
      const workflow = await call<{ actions: { action_id: string; depends_on: string[] }[] }>('GET', `/workflows/${id}`);
      const actions = workflow.body.data.actions;
      await expect.poll(() => nodes(page).count()).toBe(actions.length);
      for (const action of actions) await node(page, action.action_id).waitFor();
      expect(await page.locator('.dag-edge').count()).toBe(actions.reduce((sum, action) => sum + action.depends_on.length, 0));
      // Left to right: a dependent sits to the right of what it depends on.
      const dependent = actions.find((action) => action.depends_on.length > 0)!;
      const [upstream, downstream] = await Promise.all([node(page, dependent.depends_on[0]!).boundingBox(), node(page, dependent.action_id).boundingBox()]);
      expect(downstream!.x).toBeGreaterThan(upstream!.x);
      // Pan and zoom from the keyboard and with the buttons.
      const canvas = page.locator('.dag-canvas');
      const before = await canvas.getAttribute('style');
      await page.getByRole('group', { name: /Actions of Console document analysis/ }).focus();
      await page.keyboard.press('ArrowLeft');
      await expect.poll(() => canvas.getAttribute('style')).not.toBe(before);
      const zoom = await page.locator('.zoom-level').textContent();
      await page.keyboard.press('+');
      await expect.poll(() => page.locator('.zoom-level').textContent()).not.toBe(zoom);
      await page.getByRole('button', { name: 'Zoom out' }).click();
      await page.getByRole('button', { name: 'Fit', exact: true }).click();
      // Selecting a node shows its definition.
      await node(page, dependent.action_id).click();
      await page.getByRole('complementary', { name: 'Selected action' }).getByText(`"action_id": "${dependent.action_id}"`).waitFor();
      // The other views of the workflow answer too.
      await page.getByRole('tab', { name: 'State machine' }).click();
      await page.getByText('Amazon States Language (version 1)').waitFor();
      await page.getByRole('tab', { name: 'Parameters' }).click();
      await page.getByRole('rowheader', { name: 'document_url' }).waitFor();
    });
  });

  it('starts a run from the form its parameters make, and shows the nodes turn completed', async () => {
    const created = await call<{ workflow_id: string }>('POST', '/workflows', {
      body: {
        name: 'Console slow run',
        parameters: [
          { name: 'count', type: 'integer', required: true, description: 'How many items' },
          { name: 'mode', type: 'string', enum: ['fast', 'thorough'], default: 'fast' },
          { name: 'dry_run', type: 'boolean', default: false },
          { name: 'labels', type: 'array' },
        ],
        actions: [
          { action_id: 'prepare', action_type: 'transform', config: { output: { count: '{{count}}' } } },
          { action_id: 'call', action_type: 'service_call', config: { service: 'loopback', endpoint: '/slow', method: 'POST' }, depends_on: ['prepare'] },
          { action_id: 'side', action_type: 'notification', config: { message: 'side {{mode}}' }, depends_on: ['prepare'] },
          { action_id: 'notify', action_type: 'notification', config: { message: 'done {{count}}' }, depends_on: ['call', 'side'] },
        ],
      },
    });
    expect(created.status).toBe(201);
    await scenario('run form', open, async (view) => {
      const page = await signInAnonymously(view, `workflows/${created.body.data.workflow_id}/run`);
      await page.getByRole('heading', { name: 'Run Console slow run' }).waitFor();
      expect(await page.getByLabel('mode').inputValue()).toBe('0');
      // Bad input is refused before anything is sent.
      await page.getByLabel('count').fill('three');
      await page.getByLabel('labels').fill('{"not": "an array"}');
      await page.getByRole('button', { name: 'Start run' }).click();
      await page.getByText('count must be a whole number').waitFor();
      await page.getByText('labels must be a JSON array').waitFor();
      expect((await call<{ executions: unknown[] }>('GET', `/workflows/${created.body.data.workflow_id}/executions`)).body.data.executions).toHaveLength(0);
      await page.getByLabel('count').fill('3');
      await page.getByLabel('labels').fill('["a", "b"]');
      await page.getByLabel('mode').selectOption({ label: 'thorough' });
      await page.getByLabel('dry_run').check();
      await page.getByRole('button', { name: 'Start run' }).click();
      await page.waitForURL(/\/console\/runs\/[^/]+$/);
      await expect.poll(() => node(page, 'call').getAttribute('data-status')).toBe('running');
      await page.getByTestId('live-mode').getByText('Live').waitFor();
      // Paused, the run starts nothing new until it is resumed.
      await page.getByRole('button', { name: 'Pause' }).click();
      await page.getByTestId('run-status').getByText('paused').waitFor();
      await page.getByRole('button', { name: 'Resume' }).click();
      for (const id of ['prepare', 'call', 'side', 'notify']) await expect.poll(() => node(page, id).getAttribute('data-status'), { timeout: 10_000 }).toBe('completed');
      await page.getByTestId('run-status').getByText('completed').waitFor();
      expect(await page.locator('.timeline-row').count()).toBe(4);
      const executionId = /\/runs\/([^/?]+)$/.exec(page.url())?.[1];
      const run = await call<{ parameters: Record<string, unknown> }>('GET', `/workflows/executions/${executionId}`);
      expect(run.body.data.parameters).toEqual({ count: 3, mode: 'thorough', dry_run: true, labels: ['a', 'b'] });
    });
  });

  it('shows validation problems at their lines, then a failed run’s error at its node, and retries it', async () => {
    flakyBroken = true;
    await scenario('failed run', open, async (view) => {
      const page = await signInAnonymously(view, 'workflows/new');
      view.expect({ url: /\/workflows$/, status: 400 });
      const definition = (endpoint: string) =>
        JSON.stringify({
          name: 'Console flaky',
          actions: [
            { action_id: 'first', action_type: 'notification', config: { message: 'starting' } },
            { action_id: 'flaky', action_type: 'service_call', config: { service: 'loopback', endpoint, method: 'POST' }, depends_on: ['first'], retry: { max_attempts: 1 } },
          ],
        });
      const editor = page.getByLabel('Workflow definition (JSON)');
      await editor.fill(definition('flaky'));
      await page.getByRole('button', { name: 'Create workflow' }).click();
      const problem = page.locator('[data-field="actions[1].config.endpoint"]');
      await problem.waitFor();
      expect(await problem.textContent()).toMatch(/Line \d+.*endpoint must be a path starting with \//);
      await expect.poll(() => page.locator('.gutter-error').count()).toBe(1);
      await editor.fill(definition('/flaky'));
      await page.getByRole('button', { name: 'Create workflow' }).click();
      await page.getByRole('heading', { name: 'Console flaky', level: 1 }).waitFor();
      await page.getByRole('link', { name: 'Run…' }).click();
      await page.getByRole('button', { name: 'Start run' }).click();
      await page.waitForURL(/\/console\/runs\/[^/]+$/);
      await expect.poll(() => node(page, 'flaky').getAttribute('data-status'), { timeout: 10_000 }).toBe('failed');
      expect(await node(page, 'first').getAttribute('data-status')).toBe('completed');
      // Coloured by status: a completed node green, a failed one red (not only a word on a white box).
      const background = (id: string) => node(page, id).evaluate((element) => (globalThis as unknown as { getComputedStyle: (target: typeof element) => { backgroundColor: string } }).getComputedStyle(element).backgroundColor);
      expect(await background('first')).toBe('rgb(220, 252, 231)');
      expect(await background('flaky')).toBe('rgb(254, 226, 226)');
      await page.getByTestId('run-status').getByText('failed').waitFor();
      // The error at its node, and in full beside the graph (the failed action is selected).
      expect(await node(page, 'flaky').textContent()).toMatch(/Error/);
      await page.locator('.action-details[data-action-id="flaky"] .action-error').waitFor();
      expect(await page.locator('.action-details .action-error').textContent()).toMatch(/500/);
      flakyBroken = false;
      await page.getByRole('button', { name: 'Retry', exact: true }).click();
      await expect.poll(() => node(page, 'flaky').getAttribute('data-status'), { timeout: 10_000 }).toBe('completed');
      await page.getByTestId('run-status').getByText('completed').waitFor();
      await page.getByText('Retried').waitFor();
    });
  });

  it('edits a workflow as JSON and shows the difference between its versions', async () => {
    const created = await call<{ workflow_id: string }>('POST', '/workflows/from-template', { body: { template_name: 'hello_world', customizations: { name: 'Console edited' } } });
    await scenario('edit', open, async (view) => {
      const page = await signInAnonymously(view, `workflows/${created.body.data.workflow_id}`);
      await page.getByRole('link', { name: 'Edit' }).click();
      const editor = page.getByLabel('Workflow definition (JSON)');
      const text = JSON.parse(await editor.inputValue()) as { actions: Record<string, unknown>[] };
      text.actions.push({ action_id: 'followup', action_type: 'notification', config: { message: 'again' }, depends_on: [text.actions[0]!['action_id']] });
      await editor.fill(JSON.stringify(text));
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('heading', { name: 'Console edited', level: 1 }).waitFor();
      await expect.poll(() => nodes(page).count()).toBe(2);
      await page.getByRole('tab', { name: 'Versions' }).click();
      const diff = page.getByLabel('Changes from version 1 to version 2');
      await diff.waitFor();
      expect(await diff.locator('.diff-added').filter({ hasText: '"action_id": "followup"' }).count()).toBe(1);
      expect(await diff.locator('.diff-removed').count()).toBe(0);
    });
  });

  it('follows a run by polling when the event stream is not available', async () => {
    const created = await call<{ workflow_id: string }>('POST', '/workflows', {
      body: {
        name: 'Console polled run',
        actions: [
          { action_id: 'call', action_type: 'service_call', config: { service: 'loopback', endpoint: '/slow', method: 'GET' } },
          { action_id: 'after', action_type: 'notification', config: { message: 'done' }, depends_on: ['call'] },
        ],
      },
    });
    await scenario('polling', open, async (view) => {
      // A proxy in front of the API that refuses streams (as some do) answers 503 to them.
      view.expect({ url: /\/infrastructure\/events\/stream\?/, status: 503 });
      await view.page.route('**/infrastructure/events/stream**', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ success: false, message: 'no streams here', error_code: 'SERVICE_UNAVAILABLE' }) }));
      const page = await signInAnonymously(view, `workflows/${created.body.data.workflow_id}/run`);
      await page.getByRole('button', { name: 'Start run' }).click();
      await page.waitForURL(/\/console\/runs\/[^/]+$/);
      await page.getByTestId('live-mode').getByText('reading it every 2 s').waitFor();
      for (const id of ['call', 'after']) await expect.poll(() => node(page, id).getAttribute('data-status'), { timeout: 10_000 }).toBe('completed');
      await page.getByTestId('live-mode').getByText('Finished').waitFor();
    });
  });

  it('lists runs, registered services and recent events, and fits a phone screen', async () => {
    await call('POST', '/registry/register', { body: { name: 'console_probe', url: 'http://127.0.0.1:9', tags: ['console'] } });
    await scenario('lists', () => openConsole(browser, { width: 390, height: 844 }), async (view) => {
      const page = await signInAnonymously(view, 'runs?status=completed');
      await page.getByRole('heading', { name: 'Runs', level: 1 }).waitFor();
      await expect.poll(() => page.locator('table.data tbody tr').count()).toBeGreaterThan(0);
      await page.getByRole('link', { name: 'Registry' }).click();
      await page.locator('[data-service="console_probe"]').waitFor();
      await page.getByRole('link', { name: 'Operations' }).click();
      // The flaky run's failed call went to the dead-letter queue.
      await page.locator('[data-queue="actions"]').getByText('Show messages').click();
      await page.getByRole('cell', { name: /ServiceUnavailableError/ }).first().waitFor();
      await page.getByRole('tab', { name: 'Recent events' }).click();
      await page.getByRole('cell', { name: /run\.completed/ }).first().waitFor();
      const overflow = await page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
      expect(overflow).toBeLessThanOrEqual(0);
    });
  });
});

describe('the web console when the server requires credentials', () => {
  const ADMIN_KEY = 'console-admin-key-0123456789';
  let secured: LocalRuntime;
  let securedCall: typeof call;

  beforeAll(async () => {
    ({ runtime: secured, call: securedCall } = await startTestApi({ consoleDirectory: runtimeConsoleDirectory(), auth: { mode: 'required', anonymousRole: 'viewer', adminApiKey: ADMIN_KEY } }));
  });
  afterAll(async () => {
    await secured?.close();
  });

  it('signs in with an API key, offers only what the role may do, and asks again once the key is refused', async () => {
    const created = await securedCall<{ api_key: string; key_id: string }>('POST', '/auth/api-keys', { body: { name: 'console-viewer', role: 'viewer' }, headers: { 'x-api-key': ADMIN_KEY } });
    expect(created.status).toBe(201);
    await scenario('api key', open, async (view) => {
      // The anonymous probe, a wrong key and the revoked key are refused on purpose: 401s the page shows.
      view.expect({ url: /\/auth\/whoami$|\/workflows\/history\?/, status: 401 });
      const { page } = view;
      await page.goto(`${secured.url}/console/workflows`);
      await page.getByText('This server requires a credential.').waitFor();
      await page.getByLabel('API key', { exact: true }).fill('not-a-valid-key-at-all');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByText('The server refused this credential').waitFor();
      await page.getByLabel('API key', { exact: true }).fill(created.body.data.api_key);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Workflows', level: 1 }).waitFor();
      expect(await page.getByTestId('who').textContent()).toContain('console-viewer · viewer');
      // A viewer reads; the console does not offer what the API would refuse.
      expect(await page.getByRole('link', { name: 'New workflow' }).count()).toBe(0);
      // The key is kept for the tab only.
      expect(await page.evaluate('Object.keys(sessionStorage).length')).toBe(1);
      expect(await page.evaluate('localStorage.length')).toBe(0);
      // Revoked: the next call is a 401, and the sign-in comes back.
      await securedCall('DELETE', `/auth/api-keys/${created.body.data.key_id}`, { headers: { 'x-api-key': ADMIN_KEY } });
      await page.getByRole('link', { name: 'Runs' }).click();
      await page.getByRole('heading', { name: 'Sign in to the orchestrator console' }).waitFor();
      await page.getByText('The server refused your credential').waitFor();
      expect(await page.evaluate('Object.keys(sessionStorage).length')).toBe(0);
    });
  });
});
