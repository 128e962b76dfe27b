import type { LocalIntegrations } from '../adapters/local/local-engine.ts';

/**
 * Local stand-ins for the native integrations a compiled machine uses: EventBridge PutEvents (notifications)
 * and SQS SendMessage (dead letters). They keep what they receive, newest last, and log it as JSON lines.
 */
export class LocalEventLog {
  readonly events: Record<string, unknown>[] = [];
  readonly deadLetters: unknown[] = [];
  private readonly limit: number;
  private readonly log: (line: Record<string, unknown>) => void;
  private sequence = 0;

  constructor(options: { limit?: number; log?: (line: Record<string, unknown>) => void } = {}) {
    this.limit = options.limit ?? 1000;
    this.log = options.log ?? (() => undefined);
  }

  integrations(): Pick<LocalIntegrations, 'putEvent' | 'sendDeadLetter'> {
    return {
      putEvent: async (entry) => {
        const id = `local-event-${++this.sequence}`;
        this.keep(this.events, { id, time: new Date().toISOString(), ...entry });
        this.log({ kind: 'event', id, detail_type: entry.DetailType, detail: entry.Detail });
        return id;
      },
      sendDeadLetter: async (body) => {
        this.keep(this.deadLetters, body);
        this.log({ kind: 'dead_letter', body });
      },
    };
  }

  private keep<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > this.limit) list.splice(0, list.length - this.limit);
  }
}
