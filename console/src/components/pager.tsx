/** Previous and next buttons with where the list stands, for lists paged by number. */
export function Pager({ page, hasMore, onPage, summary }: { readonly page: number; readonly hasMore: boolean; readonly onPage: (page: number) => void; readonly summary: string }) {
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" class="secondary" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        ← Previous
      </button>
      <span aria-live="polite">{summary}</span>
      <button type="button" class="secondary" disabled={!hasMore} onClick={() => onPage(page + 1)}>
        Next →
      </button>
    </nav>
  );
}
