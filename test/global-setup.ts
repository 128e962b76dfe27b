import type { TestProject } from 'vitest/node';
import { startDynalite } from '../local/dynalite.ts';

/** One in-memory DynamoDB emulator for the whole run; suites isolate themselves with their own tables. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dynamo = await startDynalite({});
  project.provide('dynamoEndpoint', dynamo.endpoint);
  return () => dynamo.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}
