import type { IndexDesign, TableDesign } from './workflow-table.ts';

/**
 * The service registry's table, as plain data (like workflow-table.ts): the CDK data stack and the local
 * runtime both create it from this.
 *
 * One item collection per service (pk = `SVC#<name>`):
 *   sk = `INST#<instance_id>`   one instance: URL, paths, version, tags, metadata, auth reference, TTL, health, circuit
 * so one Query reads everything the action runner needs about a service (its instances, their health and
 * circuits), and health and circuit updates touch one item each.
 *
 * Listing never scans: instances carry `gsi_all_pk = INSTANCE`, `gsi_all_sk = <name>#<instance_id>`, so one
 * Query on the `all-by-name` index reads every instance in name order. A constant partition is fine here: a
 * registry holds tens to hundreds of instances and is read far more often than written.
 *
 * Instances registered with a TTL carry `expires_at_epoch`, DynamoDB's TTL attribute.
 */

export const RegistryIndex = {
  all: { indexName: 'all-by-name', partitionKey: 'gsi_all_pk', sortKey: 'gsi_all_sk' },
} as const satisfies Record<string, IndexDesign>;

/** Everything a listing returns: the whole instance (small: metadata capped at 16 KB, ten health checks). */
export const INSTANCE_ATTRIBUTES = [
  'name',
  'instance_id',
  'url',
  'health_path',
  'openapi_path',
  'version',
  'tags',
  'metadata',
  // How the orchestrator authenticates to the instance: a secret *reference* (never a value). Projected, as the
  // health sweep reads instances through the listing index. Adding it changed the index's projection: an
  // existing table's index is replaced on deploy (see docs/adr/0004).
  'auth',
  'registered_at',
  'updated_at',
  'ttl_seconds',
  'expires_at',
  'health',
  'circuit',
] as const;

export const REGISTRY_TABLE: TableDesign = {
  id: 'Registry',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: Object.values(RegistryIndex),
  projectedAttributes: INSTANCE_ATTRIBUTES,
  timeToLiveAttribute: 'expires_at_epoch',
};
