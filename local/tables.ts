import { CreateTableCommand, DescribeTableCommand, UpdateTableCommand, type DynamoDBClient, type GlobalSecondaryIndex } from '@aws-sdk/client-dynamodb';
import { projectionOf, type TableDesign } from '../adapters/aws/dynamo/workflow-table.ts';

/**
 * Creates `design` as `tableName` unless it exists: the local twin of the CDK data stack. An existing table
 * gets the indexes added to the design since; returns those it still lacks (dynalite cannot add an index to a
 * table, DynamoDB Local and AWS can).
 */
export async function ensureTable(client: DynamoDBClient, design: TableDesign, tableName: string): Promise<string[]> {
  const keyAttributes = new Set([design.partitionKey, design.sortKey, ...design.indexes.flatMap((index) => [index.partitionKey, index.sortKey])]);
  if ((await tableStatus(client, tableName)) !== undefined) {
    await waitUntilActive(client, tableName);
    await addMissingIndexes(client, design, tableName);
    return missingIndexes(client, design, tableName);
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...keyAttributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: design.partitionKey, KeyType: 'HASH' },
        { AttributeName: design.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: design.indexes.map((index) => indexOf(design, index)),
    }),
  );
  await waitUntilActive(client, tableName);
  return [];
}

async function tableStatus(client: DynamoDBClient, tableName: string): Promise<string | undefined> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesReady = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === 'ACTIVE');
    return Table?.TableStatus === 'ACTIVE' && !indexesReady ? 'CREATING' : Table?.TableStatus;
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** Even with zero creation delay the emulator reports CREATING briefly; writes before ACTIVE fail. */
async function waitUntilActive(client: DynamoDBClient, tableName: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await tableStatus(client, tableName)) !== 'ACTIVE') {
    if (Date.now() > deadline) throw new Error(`table ${tableName} did not become ACTIVE within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function indexOf(design: TableDesign, index: TableDesign['indexes'][number]): GlobalSecondaryIndex {
  return {
    IndexName: index.indexName,
    KeySchema: [
      { AttributeName: index.partitionKey, KeyType: 'HASH' },
      { AttributeName: index.sortKey, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...projectionOf(design, index)] },
  };
}

/**
 * A table kept in ./.data by an earlier version lacks the indexes added since (the workflows table's
 * `schedules`): each is added, one per update as DynamoDB requires, and the table waited for.
 */
async function missingIndexes(client: DynamoDBClient, design: TableDesign, tableName: string): Promise<string[]> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  return design.indexes.filter((index) => !present.has(index.indexName)).map((index) => index.indexName);
}

async function addMissingIndexes(client: DynamoDBClient, design: TableDesign, tableName: string): Promise<void> {
  const missing = new Set(await missingIndexes(client, design, tableName));
  for (const index of design.indexes.filter((candidate) => missing.has(candidate.indexName))) {
    const update = (create: GlobalSecondaryIndex) =>
      client.send(
        new UpdateTableCommand({
          TableName: tableName,
          AttributeDefinitions: [index.partitionKey, index.sortKey].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
          GlobalSecondaryIndexUpdates: [{ Create: create }],
        }),
      );
    try {
      await update(indexOf(design, index));
    } catch (error) {
      // dynalite wants a throughput on a new index even of an on-demand table (DynamoDB refuses one there).
      if (!(error instanceof Error && /provisionedThroughput/i.test(error.message))) throw error;
      await update({ ...indexOf(design, index), ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } });
    }
    await waitUntilActive(client, tableName);
  }
}
