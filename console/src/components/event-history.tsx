import { useId, useState } from 'preact/hooks';
import { useClient } from '../api/context.ts';
import type { EventEnvelope } from '../api/types.ts';
import { useAsync } from '../hooks/use-async.ts';
import { formatTime, shortId } from '../lib/format.ts';
import { ErrorBox, JsonBlock, Loading } from './feedback.tsx';
import { Link } from './link.tsx';

const FAMILIES = ['orchestrator.run.*', 'orchestrator.action.*', 'orchestrator.workflow.*', 'orchestrator.service.*', 'orchestrator.dlq.*'] as const;

const text = (data: Readonly<Record<string, unknown>>, key: string): string | undefined => (typeof data[key] === 'string' ? (data[key] as string) : undefined);

/** The recorded events, newest first, by family and run. */
export function EventHistory() {
  const client = useClient();
  const ids = useId();
  const [filter, setFilter] = useState({ type: '', executionId: '' });
  const [draft, setDraft] = useState('');
  const [events, setEvents] = useState<{ rows: readonly EventEnvelope[]; next: string | null }>({ rows: [], next: null });
  const query = { limit: 50, type: filter.type || undefined, execution_id: filter.executionId || undefined };
  const first = useAsync(async () => {
    const page = await client.call('getEventHistory', { query });
    setEvents({ rows: page.events, next: page.next_token });
    return page;
  }, [filter.type, filter.executionId]);
  const [more, setMore] = useState<unknown>(undefined);
  const loadMore = async () => {
    try {
      const page = await client.call('getEventHistory', { query: { ...query, next_token: events.next ?? undefined } });
      setEvents({ rows: [...events.rows, ...page.events], next: page.next_token });
    } catch (error) {
      setMore(error);
    }
  };

  return (
    <>
      <form
        class="filters"
        role="search"
        aria-label="Filter events"
        onSubmit={(event) => {
          event.preventDefault();
          setFilter({ ...filter, executionId: draft.trim() });
        }}
      >
        <div class="field">
          <label for={`${ids}-type`}>Type</label>
          <select id={`${ids}-type`} value={filter.type} onChange={(event) => setFilter({ ...filter, type: event.currentTarget.value })}>
            <option value="">any</option>
            {FAMILIES.map((family) => (
              <option key={family} value={family}>
                {family}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={`${ids}-run`}>Run (execution id)</label>
          <input id={`${ids}-run`} value={draft} onInput={(event) => setDraft(event.currentTarget.value)} />
        </div>
        <div class="field actions">
          <button type="submit">Apply</button>
          <button type="button" class="secondary" onClick={first.reload}>
            Refresh
          </button>
        </div>
      </form>
      <ErrorBox error={first.error} title="Could not read the events" onRetry={first.reload} />
      {first.loading && events.rows.length === 0 && <Loading what="events" />}
      {!first.loading && events.rows.length === 0 && first.error === undefined && <p class="empty">No events recorded with these filters.</p>}
      {events.rows.length > 0 && (
        <div class="table-wrap">
          <table class="data">
            <caption class="visually-hidden">Recent events, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Type</th>
                <th scope="col">About</th>
                <th scope="col">Data</th>
              </tr>
            </thead>
            <tbody>
              {events.rows.map((event) => {
                const run = text(event.data, 'execution_id');
                const status = text(event.data, 'status');
                return (
                  <tr key={event.event_id}>
                    <td>{formatTime(event.time)}</td>
                    <td>
                      <code>{event.type.replace('orchestrator.', '')}</code>
                      {event.replayed && <span class="small"> (replayed)</span>}
                    </td>
                    <td>
                      {run ? <Link to={`/runs/${encodeURIComponent(run)}`}>run {shortId(run)}</Link> : (event.subject ?? '—')}
                      {text(event.data, 'action_id') && <> / <code>{text(event.data, 'action_id')}</code></>}
                      {status && <span class="small"> · {status}</span>}
                    </td>
                    <td>
                      <details>
                        <summary>data</summary>
                        <JsonBlock value={event.data} label={`Data of event ${event.event_id}`} />
                      </details>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <ErrorBox error={more} title="Could not load more events" />
      {events.next && (
        <button type="button" class="secondary" onClick={() => void loadMore()}>
          Load more
        </button>
      )}
    </>
  );
}
