import { describe, expect, it } from 'vitest';
import { WORKFLOW_TABLE } from '../../adapters/aws/dynamo/workflow-table.ts';
import { buildOrchestratorApp, logicalIdOf, propertiesOf, resourcesOfType, templateOf } from './fixture.ts';

function workflowsTableOf(context: Record<string, unknown> = {}) {
  const { data } = buildOrchestratorApp(context);
  const template = templateOf(data);
  const tables = resourcesOfType(template, 'AWS::DynamoDB::Table');
  expect(tables).toHaveLength(1);
  const table = template.Resources[logicalIdOf(data, data.workflowsTable)];
  if (table === undefined) throw new Error('workflows table not in the data stack template');
  return table;
}

describe('the workflows table', () => {
  const table = workflowsTableOf();
  const properties = propertiesOf(table);

  it('has the keys of WORKFLOW_TABLE, as strings', () => {
    expect(properties['KeySchema']).toEqual([
      { AttributeName: WORKFLOW_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: WORKFLOW_TABLE.sortKey, KeyType: 'RANGE' },
    ]);
    const keyAttributes = [WORKFLOW_TABLE.partitionKey, WORKFLOW_TABLE.sortKey, ...WORKFLOW_TABLE.indexes.flatMap((index) => [index.partitionKey, index.sortKey])];
    expect(properties['AttributeDefinitions']).toEqual(expect.arrayContaining(keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' }))));
    expect(properties['AttributeDefinitions']).toHaveLength(keyAttributes.length);
  });

  it('has exactly the indexes of WORKFLOW_TABLE, each projecting only the summary attributes', () => {
    expect(properties['GlobalSecondaryIndexes']).toEqual(
      WORKFLOW_TABLE.indexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...WORKFLOW_TABLE.projectedAttributes] },
      })),
    );
  });

  it('bills on demand, with point-in-time recovery and server-side encryption under the AWS-managed KMS key', () => {
    expect(properties['BillingMode']).toBe('PAY_PER_REQUEST');
    expect(properties['PointInTimeRecoverySpecification']).toEqual({ PointInTimeRecoveryEnabled: true });
    // SSEEnabled with no key ID is the aws/dynamodb key; the AWS-owned default would have no SSESpecification.
    expect(properties['SSESpecification']).toEqual({ SSEEnabled: true });
  });

  it('survives its stack by default: deletion protection on, retained on delete and on replacement', () => {
    expect(properties['DeletionProtectionEnabled']).toBe(true);
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  it('can be thrown away with its stack when retainData=false (as the CLI passes it, a string)', () => {
    const throwaway = workflowsTableOf({ retainData: 'false' });
    expect(propertiesOf(throwaway)['DeletionProtectionEnabled']).toBe(false);
    expect(throwaway.DeletionPolicy).toBe('Delete');
  });
});
