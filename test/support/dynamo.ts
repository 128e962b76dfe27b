import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../adapters/aws/dynamo/client.ts';
import { WORKFLOW_TABLE } from '../../adapters/aws/dynamo/workflow-table.ts';
import { ensureTable } from '../../local/tables.ts';

/** A document client on the run's shared emulator, and a fresh table of the workflow design for one suite. */
export async function freshWorkflowTable(): Promise<{ client: DynamoDBDocumentClient; tableName: string; commands: string[] }> {
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
  const tableName = `workflows-${randomUUID()}`;
  await ensureTable(client, WORKFLOW_TABLE, tableName);
  commands.length = 0;
  return { client, tableName, commands };
}
