/**
 * The workflows table, as plain data: the CDK data stack and the local runtime both create it from this,
 * so the emulator's table always matches the deployed one.
 *
 * Item collection per workflow (pk = `WF#<id>`):
 *   sk = `HEAD`          the current workflow: metadata, definition (JSON), revision; the only item indexed
 *   sk = `V#0000000001`  one immutable definition snapshot per version
 *   sk = `W#<word>`      one per indexed word, for search (the word-prefix index)
 *   sk = `X#SCHED#<id>`  one per schedule of the workflow (schedule-items.ts; the schedules index), after `W#`
 * Counts (statistics, listing totals) live in their own partitions, `COUNT#ALL` and `COUNT#T#<tenant>`, one
 * item per counted dimension (workflow-counters.ts).
 * Listing indexes hold only HEAD items (sparse: version and word items carry no listing keys) and project a
 * summary, never the definition, so a 300 KB definition is not copied into every index.
 */

export interface IndexDesign {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  /** Non-key attributes copied into this index, when not the table's `projectedAttributes`. */
  readonly projectedAttributes?: readonly string[];
}

export interface TableDesign {
  /** Logical name; the physical name comes from configuration. */
  readonly id: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly indexes: readonly IndexDesign[];
  /** Non-key attributes copied into every index. */
  readonly projectedAttributes: readonly string[];
  /**
   * A number attribute (epoch seconds) after which DynamoDB deletes the item (within days, so readers still
   * filter expired items themselves; the local emulator has no TTL at all).
   */
  readonly timeToLiveAttribute?: string;
}

/** What an index copies besides its keys: its own list, or the table's. */
export function projectionOf(design: TableDesign, index: IndexDesign): readonly string[] {
  return index.projectedAttributes ?? design.projectedAttributes;
}

/**
 * `all` holds every tenant's workflows (admins' listings); the other partitions are per tenant
 * (`T#<tenant>#...`), so a tenant's listing reads its own items only.
 */
export const WorkflowIndex = {
  all: { indexName: 'all-by-created', partitionKey: 'gsi_all_pk', sortKey: 'gsi_all_sk' },
  byTenant: { indexName: 'tenant-by-created', partitionKey: 'gsi_tenant_pk', sortKey: 'gsi_tenant_sk' },
  byStatus: { indexName: 'status-by-created', partitionKey: 'gsi_status_pk', sortKey: 'gsi_status_sk' },
  byCreator: { indexName: 'creator-by-created', partitionKey: 'gsi_creator_pk', sortKey: 'gsi_creator_sk' },
  byCreatorStatus: { indexName: 'creator-status-by-created', partitionKey: 'gsi_creator_status_pk', sortKey: 'gsi_creator_status_sk' },
  /**
   * Search: one item per indexed word of a workflow (core/workflow/search.ts), partitioned by the word's first
   * character and sorted by `<word>#<workflow_id>`, so a prefix is one `begins_with` Query. It copies only
   * which workflow and tenant the word belongs to; the summaries are read by key afterwards.
   */
  byWord: { indexName: 'word-prefix', partitionKey: 'gsi_word_pk', sortKey: 'gsi_word_sk', projectedAttributes: ['workflow_id', 'tenant'] },
  /**
   * Every schedule of every workflow (schedule items, sk `X#SCHED#<schedule_id>`, schedule-items.ts), for the
   * local scheduler's start and a reconciler: one partition `SCHED`, sorted by `<workflow_id>#<schedule_id>`.
   * It copies the table keys and nothing else of use (INCLUDE needs one attribute): the schedules are read by
   * key afterwards, so a recorded firing (`last_firing`) writes no index item, and the table's budget of 100
   * projected attributes across its indexes is not spent on a rarely read list.
   */
  schedules: { indexName: 'schedules', partitionKey: 'gsi_sched_pk', sortKey: 'gsi_sched_sk', projectedAttributes: ['schedule_id'] },
} as const satisfies Record<string, IndexDesign>;

export const SUMMARY_ATTRIBUTES = [
  'workflow_id',
  'name',
  'description',
  'tags',
  'status',
  'version',
  'revision',
  'action_count',
  'action_types',
  'tenant',
  'created_by',
  'created_at',
  'updated_by',
  'updated_at',
] as const;

export const WORKFLOW_TABLE: TableDesign = {
  id: 'Workflows',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: Object.values(WorkflowIndex),
  projectedAttributes: SUMMARY_ATTRIBUTES,
};
