import { describe, expect, it } from 'vitest';
import { EXECUTION_TABLE } from '../../adapters/aws/dynamo/execution-table.ts';
import { REGISTRY_TABLE } from '../../adapters/aws/dynamo/registry-table.ts';
import { API_KEY_TABLE, AUDIT_TABLE } from '../../adapters/aws/dynamo/security-tables.ts';
import { projectionOf, WORKFLOW_TABLE, type TableDesign } from '../../adapters/aws/dynamo/workflow-table.ts';
import type { DataStack } from '../../infra/stacks/data-stack.ts';
import { EVENT_TABLE } from '../../adapters/aws/dynamo/event-table.ts';
import { SUBSCRIPTION_TABLE } from '../../adapters/aws/dynamo/subscription-table.ts';
import { SPAN_TABLE } from '../../adapters/aws/dynamo/span-table.ts';
import { buildOrchestratorApp, logicalIdOf, propertiesOf, resourcesOfType, templateOf } from './fixture.ts';

/** Every table of the data stack, with the design it is built from. */
const TABLES: ReadonlyArray<{ readonly name: string; readonly design: TableDesign; readonly of: (data: DataStack) => DataStack['workflowsTable'] }> = [
  { name: 'workflows', design: WORKFLOW_TABLE, of: (data) => data.workflowsTable },
  { name: 'registry', design: REGISTRY_TABLE, of: (data) => data.registryTable },
  { name: 'executions', design: EXECUTION_TABLE, of: (data) => data.executionsTable },
  { name: 'API keys', design: API_KEY_TABLE, of: (data) => data.apiKeysTable },
  { name: 'audit', design: AUDIT_TABLE, of: (data) => data.auditTable },
  { name: 'events', design: EVENT_TABLE, of: (data) => data.eventsTable },
  { name: 'subscriptions', design: SUBSCRIPTION_TABLE, of: (data) => data.subscriptionsTable },
  { name: 'spans', design: SPAN_TABLE, of: (data) => data.spansTable },
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
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...projectionOf(design, index)] },
      })),
    );
  });

  it('expires items by the TTL attribute of its design, if it has one', () => {
    expect(properties['TimeToLiveSpecification']).toEqual(design.timeToLiveAttribute ? { AttributeName: design.timeToLiveAttribute, Enabled: true } : undefined);
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

describe('the event history', () => {
  it('expires recorded events by TTL (ORCHESTRATOR_EVENT_RETENTION_DAYS), so the test above checks it', () => {
    expect(EVENT_TABLE.timeToLiveAttribute).toBe('expires_at_epoch');
  });
});

describe('the spans table', () => {
  it('expires spans by TTL (ORCHESTRATOR_SPAN_RETENTION_DAYS), so the test above checks it', () => {
    expect(SPAN_TABLE.timeToLiveAttribute).toBe('expires_at');
  });
});

describe('the security tables', () => {
  it('both expire items by TTL (keys past their expiry, audit records past the retention), so the test above checks it', () => {
    expect([API_KEY_TABLE.timeToLiveAttribute, AUDIT_TABLE.timeToLiveAttribute]).toEqual(['expires_at_epoch', 'expires_at_epoch']);
  });

  it('the audit table can be queried by time, actor, action, target and tenant', () => {
    expect(AUDIT_TABLE.indexes.map((index) => index.indexName).sort()).toEqual(['action-by-time', 'actor-by-time', 'all-by-time', 'target-by-time', 'tenant-by-time']);
  });
});

describe('generated secrets', () => {
  const secretsOf = (context: Record<string, unknown>) => {
    const { data } = buildOrchestratorApp(context);
    const template = templateOf(data);
    return { data, template, secrets: resourcesOfType(template, 'AWS::SecretsManager::Secret') };
  };

  it('exist only when asked for', () => {
    expect(secretsOf({}).secrets).toEqual([]);
    expect(secretsOf({ jwtSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf' }).secrets).toEqual([]);
  });

  it('-c jwtSecret=generate -c adminApiKey=generate: 64 letters and digits each, kept with the data, their ARNs as outputs', () => {
    const { data, template, secrets } = secretsOf({ jwtSecret: 'generate', adminApiKey: 'generate' });
    expect(secrets).toHaveLength(2);
    for (const [, secret] of secrets) {
      expect(propertiesOf(secret)['GenerateSecretString']).toEqual({ PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false });
      expect(secret.DeletionPolicy).toBe('Retain');
    }
    expect(template.Outputs?.['JwtSecretArn']?.Value).toEqual({ Ref: logicalIdOf(data, data.jwtSecret) });
    expect(template.Outputs?.['AdminApiKeySecretArn']?.Value).toEqual({ Ref: logicalIdOf(data, data.adminApiKeySecret) });
  });

  it('go with a throwaway stack (retainData=false)', () => {
    const [[, secret] = ['', { Type: '' }]] = secretsOf({ jwtSecret: 'generate', retainData: 'false' }).secrets;
    expect(secret.DeletionPolicy).toBe('Delete');
  });
});
