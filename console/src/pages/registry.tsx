import { useId, useState } from 'preact/hooks';
import { useCan, useClient } from '../api/context.ts';
import type { Service, ServiceInstance } from '../api/types.ts';
import { ErrorBox, Loading, Notice } from '../components/feedback.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useAsync } from '../hooks/use-async.ts';
import { useTitle } from '../hooks/use-title.ts';
import { formatTime } from '../lib/format.ts';
import { navigate, queryString } from '../router.ts';

const HEALTH = ['healthy', 'degraded', 'unhealthy', 'unknown'] as const;

/** The service registry: each service's live instances, their health with recent checks, and circuits. */
export function RegistryPage({ query }: { readonly query: URLSearchParams }) {
  useTitle('Registry');
  const client = useClient();
  const isAdmin = useCan('admin');
  const ids = useId();
  const status = query.get('status') ?? '';
  const tag = query.get('tag') ?? '';
  const [tagDraft, setTagDraft] = useState(tag);
  const services = useAsync(() => client.call('listServices', { query: { status: status || undefined, tag: tag || undefined } }), [status, tag]);
  const [check, setCheck] = useState<{ busy: boolean; error: unknown; summary?: string }>({ busy: false, error: undefined });

  const runCheck = async (name?: string) => {
    setCheck({ busy: true, error: undefined });
    try {
      const result = await client.call('runHealthCheck', { query: { name } });
      setCheck({ busy: false, error: undefined, summary: `Checked ${result.checked} instance${result.checked === 1 ? '' : 's'}: ${Object.entries(result.by_status).map(([health, count]) => `${count} ${health}`).join(', ') || 'none'}.` });
      services.reload();
    } catch (error) {
      setCheck({ busy: false, error });
    }
  };
  const apply = (next: { status?: string; tag?: string }) => navigate(`/registry${queryString({ status: next.status ?? status, tag: next.tag ?? tag })}`, { replace: true });

  return (
    <>
      <div class="page-head">
        <h1>Registry</h1>
        <div class="button-row">
          {isAdmin && (
            <button type="button" disabled={check.busy} onClick={() => void runCheck()}>
              {check.busy ? 'Checking…' : 'Check health now'}
            </button>
          )}
          <button type="button" class="secondary" onClick={services.reload}>
            Refresh
          </button>
        </div>
      </div>
      <form
        class="filters"
        role="search"
        aria-label="Filter services"
        onSubmit={(event) => {
          event.preventDefault();
          apply({ tag: tagDraft.trim() });
        }}
      >
        <div class="field">
          <label for={`${ids}-status`}>Status</label>
          <select id={`${ids}-status`} value={status} onChange={(event) => apply({ status: event.currentTarget.value })}>
            <option value="">any</option>
            {HEALTH.map((health) => (
              <option key={health} value={health}>
                {health}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={`${ids}-tag`}>Tag</label>
          <input id={`${ids}-tag`} value={tagDraft} maxLength={64} onInput={(event) => setTagDraft(event.currentTarget.value)} />
        </div>
        <div class="field actions">
          <button type="submit">Apply</button>
        </div>
      </form>
      {check.summary && <Notice kind="success">{check.summary}</Notice>}
      <ErrorBox error={check.error} title="The health check did not run" />
      <ErrorBox error={services.error} title="Could not list services" onRetry={services.reload} />
      {!services.data && services.error === undefined && <Loading what="services" />}
      {services.data && (
        <>
          <p class="muted">
            {services.data.total} services, {services.data.instances} live instances
          </p>
          {services.data.services.length === 0 && <p class="empty">No service is registered{status || tag ? ' with these filters' : ''}.</p>}
          {services.data.services.map((service) => (
            <ServiceCard key={service.name} service={service} onCheck={isAdmin ? () => void runCheck(service.name) : undefined} />
          ))}
        </>
      )}
    </>
  );
}

function ServiceCard({ service, onCheck }: { readonly service: Service; readonly onCheck: (() => void) | undefined }) {
  return (
    <section class="card service" aria-labelledby={`service-${service.name}`} data-service={service.name}>
      <div class="page-head">
        <h2 id={`service-${service.name}`}>
          {service.name} <StatusBadge status={service.status} />
        </h2>
        {onCheck && (
          <button type="button" class="secondary" onClick={onCheck}>
            Check {service.name}
          </button>
        )}
      </div>
      <div class="table-wrap">
        <table class="data">
          <caption class="visually-hidden">Instances of {service.name}</caption>
          <thead>
            <tr>
              <th scope="col">Instance</th>
              <th scope="col">Health</th>
              <th scope="col">Last check</th>
              <th scope="col">Circuit</th>
              <th scope="col">Version</th>
              <th scope="col">Expires</th>
            </tr>
          </thead>
          <tbody>
            {service.instances.map((instance) => (
              <InstanceRow key={instance.instance_id} instance={instance} />
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function InstanceRow({ instance }: { readonly instance: ServiceInstance }) {
  const { health, circuit } = instance;
  return (
    <tr>
      <td>
        <code>{instance.instance_id}</code>
        <div class="small muted">{instance.url}</div>
        {instance.tags.length > 0 && <div class="small">{instance.tags.join(', ')}</div>}
      </td>
      <td>
        <StatusBadge status={health.status} />
        {health.consecutive_failures > 0 && <div class="small">{health.consecutive_failures} failures in a row</div>}
      </td>
      <td>
        {formatTime(health.checked_at)}
        {health.latency_ms !== undefined && health.latency_ms !== null && <span class="small"> · {Math.round(health.latency_ms)} ms</span>}
        {health.detail && <div class="small muted">{health.detail}</div>}
        {health.history.length > 0 && (
          <details>
            <summary>Recent checks ({health.history.length})</summary>
            <ol class="checks">
              {health.history.map((entry) => (
                <li key={entry.checked_at}>
                  <StatusBadge status={entry.status} /> {formatTime(entry.checked_at)}
                  {entry.status_code !== undefined && entry.status_code !== null && ` · HTTP ${entry.status_code}`}
                  {entry.latency_ms !== null && ` · ${Math.round(entry.latency_ms)} ms`}
                  {entry.detail && ` · ${entry.detail}`}
                </li>
              ))}
            </ol>
          </details>
        )}
      </td>
      <td>
        <StatusBadge status={circuit.state} />
        {circuit.failures.length > 0 && <div class="small">{circuit.failures.length} recent failures</div>}
        {circuit.opened_at && <div class="small">opened {formatTime(circuit.opened_at)}</div>}
      </td>
      <td>{instance.version ?? '—'}</td>
      <td>{instance.expires_at ? formatTime(instance.expires_at) : 'never'}</td>
    </tr>
  );
}
