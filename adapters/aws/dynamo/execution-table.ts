import type { IndexDesign, TableDesign } from './workflow-table.ts';

/**
 * The executions table, as plain data (CDK and the local runtime create it from this).
 * One item per execution (pk = `EX#<execution_id>`), per-action progress in a map attribute so that
 * concurrent actions of one run update their own entries atomically. Indexes: by workflow, all (history),
 * and a sparse "active" index holding only pending and running executions (recovery after a restart).
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

/**
 * The key of a run's own item. Its item collection (`pk`) also holds its checkpoints (`CP#...`) and the calls
 * parked while it is paused (`PARK#...`), which no index keys.
 */
export function executionKey(executionId: string): { pk: string; sk: string } {
  return { pk: `EX#${executionId}`, sk: 'EXECUTION' };
}
