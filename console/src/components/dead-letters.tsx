import { useId, useState } from 'preact/hooks';
import type { ResponseOf } from '../../../client/index.ts';
import { useCan, useClient } from '../api/context.ts';
import type { QueueStats } from '../api/types.ts';
import { useAsync } from '../hooks/use-async.ts';
import { formatAge, shortId } from '../lib/format.ts';
import { ErrorBox, Loading, Notice } from './feedback.tsx';
import { Link } from './link.tsx';

type Queue = QueueStats['queue'];
type RetryResult = ResponseOf<'retryDeadLetters'>;

/** Dead letters: each queue's counts and breakdowns, its messages, and retries (by message, by run, or all). */
export function DeadLetters() {
  const isAdmin = useCan('admin');
  const canRetry = useCan('operator');
  const [result, setResult] = useState<RetryResult | undefined>(undefined);
  return (
    <>
      {isAdmin ? <QueueOverview onRetried={setResult} /> : <Notice>Dead-letter statistics and messages need the admin role. Operators may retry a run’s dead letters by its id.</Notice>}
      {canRetry && <RetryByRun onRetried={setResult} />}
      {result && <RetryOutcome result={result} />}
    </>
  );
}

function QueueOverview({ onRetried }: { readonly onRetried: (result: RetryResult) => void }) {
  const client = useClient();
  const stats = useAsync(() => client.call('deadLetterStats'), []);
  const [open, setOpen] = useState<Queue | undefined>(undefined);
  if (stats.error !== undefined) return <ErrorBox error={stats.error} title="Could not read the dead-letter queues" onRetry={stats.reload} />;
  if (!stats.data) return <Loading what="dead-letter statistics" />;
  return (
    <>
      <div class="button-row">
        <button type="button" class="secondary" onClick={stats.reload}>
          Refresh
        </button>
      </div>
      <div class="cards">
        {stats.data.queues.map((queue) => (
          <section key={queue.queue} class="card" aria-labelledby={`dlq-${queue.queue}`} data-queue={queue.queue}>
            <h3 id={`dlq-${queue.queue}`}>{queue.queue}</h3>
            <dl class="facts">
              <dt>Waiting</dt>
              <dd>{queue.visible}</dd>
              <dt>In flight</dt>
              <dd>{queue.in_flight}</dd>
              <dt>Oldest</dt>
              <dd>{formatAge(queue.oldest_message_age_seconds)}</dd>
            </dl>
            <Breakdown title="By error" rows={queue.by_error_type.map((row) => [row.error_type, row.count])} />
            <Breakdown title="By workflow and action" rows={queue.by_action.map((row) => [`${shortId(row.workflow_id)} / ${row.action_id}`, row.count])} />
            {!queue.breakdown_complete && <p class="small muted">Breakdown of the first {queue.sampled} messages.</p>}
            <button type="button" class="secondary" aria-expanded={open === queue.queue} onClick={() => setOpen(open === queue.queue ? undefined : queue.queue)}>
              {open === queue.queue ? 'Hide messages' : 'Show messages'}
            </button>
          </section>
        ))}
      </div>
      {open && (
        <Messages
          key={open}
          queue={open}
          onRetried={(result) => {
            onRetried(result);
            stats.reload();
          }}
        />
      )}
    </>
  );
}

function Breakdown({ title, rows }: { readonly title: string; readonly rows: readonly (readonly [string, number])[] }) {
  if (rows.length === 0) return null;
  return (
    <details>
      <summary>{title}</summary>
      <ul class="small">
        {rows.map(([label, count]) => (
          <li key={label}>
            {label}: {count}
          </li>
        ))}
      </ul>
    </details>
  );
}

function Messages({ queue, onRetried }: { readonly queue: Queue; readonly onRetried: (result: RetryResult) => void }) {
  const client = useClient();
  const messages = useAsync(() => client.call('listDeadLetters', { query: { queue, limit: 50 } }), [queue]);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [retry, setRetry] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: undefined });
  const send = async (body: { message_ids: string[] } | { all: true; max: number }) => {
    setRetry({ busy: true, error: undefined });
    try {
      onRetried(await client.call('retryDeadLetters', { body: { queue, ...body } }));
      setChosen(new Set());
      setRetry({ busy: false, error: undefined });
      messages.reload();
    } catch (error) {
      setRetry({ busy: false, error });
    }
  };
  if (messages.error !== undefined) return <ErrorBox error={messages.error} title="Could not read the messages" onRetry={messages.reload} />;
  if (!messages.data) return <Loading what="messages" />;
  return (
    <section aria-label={`Messages of ${queue}`}>
      <h3>Messages of {queue}</h3>
      {messages.data.messages.length === 0 ? (
        <p class="empty">The queue is empty.</p>
      ) : (
        <>
          <div class="table-wrap">
            <table class="data">
              <thead>
                <tr>
                  <th scope="col">Retry</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Run / action</th>
                  <th scope="col">Error</th>
                  <th scope="col">Age</th>
                </tr>
              </thead>
              <tbody>
                {messages.data.messages.map((message) => (
                  <tr key={message.message_id}>
                    <td>
                      <input
                        type="checkbox"
                        aria-label={`Retry message ${message.message_id}`}
                        checked={chosen.has(message.message_id)}
                        onChange={(event) => {
                          const next = new Set(chosen);
                          if (event.currentTarget.checked) next.add(message.message_id);
                          else next.delete(message.message_id);
                          setChosen(next);
                        }}
                      />
                    </td>
                    <td>{message.kind.replace('_', ' ')}</td>
                    <td>
                      {message.execution_id ? <Link to={`/runs/${encodeURIComponent(message.execution_id)}`}>{shortId(message.execution_id)}</Link> : '—'}
                      {message.action_id && <> / <code>{message.action_id}</code></>}
                    </td>
                    <td>
                      <strong>{message.error_type}</strong>
                      {message.error_message && <div class="small pre-wrap">{message.error_message}</div>}
                    </td>
                    <td>{formatAge(message.age_seconds)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="button-row">
            <button type="button" disabled={retry.busy || chosen.size === 0} onClick={() => void send({ message_ids: [...chosen] })}>
              Retry {chosen.size || ''} selected
            </button>
            <button type="button" class="secondary" disabled={retry.busy} onClick={() => void send({ all: true, max: 100 })}>
              Retry all (up to 100)
            </button>
          </div>
        </>
      )}
      <ErrorBox error={retry.error} title="Not retried" />
    </section>
  );
}

function RetryByRun({ onRetried }: { readonly onRetried: (result: RetryResult) => void }) {
  const client = useClient();
  const id = useId();
  const [executionId, setExecutionId] = useState('');
  const [state, setState] = useState<{ busy: boolean; error: unknown }>({ busy: false, error: undefined });
  return (
    <form
      class="filters"
      onSubmit={async (event) => {
        event.preventDefault();
        setState({ busy: true, error: undefined });
        try {
          onRetried(await client.call('retryDeadLetters', { body: { queue: 'actions', execution_id: executionId.trim() } }));
          setState({ busy: false, error: undefined });
        } catch (error) {
          setState({ busy: false, error });
        }
      }}
    >
      <div class="field">
        <label for={id}>Retry the failed actions of run</label>
        <input id={id} required value={executionId} placeholder="execution id" onInput={(event) => setExecutionId(event.currentTarget.value)} />
      </div>
      <div class="field actions">
        <button type="submit" disabled={state.busy || executionId.trim() === ''}>
          Retry
        </button>
      </div>
      <ErrorBox error={state.error} title="Not retried" />
    </form>
  );
}

function RetryOutcome({ result }: { readonly result: RetryResult }) {
  const counts = Object.entries(result.counts).filter(([, count]) => count > 0);
  return (
    <Notice kind={result.counts.retried > 0 ? 'success' : 'warning'}>
      <strong>Retry of {result.queue}:</strong> {counts.length === 0 ? 'no message matched.' : counts.map(([outcome, count]) => `${count} ${outcome.replace('_', ' ')}`).join(', ')}
      <ul class="small">
        {result.results.map((row) => (
          <li key={row.message_id}>
            <code>{row.message_id.slice(0, 12)}</code> {row.outcome.replace('_', ' ')}
            {row.reason ? `: ${row.reason}` : ''}
            {row.execution_id && (
              <>
                {' '}
                (<Link to={`/runs/${encodeURIComponent(row.execution_id)}`}>run {shortId(row.execution_id)}</Link>)
              </>
            )}
          </li>
        ))}
      </ul>
    </Notice>
  );
}
