import type { TenantScope } from '../auth/model.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import type { Clock, IdGenerator } from '../ports.ts';
import { replayedEvent, type EventEnvelope } from './envelope.ts';
import { matchesEventType, type EventHistory, type EventHistoryPage, type EventHistoryQuery } from './history.ts';

/**
 * The event history's use cases (issue 12, ADR 0013): reading it within the caller's tenant, replaying what
 * it holds to subscribers, and clearing it. Replays go to the replay target (the subscriptions' deliveries
 * and, locally, the live streams), never to the bus: nothing inside the orchestrator sees a replayed event,
 * so replaying `run.requested` starts nothing.
 */

/** Where replayed events go: one subscription's deliveries, or every subscription (and stream) the event matches. */
export interface ReplayTarget {
  /** Resolves once the event is queued for delivery (not delivered); rejects with NotFoundError for an unknown subscription. */
  deliver(event: EventEnvelope, subscriptionId?: string): Promise<void>;
  /** Throws NotFoundError when the subscription does not exist in `scope`; checked before anything is replayed. */
  assertSubscription?(subscriptionId: string, scope: TenantScope): Promise<void>;
}

export interface ReplayRequest {
  readonly since: string;
  readonly until?: string;
  /** Exact types or `*` families; omitted: every type. */
  readonly types?: readonly string[];
  readonly execution_id?: string;
  readonly subscription_id?: string;
}

export interface ReplayResult {
  readonly replay_id: string;
  readonly status: 'completed';
  readonly replayed: number;
  readonly first_event_time?: string;
  readonly last_event_time?: string;
  readonly subscription_id?: string;
}

export interface EventServiceDeps {
  readonly history: EventHistory;
  readonly replayTarget?: ReplayTarget;
  readonly clock: Clock;
  readonly ids: IdGenerator;
}

/**
 * The most events one replay delivers. The history pages newest first and a replay delivers oldest first, so
 * the whole window is read before the first delivery; a larger window is refused (narrow since/until).
 */
export const MAX_REPLAY_EVENTS = 10_000;
const REPLAY_PAGE = 200;

export function createEventService({ history, replayTarget, clock, ids }: EventServiceDeps) {
  return {
    /** One page of the history, newest first, within `scope` (a tenant's members see its events only). */
    history(query: Omit<EventHistoryQuery, 'tenant'>, scope: TenantScope): Promise<EventHistoryPage> {
      return history.query({ ...query, ...(scope.tenant === undefined ? {} : { tenant: scope.tenant }) });
    },

    /**
     * Delivers the recorded events of the window again, oldest first, each marked `replayed` with its
     * original id (receivers deduplicate by it). The window is read whole (newest first, as the history
     * pages), then delivered in its original order; more than MAX_REPLAY_EVENTS is refused before any delivery.
     */
    async replay(request: ReplayRequest, scope: TenantScope): Promise<ReplayResult> {
      if (!replayTarget) throw new ConflictError('this runtime has no subscriptions to replay to');
      if (request.subscription_id !== undefined) await replayTarget.assertSubscription?.(request.subscription_id, scope);
      const events: EventEnvelope[] = [];
      let cursor: string | undefined;
      do {
        const page = await history.query({
          since: request.since,
          ...(request.until === undefined ? {} : { until: request.until }),
          ...(request.execution_id === undefined ? {} : { execution_id: request.execution_id }),
          // One type is keyed by the store; several are filtered here.
          ...(request.types?.length === 1 ? { type: request.types[0] } : {}),
          ...(scope.tenant === undefined ? {} : { tenant: scope.tenant }),
          limit: REPLAY_PAGE,
          ...(cursor === undefined ? {} : { cursor }),
        });
        events.push(...page.items.filter((event) => request.types === undefined || request.types.some((type) => matchesEventType(event.type, type))));
        if (events.length > MAX_REPLAY_EVENTS) {
          throw new ValidationError([{ field: 'since', message: `the window holds more than ${MAX_REPLAY_EVENTS} events; replay a shorter one (since, until) or fewer types` }]);
        }
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      events.reverse();
      for (const event of events) await replayTarget.deliver(replayedEvent(event), request.subscription_id);
      return {
        replay_id: ids.next(),
        status: 'completed',
        replayed: events.length,
        ...(events.length === 0 ? {} : { first_event_time: events[0]!.time, last_event_time: events[events.length - 1]!.time }),
        ...(request.subscription_id === undefined ? {} : { subscription_id: request.subscription_id }),
      };
    },

    /** Deletes the recorded events before `before` (of `types` when given) within `scope`; answers the count. */
    async clear(request: { before: string; types?: readonly string[] }, scope: TenantScope): Promise<{ deleted: number; before: string; cleared_at: string }> {
      const deleted = await history.clear({ before: request.before, ...(request.types === undefined ? {} : { types: request.types }), ...(scope.tenant === undefined ? {} : { tenant: scope.tenant }) });
      return { deleted, before: request.before, cleared_at: clock.now() };
    },
  };
}

export type EventService = ReturnType<typeof createEventService>;
