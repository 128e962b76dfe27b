import { mkdir, mkdtemp, rm, rmdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

/**
 * Bundles import `@aws-sdk/*` at run time (it is external, as in Lambda). ESM ignores NODE_PATH, so they
 * must live below a directory whose ancestors hold `node_modules`: a scratch folder inside the project.
 * ESLint already ignores `.bench-tmp/`; the benchmark removes it when done.
 */
export const SCRATCH_ROOT = join(PROJECT_ROOT, '.bench-tmp');

/** Fake credentials and no metadata probing: no SDK client the benchmark starts may reach for real AWS. */
export const AWS_TEST_ENVIRONMENT = {
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
} as const;

/**
 * The environment of a measured child process: only what it needs, so inherited settings (NODE_OPTIONS,
 * NODE_COMPILE_CACHE, npm's variables) cannot speed up or slow down one run and not another.
 */
export function childEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const value = process.env[name];
    if (value !== undefined) inherited[name] = value;
  }
  return { ...inherited, ...AWS_TEST_ENVIRONMENT, ...extra };
}

export async function makeScratchDirectory(prefix: string): Promise<string> {
  await mkdir(SCRATCH_ROOT, { recursive: true });
  return mkdtemp(join(SCRATCH_ROOT, `${prefix}-`));
}

/** Removes a scratch directory, and the scratch root too once nothing else is in it. */
export async function removeScratchDirectory(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true });
  // Another run may still be using the root; then it stays.
  await rmdir(SCRATCH_ROOT).catch(() => undefined);
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}
