import { durationBetween, formatDuration } from '../lib/format.ts';

export interface TimelineRow {
  readonly id: string;
  readonly label: string;
  readonly status: string;
  readonly start?: string | undefined;
  readonly end?: string | undefined;
}

/**
 * One bar per row from its start to its end (to now while it runs), on one time axis, so that work that
 * overlapped shows as bars that overlap. Each row also says its offset and duration in words.
 */
export function Timeline({ rows, now, label, onSelect }: { readonly rows: readonly TimelineRow[]; readonly now: number; readonly label: string; readonly onSelect?: (id: string) => void }) {
  const starts = rows.flatMap((row) => (row.start ? [Date.parse(row.start)] : [])).filter(Number.isFinite);
  if (starts.length === 0) return <p class="muted">Nothing has started yet.</p>;
  const origin = Math.min(...starts);
  const ends = rows.flatMap((row) => (row.start ? [row.end ? Date.parse(row.end) : now] : [])).filter(Number.isFinite);
  const span = Math.max(1, Math.max(...ends) - origin);
  const ticks = [0, 0.25, 0.5, 0.75, 1];

  return (
    <figure class="timeline" aria-label={label}>
      <div class="timeline-axis" aria-hidden="true">
        {ticks.map((tick) => (
          <span key={tick} style={{ left: `${tick * 100}%` }}>
            {formatDuration(tick * span)}
          </span>
        ))}
      </div>
      <ol class="timeline-rows">
        {rows.map((row) => {
          const start = row.start ? Date.parse(row.start) : undefined;
          const duration = durationBetween(row.start, row.end, now);
          const left = start === undefined ? 0 : ((start - origin) / span) * 100;
          const width = duration === undefined ? 0 : Math.max(0.6, (duration / span) * 100);
          const words = start === undefined ? 'not started' : `+${formatDuration(start - origin)}, ${row.end ? 'took' : 'running for'} ${formatDuration(duration)}`;
          return (
            <li key={row.id} class="timeline-row" data-action-id={row.id}>
              {onSelect ? (
                <button type="button" class="link-button timeline-label" onClick={() => onSelect(row.id)}>
                  {row.label}
                </button>
              ) : (
                <span class="timeline-label">{row.label}</span>
              )}
              <span class="timeline-track" aria-hidden="true">
                {start !== undefined && <span class={`timeline-bar status-${row.status}`} style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }} />}
              </span>
              <span class="timeline-words">
                {row.status.replace('_', ' ')} · {words}
              </span>
            </li>
          );
        })}
      </ol>
    </figure>
  );
}
