import { useClient } from '../api/context.ts';
import { useAsync } from '../hooks/use-async.ts';
import { ErrorBox, Loading } from './feedback.tsx';
import { RunsTable } from './runs-table.tsx';

/** A workflow's latest runs. */
export function WorkflowRuns({ workflowId }: { readonly workflowId: string }) {
  const client = useClient();
  const runs = useAsync(() => client.call('listWorkflowExecutions', { params: { workflow_id: workflowId }, query: { limit: 25 } }), [workflowId]);
  if (runs.error !== undefined) return <ErrorBox error={runs.error} title="Could not list the runs" onRetry={runs.reload} />;
  if (!runs.data) return <Loading what="runs" />;
  return (
    <>
      <RunsTable runs={runs.data.executions} showWorkflow={false} />
      <button type="button" class="secondary" onClick={runs.reload}>
        Refresh
      </button>
    </>
  );
}
