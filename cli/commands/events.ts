import { setTimeout as sleep } from 'node:timers/promises';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { isoTime } from '../arguments.ts';
import { runCommand, withGlobalOptions } from '../context.ts';
import { shortTime, type Output } from '../output.ts';

/** Reconnect after this long when the stream's answer ends (in AWS every answer does: the stream is a poll). */
const RECONNECT_MS = 2000;

/** `events tail`: the live event stream, one line per event, until Ctrl-C. */
export function addEventCommands(program: CommandUnknownOpts): void {
  const events = withGlobalOptions(program.command('events').description('what happens in the orchestrator, as it happens'));

  withGlobalOptions(events.command('tail').description('follow events live, one line each (JSON lines with --output json), until Ctrl-C')
    .option('--type <type>', 'one event type, or a family ending with * (orchestrator.run.*)')
    .option('--execution <execution-id>', "only this run's events")
    .option('--pattern <json>', 'an EventBridge event pattern over the envelope, as JSON')
    .option('--since <time>', 'first the recorded events since this time (ISO 8601)', isoTime))
    .action((options, command) =>
      runCommand(command, async ({ api, out }) => {
        const client = api();
        const interrupt = new AbortController();
        const onSigint = () => interrupt.abort();
        process.once('SIGINT', onSigint);
        const query = { type: options.type, execution_id: options.execution, pattern: options.pattern, since: options.since };
        let lastEventId: string | undefined;
        try {
          while (!interrupt.signal.aborted) {
            for await (const event of client.stream('streamEvents', { query, signal: interrupt.signal, ...(lastEventId ? { lastEventId } : {}) })) {
              lastEventId = event.id ?? lastEventId;
              printEvent(out, event.data);
            }
            await sleep(RECONNECT_MS, undefined, { signal: interrupt.signal }).catch(() => undefined);
          }
        } finally {
          process.removeListener('SIGINT', onSigint);
        }
      }),
    );
}

/** One event: its envelope as one JSON line, or time, type, subject and data on one line for people. */
function printEvent(out: Output, data: string): void {
  let envelope: { time?: unknown; type?: unknown; subject?: unknown; data?: unknown };
  try {
    envelope = JSON.parse(data) as typeof envelope;
  } catch {
    // Not an envelope: shown as it came rather than dropped.
    return out.line(data);
  }
  if (out.format === 'json') return out.line(JSON.stringify(envelope));
  const text = (value: unknown) => (typeof value === 'string' ? value : '-');
  out.line([shortTime(text(envelope.time)), text(envelope.type), text(envelope.subject), JSON.stringify(envelope.data ?? {})].join('  '));
}
