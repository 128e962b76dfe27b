import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../adapters/aws/dynamo/client.ts';
import { WORKFLOW_TABLE, type TableDesign } from '../../adapters/aws/dynamo/workflow-table.ts';
import { ensureTable } from '../../local/tables.ts';

/** A document client on the run's shared emulator that records the name of every command it sends. */
export function countingDocumentClient(): { client: DynamoDBDocumentClient; commands: string[] } {
  const client = createDocumentClient({
    endpoint: inject('dynamoEndpoint'),
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const commands: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { client, commands };
}

/** A fresh table of `design` on the shared emulator, and a counting client whose count starts after its creation. */
export async function freshTable(design: TableDesign, prefix: string): Promise<{ client: DynamoDBDocumentClient; tableName: string; commands: string[] }> {
  const { client, commands } = countingDocumentClient();
  const tableName = `${prefix}-${randomUUID()}`;
  await ensureTable(client, design, tableName);
  commands.length = 0;
  return { client, tableName, commands };
}

/** A fresh table of the workflow design for one suite. */
export function freshWorkflowTable(): Promise<{ client: DynamoDBDocumentClient; tableName: string; commands: string[] }> {
  return freshTable(WORKFLOW_TABLE, 'workflows');
}
