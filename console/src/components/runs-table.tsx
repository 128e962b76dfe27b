import type { Execution } from '../api/types.ts';
import { durationBetween, formatDuration, formatTime, shortId } from '../lib/format.ts';
import { Link } from './link.tsx';
import { StatusBadge } from './status-badge.tsx';

/** Runs as a table: each links to its page. */
export function RunsTable({ runs, showWorkflow = true }: { readonly runs: readonly Execution[]; readonly showWorkflow?: boolean }) {
  if (runs.length === 0) return <p class="empty">No runs.</p>;
  return (
    <div class="table-wrap">
      <table class="data">
        <caption class="visually-hidden">Runs</caption>
        <thead>
          <tr>
            <th scope="col">Run</th>
            {showWorkflow && <th scope="col">Workflow</th>}
            <th scope="col">Status</th>
            <th scope="col">Progress</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Started by</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.execution_id}>
              <td>
                <Link to={`/runs/${encodeURIComponent(run.execution_id)}`}>
                  <code>{shortId(run.execution_id)}</code>
                </Link>
              </td>
              {showWorkflow && (
                <td>
                  <Link to={`/workflows/${encodeURIComponent(run.workflow_id)}`}>
                    <code>{shortId(run.workflow_id)}</code>
                  </Link>{' '}
                  v{run.workflow_version}
                </td>
              )}
              <td>
                <StatusBadge status={run.status} />
              </td>
              <td>
                {run.progress.completed}/{run.progress.total}
              </td>
              <td>{formatTime(run.started_at ?? run.created_at)}</td>
              <td>{formatDuration(durationBetween(run.started_at ?? run.created_at, run.ended_at))}</td>
              <td>{run.started_by}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
