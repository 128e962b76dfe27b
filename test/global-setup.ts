import type { TestProject } from 'vitest/node';
import { startDynalite } from '../local/dynalite.ts';
import { startFauxqsEmulator } from '../local/fauxqs.ts';

/**
 * One in-memory DynamoDB emulator and one SQS and S3 emulator (fauxqs) for the whole run; suites isolate
 * themselves with their own tables, queues and buckets.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [dynamo, fauxqs] = await Promise.all([startDynalite({}), startFauxqsEmulator()]);
  project.provide('dynamoEndpoint', dynamo.endpoint);
  project.provide('fauxqsEndpoint', fauxqs.endpoint);
  return async () => {
    await Promise.all([dynamo.close(), fauxqs.close()]);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
    /** SQS and S3 on one endpoint (S3 clients need path-style URLs). */
    fauxqsEndpoint: string;
  }
}
