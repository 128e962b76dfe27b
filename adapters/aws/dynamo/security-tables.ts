import type { IndexDesign, TableDesign } from './workflow-table.ts';

/**
 * The two security tables, as plain data (CDK and the local runtime create them from these). They are apart
 * from the others for least privilege: the authorizer reads keys and nothing else, and every route may
 * append to the audit trail without being able to read it.
 */

/**
 * Managed API keys: one item per key (pk = `KEY#<key_id>`, sk = `KEY`), found by id with one GetItem when
 * a key is presented. Listing reads the `all-keys` index (a constant partition: an account holds tens of
 * keys, not millions). Expired keys carry `expires_at_epoch`, DynamoDB's TTL attribute.
 */
export const ApiKeyIndex = {
  all: { indexName: 'all-keys', partitionKey: 'gsi_all_pk', sortKey: 'gsi_all_sk' },
} as const satisfies Record<string, IndexDesign>;

export const API_KEY_ATTRIBUTES = ['key_id', 'name', 'role', 'tenant', 'created_by', 'created_at', 'expires_at', 'last_used_at'] as const;

export const API_KEY_TABLE: TableDesign = {
  id: 'ApiKeys',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: Object.values(ApiKeyIndex),
  projectedAttributes: API_KEY_ATTRIBUTES,
  timeToLiveAttribute: 'expires_at_epoch',
};

/**
 * The audit trail: one item per audited request (pk = `AUDIT#<audit_id>`, sk = `A`), written before a
 * state-changing request runs and given its outcome after; never deleted but by TTL (`expires_at_epoch`,
 * ORCHESTRATOR_AUDIT_RETENTION_DAYS). Every index sorts by `<time>#<audit_id>`, so each filter is one Query,
 * newest first, with `since`/`until` as key conditions:
 *   all-by-time      every record (`AUDIT`: one partition takes 1,000 writes a second, far more than a control
 *                    plane's state-changing requests)
 *   actor-by-time    `<actor>`
 *   action-by-time   the route name
 *   target-by-time   the first id the request named (a workflow, an execution, a service, a key)
 *   tenant-by-time   the caller's tenant
 */
export const AuditIndex = {
  all: { indexName: 'all-by-time', partitionKey: 'gsi_all', sortKey: 'gsi_sk' },
  actor: { indexName: 'actor-by-time', partitionKey: 'gsi_actor', sortKey: 'gsi_sk' },
  action: { indexName: 'action-by-time', partitionKey: 'gsi_action', sortKey: 'gsi_sk' },
  target: { indexName: 'target-by-time', partitionKey: 'gsi_target', sortKey: 'gsi_sk' },
  tenant: { indexName: 'tenant-by-time', partitionKey: 'gsi_tenant', sortKey: 'gsi_sk' },
} as const satisfies Record<string, IndexDesign>;

export const AUDIT_ATTRIBUTES = [
  'audit_id',
  'time',
  'actor',
  'method',
  'roles',
  'tenant',
  'action',
  'route',
  'targets',
  'outcome',
  'request_id',
  'source_ip',
  'user_agent',
  'reason',
] as const;

export const AUDIT_TABLE: TableDesign = {
  id: 'Audit',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: Object.values(AuditIndex),
  projectedAttributes: AUDIT_ATTRIBUTES,
  timeToLiveAttribute: 'expires_at_epoch',
};
