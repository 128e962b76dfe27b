import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { useClient } from '../api/context.ts';
import type { Trace } from '../api/types.ts';
import { ErrorBox, Loading, Notice } from '../components/feedback.tsx';
import { Link } from '../components/link.tsx';
import { useAsync } from '../hooks/use-async.ts';
import { useTitle } from '../hooks/use-title.ts';
import { formatDuration, formatTime, shortId } from '../lib/format.ts';

type Span = Trace['spans'][number];

const SPAN_STATUS_CLASS: Readonly<Record<Span['status'], string>> = { ok: 'completed', error: 'failed', unset: 'pending' };

/** A trace as a waterfall: each span indented under its parent, its bar placed on the trace's time axis. */
export function TracePage({ id }: { readonly id: string }) {
  useTitle(`Trace ${shortId(id)}`);
  const client = useClient();
  const trace = useAsync(() => client.call('getTrace', { params: { trace_id: id } }), [id]);
  const [open, setOpen] = useState<string | undefined>(undefined);
  if (trace.error !== undefined) return <ErrorBox error={trace.error} title="Could not read the trace" onRetry={trace.reload} />;
  if (!trace.data) return <Loading what="the trace" />;
  const data = trace.data;
  const origin = Date.parse(data.start);
  const span = Math.max(1, data.duration_ms);
  const run = data.spans.find((candidate) => candidate.execution_id)?.execution_id;
  return (
    <>
      <h1>
        Trace <code>{id.slice(0, 12)}…</code>
      </h1>
      <p class="muted">
        {data.span_count} spans · {formatDuration(data.duration_ms)} · from {formatTime(data.start)}
        {run && (
          <>
            {' '}
            · <Link to={`/runs/${encodeURIComponent(run)}`}>run {shortId(run)}</Link>
          </>
        )}
      </p>
      {data.truncated && <Notice kind="warning">The trace has more spans than were read (1,000).</Notice>}
      <ol class="waterfall" aria-label="Spans, each under its parent">
        {data.spans.map((item: Span) => {
          const left = ((Date.parse(item.start) - origin) / span) * 100;
          const width = Math.max(0.5, (item.duration_ms / span) * 100);
          return (
            <li key={item.span_id}>
              <div class="span-name" style={{ paddingLeft: `${Math.min(item.depth, 12)}rem` }}>
                <button type="button" class="link-button" aria-expanded={open === item.span_id} onClick={() => setOpen(open === item.span_id ? undefined : item.span_id)}>
                  {item.name}
                </button>
                <div class="small muted">
                  {item.category} · {item.service} · {formatDuration(item.duration_ms)} · {item.status}
                </div>
              </div>
              <span class="timeline-track" aria-hidden="true">
                <span class={`timeline-bar status-${SPAN_STATUS_CLASS[item.status]}`} style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }} />
              </span>
              {open === item.span_id && (
                <dl class="facts small">
                  {Object.entries(item.attributes).map(([key, value]) => (
                    <Fragment key={key}>
                      <dt>{key}</dt>
                      <dd>{String(value)}</dd>
                    </Fragment>
                  ))}
                </dl>
              )}
            </li>
          );
        })}
      </ol>
    </>
  );
}
