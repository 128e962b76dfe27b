import { describe, expect, it } from 'vitest';
import { ExecutionItemSchema } from '../../../../../adapters/aws/dynamo/execution-items.ts';
import { EXECUTION_TABLE, UNPROJECTED_EXECUTION_ATTRIBUTES } from '../../../../../adapters/aws/dynamo/execution-table.ts';
import { InstanceItemSchema } from '../../../../../adapters/aws/dynamo/registry-items.ts';
import { INSTANCE_ATTRIBUTES } from '../../../../../adapters/aws/dynamo/registry-table.ts';
import { AuditItemSchema, ListedApiKeyItemSchema } from '../../../../../adapters/aws/dynamo/security-items.ts';
import { API_KEY_ATTRIBUTES, AUDIT_ATTRIBUTES } from '../../../../../adapters/aws/dynamo/security-tables.ts';
import { SummaryItemSchema } from '../../../../../adapters/aws/dynamo/workflow-items.ts';
import { SUMMARY_ATTRIBUTES } from '../../../../../adapters/aws/dynamo/workflow-table.ts';

const sorted = (names: readonly string[]) => [...names].sort();

/**
 * Listings read items through an index, which holds only the attributes the table design projects: a schema
 * that reads an attribute the index lacks would call every listed item corrupt, and an attribute projected but
 * never read is copied into the index for nothing.
 */
describe('what a listing reads of an item is what its index projects', () => {
  it('for workflow summaries', () => {
    expect(sorted(Object.keys(SummaryItemSchema.shape))).toEqual(sorted(SUMMARY_ATTRIBUTES));
  });

  it('for executions (their output and the attributes read by id only excepted)', () => {
    const byIdOnly: readonly string[] = UNPROJECTED_EXECUTION_ATTRIBUTES;
    expect(sorted(Object.keys(ExecutionItemSchema.in.shape).filter((name) => !byIdOnly.includes(name)))).toEqual(sorted(EXECUTION_TABLE.projectedAttributes));
  });

  it('for service instances', () => {
    expect(sorted(Object.keys(InstanceItemSchema.shape))).toEqual(sorted(INSTANCE_ATTRIBUTES));
  });

  it('for API keys (never their hash) and audit records', () => {
    expect(sorted(Object.keys(ListedApiKeyItemSchema.shape))).toEqual(sorted(API_KEY_ATTRIBUTES));
    expect(sorted(Object.keys(AuditItemSchema.shape))).toEqual(sorted(AUDIT_ATTRIBUTES));
  });
});
