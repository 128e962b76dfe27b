import type { LocalIntegrations } from '../adapters/local/local-engine.ts';

/**
 * The local stand-in for EventBridge PutEvents (notifications): keeps what it receives, newest last, and logs
 * it as JSON lines. (Dead letters go to a real queue on the SQS emulator: local/runtime.ts.)
 */
export class LocalEventLog {
  readonly events: Record<string, unknown>[] = [];
  private readonly limit: number;
  private readonly log: (line: Record<string, unknown>) => void;
  private sequence = 0;

  constructor(options: { limit?: number; log?: (line: Record<string, unknown>) => void } = {}) {
    this.limit = options.limit ?? 1000;
    this.log = options.log ?? (() => undefined);
  }

  integrations(): Pick<LocalIntegrations, 'putEvent'> {
    return {
      putEvent: async (entry) => {
        const id = `local-event-${++this.sequence}`;
        this.keep(this.events, { id, time: new Date().toISOString(), ...entry });
        this.log({ kind: 'event', id, detail_type: entry.DetailType, detail: entry.Detail });
        return id;
      },
    };
  }

  private keep<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > this.limit) list.splice(0, list.length - this.limit);
  }
}
