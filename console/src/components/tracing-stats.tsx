import { useId, useState } from 'preact/hooks';
import { useClient } from '../api/context.ts';
import { useAsync } from '../hooks/use-async.ts';
import { formatDuration, shortId } from '../lib/format.ts';
import { navigate } from '../router.ts';
import { ErrorBox, Loading } from './feedback.tsx';

/** Open a trace by id, and the last hour's calls per service and runs per workflow. */
export function TracingOverview() {
  const client = useClient();
  const ids = useId();
  const [traceId, setTraceId] = useState('');
  const stats = useAsync(() => client.call('getTracingStats'), []);
  const valid = /^[0-9a-f]{32}$/.test(traceId.trim());
  return (
    <>
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault();
          if (valid) navigate(`/traces/${traceId.trim()}`);
        }}
      >
        <div class="field wide">
          <label for={`${ids}-trace`}>Trace id</label>
          <input id={`${ids}-trace`} value={traceId} placeholder="32 hex digits, as a run shows it" aria-describedby={`${ids}-trace-help`} onInput={(event) => setTraceId(event.currentTarget.value.toLowerCase())} />
          <span id={`${ids}-trace-help`} class="help">
            A run’s page links to its trace.
          </span>
        </div>
        <div class="field actions">
          <button type="submit" disabled={!valid}>
            Show trace
          </button>
        </div>
      </form>
      <h3>Last hour</h3>
      <ErrorBox error={stats.error} title="Could not read the tracing statistics" onRetry={stats.reload} />
      {!stats.data && stats.error === undefined && <Loading what="statistics" />}
      {stats.data && (
        <div class="grid-2">
          <div class="table-wrap">
            <table class="data">
              <caption>Service calls</caption>
              <thead>
                <tr>
                  <th scope="col">Service</th>
                  <th scope="col">Calls</th>
                  <th scope="col">Error rate</th>
                  <th scope="col">p50</th>
                  <th scope="col">p95</th>
                </tr>
              </thead>
              <tbody>
                {stats.data.services.map((row) => (
                  <tr key={row.service}>
                    <td>{row.service}</td>
                    <td>{row.calls}</td>
                    <td>{(row.error_rate * 100).toFixed(1)}%</td>
                    <td>{formatDuration(row.latency_ms.p50)}</td>
                    <td>{formatDuration(row.latency_ms.p95)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {stats.data.services.length === 0 && <p class="empty">No service calls.</p>}
          </div>
          <div class="table-wrap">
            <table class="data">
              <caption>Runs by workflow</caption>
              <thead>
                <tr>
                  <th scope="col">Workflow</th>
                  <th scope="col">Runs</th>
                  <th scope="col">Failed</th>
                  <th scope="col">Mean duration</th>
                </tr>
              </thead>
              <tbody>
                {stats.data.workflows.map((row) => (
                  <tr key={row.workflow_id}>
                    <td>
                      <code>{shortId(row.workflow_id)}</code>
                    </td>
                    <td>{row.runs}</td>
                    <td>{row.failed}</td>
                    <td>{formatDuration(row.mean_duration_ms)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {stats.data.workflows.length === 0 && <p class="empty">No runs.</p>}
          </div>
        </div>
      )}
    </>
  );
}
