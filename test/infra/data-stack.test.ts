import { describe, expect, it } from 'vitest';
import { EXECUTION_TABLE } from '../../adapters/aws/dynamo/execution-table.ts';
import { REGISTRY_TABLE } from '../../adapters/aws/dynamo/registry-table.ts';
import { WORKFLOW_TABLE, type TableDesign } from '../../adapters/aws/dynamo/workflow-table.ts';
import type { DataStack } from '../../infra/stacks/data-stack.ts';
import { buildOrchestratorApp, logicalIdOf, propertiesOf, resourcesOfType, templateOf } from './fixture.ts';

/** Every table of the data stack, with the design it is built from. */
const TABLES: ReadonlyArray<{ readonly name: string; readonly design: TableDesign; readonly of: (data: DataStack) => DataStack['workflowsTable'] }> = [
  { name: 'workflows', design: WORKFLOW_TABLE, of: (data) => data.workflowsTable },
  { name: 'registry', design: REGISTRY_TABLE, of: (data) => data.registryTable },
  { name: 'executions', design: EXECUTION_TABLE, of: (data) => data.executionsTable },
];

function tableOf(of: (data: DataStack) => DataStack['workflowsTable'], context: Record<string, unknown> = {}) {
  const { data } = buildOrchestratorApp(context);
  const template = templateOf(data);
  expect(resourcesOfType(template, 'AWS::DynamoDB::Table')).toHaveLength(TABLES.length);
  const table = template.Resources[logicalIdOf(data, of(data))];
  if (table === undefined) throw new Error('table not in the data stack template');
  return table;
}

describe.each(TABLES)('the $name table', ({ design, of }) => {
  const table = tableOf(of);
  const properties = propertiesOf(table);

  it('has the keys of its design, as strings', () => {
    expect(properties['KeySchema']).toEqual([
      { AttributeName: design.partitionKey, KeyType: 'HASH' },
      { AttributeName: design.sortKey, KeyType: 'RANGE' },
    ]);
    const keyAttributes = [design.partitionKey, design.sortKey, ...design.indexes.flatMap((index) => [index.partitionKey, index.sortKey])];
    expect(properties['AttributeDefinitions']).toEqual(expect.arrayContaining(keyAttributes.map((name) => ({ AttributeName: name, AttributeType: 'S' }))));
    expect(properties['AttributeDefinitions']).toHaveLength(new Set(keyAttributes).size);
  });

  it('has exactly the indexes of its design, each projecting only the listed attributes', () => {
    expect(properties['GlobalSecondaryIndexes']).toEqual(
      design.indexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...design.projectedAttributes] },
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
    const throwaway = tableOf(of, { retainData: 'false' });
    expect(propertiesOf(throwaway)['DeletionProtectionEnabled']).toBe(false);
    expect(throwaway.DeletionPolicy).toBe('Delete');
  });
});
