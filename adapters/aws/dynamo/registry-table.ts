import type { IndexDesign, TableDesign } from './workflow-table.ts';

/**
 * The service registry's table, as plain data (like workflow-table.ts): the CDK data stack and the local
 * runtime both create it from this.
 *
 * One item collection per service (pk = `SVC#<name>`):
 *   sk = `SERVICE`   the registration: url, health and OpenAPI paths, version, metadata, timestamps
 * Later items in the same collection (instances, health, circuit state) get sort keys of their own.
 *
 * Listing never scans: registrations carry `gsi_all_pk = SERVICE`, `gsi_all_sk = <name>`, so one Query on
 * the `all-by-name` index reads every service in name order. A constant partition is fine here: a registry
 * holds tens to hundreds of services and is read far more often than written.
 */

export const RegistryIndex = {
  all: { indexName: 'all-by-name', partitionKey: 'gsi_all_pk', sortKey: 'gsi_all_sk' },
} as const satisfies Record<string, IndexDesign>;

/** Everything a listing returns: the registration itself (small, metadata capped at 16 KB). */
export const REGISTRATION_ATTRIBUTES = ['name', 'url', 'health_path', 'openapi_path', 'version', 'metadata', 'registered_at', 'updated_at'] as const;

export const REGISTRY_TABLE: TableDesign = {
  id: 'Registry',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: Object.values(RegistryIndex),
  projectedAttributes: REGISTRATION_ATTRIBUTES,
};
