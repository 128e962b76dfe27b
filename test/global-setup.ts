import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynalite } from '../local/dynalite.ts';
import { startFauxqsEmulator } from '../local/fauxqs.ts';

/**
 * One in-memory DynamoDB emulator and one SQS and S3 emulator (fauxqs) for the whole run; suites isolate
 * themselves with their own tables, queues and buckets.
 *
 * Every temporary file of the run (CDK's `cdk.out*` assemblies of each App, the tests' own folders, the
 * processes they start) goes under one folder made here and removed at the end: TMPDIR is set before the
 * test workers start, and they and their children inherit it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const scratch = mkdtempSync(join(tmpdir(), 'orchestrator-tests-'));
  process.env.TMPDIR = scratch;
  const [dynamo, fauxqs] = await Promise.all([startDynalite({}), startFauxqsEmulator()]);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('fauxqsEndpoint', fauxqs.endpoint);
  return async () => {
    await Promise.all([dynamo.close(), fauxqs.close()]);
    rmSync(scratch, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    /** SQS and S3 on one endpoint (S3 clients need path-style URLs). */
    fauxqsEndpoint: string;
  }
}
