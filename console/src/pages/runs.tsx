import { useId, useState } from 'preact/hooks';
import { useClient } from '../api/context.ts';
import { RUN_STATUSES, type Execution } from '../api/types.ts';
import { ErrorBox, Loading } from '../components/feedback.tsx';
import { RunsTable } from '../components/runs-table.tsx';
import { useAsync } from '../hooks/use-async.ts';
import { useTitle } from '../hooks/use-title.ts';
import { navigate, queryString } from '../router.ts';

const WINDOWS = [
  { id: '', label: 'any time', ms: undefined },
  { id: '1h', label: 'last hour', ms: 3_600_000 },
  { id: '24h', label: 'last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'last 7 days', ms: 604_800_000 },
  { id: 'custom', label: 'since a date…', ms: undefined },
] as const;

/** `datetime-local` text (the reader's own time) as an ISO instant, or undefined when it is not a time. */
function instantOf(local: string): string | undefined {
  const time = new Date(local);
  return local && !Number.isNaN(time.getTime()) ? time.toISOString() : undefined;
}

/** Recent runs across workflows, newest first: by status and since when, a page at a time. */
export function RunsPage({ query }: { readonly query: URLSearchParams }) {
  useTitle('Runs');
  const client = useClient();
  const ids = useId();
  const status = query.get('status') ?? '';
  const window_ = WINDOWS.find((candidate) => candidate.id === query.get('window')) ?? WINDOWS[0];
  const from = query.get('from') ?? '';
  const apply = (next: { status?: string; window?: string; from?: string }) => {
    const windowId = next.window ?? window_.id;
    navigate(`/runs${queryString({ status: next.status ?? status, window: windowId, from: windowId === 'custom' ? (next.from ?? from) : undefined })}`, { replace: true });
  };

  // The window becomes a time when the first page is read, and "Load more" pages that same list.
  const [pages, setPages] = useState<{ key: string; runs: readonly Execution[]; next: string | null; since: string | undefined }>({ key: '', runs: [], next: null, since: undefined });
  const key = `${status}|${window_.id}|${from}`;
  const first = useAsync(async () => {
    const since = window_.id === 'custom' ? instantOf(from) : window_.ms === undefined ? undefined : new Date(Date.now() - window_.ms).toISOString();
    const page = await client.call('executionHistory', { query: { limit: 25, status: status || undefined, since } });
    setPages({ key, runs: page.executions, next: page.next_token, since });
    return page;
  }, [key]);
  const [more, setMore] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: undefined });
  const loadMore = async () => {
    if (!pages.next) return;
    setMore({ busy: true, error: undefined });
    try {
      const page = await client.call('executionHistory', { query: { limit: 25, status: status || undefined, since: pages.since, next_token: pages.next } });
      setPages({ ...pages, runs: [...pages.runs, ...page.executions], next: page.next_token });
      setMore({ busy: false, error: undefined });
    } catch (error) {
      setMore({ busy: false, error });
    }
  };

  return (
    <>
      <div class="page-head">
        <h1>Runs</h1>
        <button type="button" class="secondary" onClick={first.reload}>
          Refresh
        </button>
      </div>
      <div class="filters" role="search" aria-label="Filter runs">
        <div class="field">
          <label for={`${ids}-status`}>Status</label>
          <select id={`${ids}-status`} value={status} onChange={(event) => apply({ status: event.currentTarget.value })}>
            <option value="">any</option>
            {RUN_STATUSES.map((candidate) => (
              <option key={candidate} value={candidate}>
                {candidate.replace('_', ' ')}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={`${ids}-window`}>Started</label>
          <select id={`${ids}-window`} value={window_.id} onChange={(event) => apply({ window: event.currentTarget.value })}>
            {WINDOWS.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                {candidate.label}
              </option>
            ))}
          </select>
        </div>
        {window_.id === 'custom' && (
          <div class="field">
            <label for={`${ids}-from`}>Since</label>
            <input id={`${ids}-from`} type="datetime-local" value={from} onChange={(event) => apply({ from: event.currentTarget.value })} />
          </div>
        )}
      </div>
      <ErrorBox error={first.error} title="Could not list runs" onRetry={first.reload} />
      {first.loading && pages.key !== key && <Loading what="runs" />}
      {pages.key === key && (
        <div aria-busy={first.loading}>
          <RunsTable runs={pages.runs} />
          <ErrorBox error={more.error} title="Could not load more runs" />
          {pages.next && (
            <button type="button" class="secondary" disabled={more.busy} onClick={() => void loadMore()}>
              {more.busy ? 'Loading…' : 'Load more'}
            </button>
          )}
        </div>
      )}
    </>
  );
}
