import type { IndexDesign, TableDesign } from './workflow-table.ts';

/**
 * The executions table, as plain data (CDK and the local runtime create it from this).
 * One item per execution (pk = `EX#<execution_id>`, sk `EXECUTION`) and one item per action of it beside it
 * (sk `EXECUTION#ACT#<action_id>`, see action-items.ts), so that concurrent actions of one run update their own
 * items, and no write rewrites the whole run: a run of 1,000 actions would pass DynamoDB's 400 KB item limit,
 * and every write is billed for the whole item. Runs written before keep their progress in an `actions` map on
 * the run's item, and keep being updated there. Indexes: by workflow, all (history), and a sparse "active"
 * index holding only pending and running executions (recovery after a restart); action items carry none of
 * their keys, so no index holds them.
 */
export const ExecutionIndex = {
  byWorkflow: { indexName: 'workflow-by-created', partitionKey: 'gsi_wf_pk', sortKey: 'gsi_wf_sk' },
  all: { indexName: 'all-by-created', partitionKey: 'gsi_all_pk', sortKey: 'gsi_all_sk' },
  /** One tenant's runs (`T#<tenant>`): the history a non-admin sees. */
  byTenant: { indexName: 'tenant-by-created', partitionKey: 'gsi_tenant_pk', sortKey: 'gsi_tenant_sk' },
  active: { indexName: 'active', partitionKey: 'gsi_active_pk', sortKey: 'gsi_active_sk' },
} as const satisfies Record<string, IndexDesign>;

export const EXECUTION_TABLE: TableDesign = {
  id: 'Executions',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: Object.values(ExecutionIndex),
  projectedAttributes: [
    'execution_id',
    'workflow_id',
    'workflow_version',
    'status',
    'parameters',
    'trace_id',
    'started_by',
    'tenant',
    'created_at',
    'started_at',
    'ended_at',
    // Only runs written before action items existed have these two: their progress lives in the run's item.
    'actions',
    'action_order',
    'error',
  ],
};

/**
 * Attributes an execution item has that the indexes do not project, so listings leave them out and a read by
 * id shows them: the output (it can be large), and what came after the indexes were deployed (a deployed
 * GSI's projection cannot change in place; it would need a new index).
 */
export const UNPROJECTED_EXECUTION_ATTRIBUTES = ['output', 'warnings', 'redrive_count', 'redrives', 'rerun_of', 'parent_span_id'] as const;

/** The sort key of a run's own item; its action items' sort keys begin with it, nothing else's does. */
export const RUN_SORT_KEY = 'EXECUTION';

/** Prefix of the sort keys of a run's action items: `EXECUTION#ACT#<action_id>`. */
export const ACTION_SORT_KEY_PREFIX = `${RUN_SORT_KEY}#ACT#`;

/**
 * The key of a run's own item. Its item collection (`pk`) also holds its action items (`EXECUTION#ACT#...`),
 * its checkpoints (`CP#...`), its dependency gates (`GATE#...`) and the calls parked while it is paused
 * (`PARK#...`), which no index keys. The run's item and its action items are the only sort keys beginning with
 * `EXECUTION`, so one Query reads a run whole and nothing else of its collection.
 */
export function executionKey(executionId: string): { pk: string; sk: string } {
  return { pk: `EX#${executionId}`, sk: RUN_SORT_KEY };
}

/** The key of one action's item in its run's collection. */
export function actionKey(executionId: string, actionId: string): { pk: string; sk: string } {
  return { pk: executionKey(executionId).pk, sk: `${ACTION_SORT_KEY_PREFIX}${actionId}` };
}
