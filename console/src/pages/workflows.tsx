import { useEffect, useId, useState } from 'preact/hooks';
import { useCan, useClient } from '../api/context.ts';
import { WORKFLOW_STATUSES, type WorkflowSummary } from '../api/types.ts';
import { ErrorBox, Loading } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { Pager } from '../components/pager.tsx';
import { StatusBadge } from '../components/status-badge.tsx';
import { useAsync } from '../hooks/use-async.ts';
import { useTitle } from '../hooks/use-title.ts';
import { formatTime } from '../lib/format.ts';
import { navigate, queryString } from '../router.ts';

const PAGE_SIZE = 20;

interface Filters {
  readonly q: string;
  readonly status: string;
  readonly createdBy: string;
  readonly page: number;
}

const filtersOf = (query: URLSearchParams): Filters => ({
  q: query.get('q') ?? '',
  status: query.get('status') ?? '',
  createdBy: query.get('created_by') ?? '',
  page: Math.max(1, Number.parseInt(query.get('page') ?? '1', 10) || 1),
});

/**
 * Workflows, newest first, by page; with a search the API's word search answers instead (no pages: its best
 * matches), and the status and creator filters narrow its results here. The filters live in the URL, so
 * back, forward and a shared link show the same list.
 */
export function WorkflowsPage({ query }: { readonly query: URLSearchParams }) {
  useTitle('Workflows');
  const client = useClient();
  const canWrite = useCan('operator');
  const filters = filtersOf(query);
  const [draft, setDraft] = useState({ q: filters.q, createdBy: filters.createdBy });
  const ids = useId();
  useEffect(() => setDraft({ q: filters.q, createdBy: filters.createdBy }), [filters.q, filters.createdBy]);

  const apply = (next: Partial<Filters>) => {
    const merged = { ...filters, page: 1, ...next };
    navigate(`/workflows${queryString({ q: merged.q, status: merged.status, created_by: merged.createdBy, page: merged.page > 1 ? merged.page : undefined })}`, { replace: true });
  };

  const list = useAsync(async (): Promise<{ rows: readonly WorkflowSummary[]; total: number; hasMore: boolean; searched: boolean }> => {
    if (filters.q.trim() !== '') {
      const found = await client.call('searchWorkflows', { query: { q: filters.q.trim(), limit: 100 } });
      const rows = found.results.filter((row) => (!filters.status || row.status === filters.status) && (!filters.createdBy || row.created_by === filters.createdBy));
      return { rows, total: rows.length, hasMore: false, searched: true };
    }
    const page = await client.call('listWorkflows', {
      query: { page: filters.page, page_size: PAGE_SIZE, status: filters.status || undefined, created_by: filters.createdBy || undefined },
    });
    return { rows: page.workflows, total: page.total, hasMore: page.has_more, searched: false };
  }, [filters.q, filters.status, filters.createdBy, filters.page]);

  return (
    <>
      <div class="page-head">
        <h1>Workflows</h1>
        {canWrite && (
          <Link to="/workflows/new" class="button">
            New workflow
          </Link>
        )}
      </div>
      <form
        class="filters"
        role="search"
        aria-label="Find workflows"
        onSubmit={(event) => {
          event.preventDefault();
          apply({ q: draft.q, createdBy: draft.createdBy });
        }}
      >
        <div class="field">
          <label for={`${ids}-q`}>Search</label>
          <input id={`${ids}-q`} type="search" value={draft.q} placeholder="name, tag or description" maxLength={200} onInput={(event) => setDraft({ ...draft, q: event.currentTarget.value })} />
        </div>
        <div class="field">
          <label for={`${ids}-status`}>Status</label>
          <select id={`${ids}-status`} value={filters.status} onChange={(event) => apply({ status: event.currentTarget.value })}>
            <option value="">any</option>
            {WORKFLOW_STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={`${ids}-creator`}>Created by</label>
          <input id={`${ids}-creator`} type="text" value={draft.createdBy} placeholder="user@example.com" onInput={(event) => setDraft({ ...draft, createdBy: event.currentTarget.value })} />
        </div>
        <div class="field actions">
          <button type="submit">Apply</button>
          {(filters.q || filters.status || filters.createdBy) && (
            <button type="button" class="secondary" onClick={() => apply({ q: '', status: '', createdBy: '' })}>
              Clear
            </button>
          )}
        </div>
      </form>
      <ErrorBox error={list.error} title="Could not list workflows" onRetry={list.reload} />
      {list.loading && !list.data && <Loading what="workflows" />}
      {list.data && (
        <>
          <div class="table-wrap" aria-busy={list.loading}>
            <table class="data">
              <caption class="visually-hidden">Workflows</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Version</th>
                  <th scope="col">Actions</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Created by</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {list.data.rows.map((row) => (
                  <tr key={row.workflow_id}>
                    <td>
                      <Link to={`/workflows/${encodeURIComponent(row.workflow_id)}`}>{row.name}</Link>
                      {row.description && <div class="muted small">{row.description}</div>}
                    </td>
                    <td>
                      <StatusBadge status={row.status} />
                    </td>
                    <td>{row.version}</td>
                    <td title={Object.entries(row.action_types).map(([type, count]) => `${count} ${type}`).join(', ')}>{row.action_count}</td>
                    <td>{row.tags.join(', ')}</td>
                    <td>{row.created_by}</td>
                    <td>{formatTime(row.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {list.data.rows.length === 0 && <p class="empty">No workflow matches these filters.</p>}
          {list.data.searched ? (
            <p class="muted" aria-live="polite">
              {list.data.total} {list.data.total === 1 ? 'match' : 'matches'} (the best 100 at most)
            </p>
          ) : (
            <Pager
              page={filters.page}
              hasMore={list.data.hasMore}
              onPage={(page) => apply({ page })}
              summary={`Page ${filters.page} · ${list.data.hasMore ? `at least ${list.data.total}` : list.data.total} workflows`}
            />
          )}
        </>
      )}
    </>
  );
}
