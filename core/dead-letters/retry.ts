import { inScope, type TenantScope } from '../auth/model.ts';
import { ConflictError, DomainError, NotFoundError, ValidationError } from '../errors.ts';
import type { EventEnvelope } from '../events/envelope.ts';
import type { EmitEvent } from '../events/emitter.ts';
import type { DeliveryRequest } from '../events/replay-target.ts';
import type { Clock, IdGenerator } from '../ports.ts';
import { parseDeadLetter, type DeadLetter, type DeadLetterKind, type DeadLetterQueueName, type ReceivedMessage } from './model.ts';
import { MAX_MESSAGES_READ, type DeadLetterInspector, type RetryLedger } from './ports.ts';

/**
 * Retrying dead letters (`POST /infrastructure/dlq/retry`): a failed action's message resumes its run from
 * the failed step, a failed deployment's event is published again, a failed delivery is delivered again.
 *
 * One effect per message, whatever the retries and crashes:
 * 1. the messages are received and held hidden (nobody else retries them meanwhile; their receipt handles stay
 *    the latest, which a delete needs); those not selected are released at once;
 * 2. each selected message is claimed in the ledger (a conditional write) before anything is done: a message
 *    whose retry was done answers `already_retried`, one claimed by a retry in progress `in_progress`;
 * 3. the retry runs; accepted, the claim becomes `done` and only then is the message deleted; refused or
 *    broken, the claim becomes `failed` (so it can be retried later) and the message is released.
 * A crash between 3's steps leaves the message held until HOLD_SECONDS pass and the claim until its lease
 * ends; a message whose claim is done but which came back (its delete was lost) is deleted by the next retry.
 *
 * Admins retry any message. A tenant's member retries, and is told about, only messages known to be its
 * tenant's (visibilityFor); every other one is not found, as another tenant's objects are everywhere.
 */

/**
 * retried: accepted, the message deleted; already_retried: a retry of it was accepted before; in_progress:
 * another retry holds it; not_found; not_retryable: nothing can retry it (the message stays); refused: what
 * it names said no (the run is not failed any more, the subscription is gone...); failed: something broke,
 * try again later. The message stays unless retried or already retried.
 */
export const RETRY_OUTCOMES = ['retried', 'already_retried', 'in_progress', 'not_found', 'not_retryable', 'refused', 'failed'] as const;
export type RetryOutcome = (typeof RETRY_OUTCOMES)[number];

/** What happened to one message. */
export interface RetryResult {
  readonly message_id: string;
  readonly outcome: RetryOutcome;
  /** Absent when the message was not found. */
  readonly kind?: DeadLetterKind;
  /** Why it was not retried, or what the retry did. */
  readonly reason?: string;
  readonly execution_id?: string;
  readonly workflow_id?: string;
  readonly action_id?: string;
  readonly subscription_id?: string;
  readonly event_id?: string;
  /** The run's status once its retry was accepted. */
  readonly execution_status?: string;
}

/** Which messages of the queue: these ids, those of one run, or the first `max` received. */
export type RetrySelection = { readonly messageIds: readonly string[] } | { readonly executionId: string } | { readonly all: true; readonly max: number };

/** Who retries: their subject, and the tenants whose messages they may retry (every tenant's for admins). */
export interface DeadLetterCaller {
  readonly actor: string;
  readonly scope: TenantScope;
}

/**
 * Retries a failed run where it stopped (ExecutionService.retryExecution without from_action). Refusals are
 * domain errors: NotFoundError (no such run in `scope`), ConflictError (the run is not failed any more).
 */
export type RetryRun = (executionId: string, actor: string, scope: TenantScope) => Promise<{ readonly execution: { readonly execution_id: string; readonly status: string; readonly tenant: string } }>;
/**
 * The tenant of a run, undefined when there is no such run: what tells a tenant's member which failed
 * actions' messages are theirs (the messages name no tenant).
 */
export type RunTenant = (executionId: string) => Promise<string | undefined>;
/** Publishes a version-published envelope on the workflow event bus again, as it was (same event_id). */
export type Republish = (event: EventEnvelope) => Promise<void>;
/** What to deliver again, and to which subscription. */
export type Redelivery = DeliveryRequest;
/** Delivers an event again to one subscription; NotFoundError when the subscription is gone. */
export type Redeliver = (delivery: Redelivery) => Promise<void>;

export interface DeadLetterRetryDeps {
  readonly ledger: RetryLedger;
  readonly clock: Clock;
  readonly ids: IdGenerator;
  /** Absent: failed actions are not retryable in this runtime. */
  readonly retryRun?: RetryRun;
  /** Absent: members of a tenant (non-admins) see no failed action's message, as none can be shown to be theirs. */
  readonly runTenant?: RunTenant;
  readonly republish?: Republish;
  readonly redeliver?: Redeliver;
  /** Publishes `orchestrator.dlq.retried` for each retried message; omitted: none. */
  readonly emit?: EmitEvent;
}

/** How long received messages stay hidden while their retries run (longer than any retry takes). */
export const HOLD_SECONDS = 120;
/** How long a claim protects a retry in progress; past it, a claim never settled (a crash) may be taken again. */
export const CLAIM_LEASE_SECONDS = 300;
/** Retries running at once: a request must answer within API Gateway's 29 s even with 100 messages. */
const CONCURRENCY = 4;

interface Entry {
  readonly message: ReceivedMessage;
  readonly letter: DeadLetter;
}

/** What an accepted retry reports: the tenant of what it retried (for its event) and, for runs, their status. */
interface Accepted {
  readonly tenant: string;
  readonly execution_status?: string;
}

/** Retries the messages of `queue` that `selection` picks and `caller` may retry; one result per message. */
export async function retryDeadLetters(deps: DeadLetterRetryDeps, queue: DeadLetterQueueName, inspector: DeadLetterInspector, selection: RetrySelection, caller: DeadLetterCaller): Promise<RetryResult[]> {
  const wanted = 'messageIds' in selection ? [...new Set(selection.messageIds)] : undefined;
  const enough = wanted ? (received: readonly ReceivedMessage[]) => wanted.every((id) => received.some((message) => message.messageId === id)) : undefined;
  const received = await inspector.hold('all' in selection ? selection.max : MAX_MESSAGES_READ, HOLD_SECONDS, enough);
  const held = new Set(received.map((message) => message.receiptHandle));
  // Neither throws: a message that could not be released or deleted stays in `held`, released again at the end.
  const release = async (entries: readonly Entry[]) => {
    const handles = entries.map((entry) => entry.message.receiptHandle).filter((handle) => held.has(handle));
    if (handles.length === 0) return;
    try {
      await inspector.release(handles);
      for (const handle of handles) held.delete(handle);
    } catch {
      // Released in `finally`, or visible again after HOLD_SECONDS.
    }
  };
  const remove = async (entry: Entry) => {
    try {
      await inspector.delete(entry.message.receiptHandle);
      held.delete(entry.message.receiptHandle);
    } catch {
      // Its claim is done: released in `finally`, the next retry answers already_retried and deletes it.
    }
  };
  try {
    const entries = received.map((message): Entry => ({ message, letter: parseDeadLetter(queue, message) }));
    const candidates = entries.filter(({ letter }) => selects(selection, letter));
    const visible = await visibilityFor(deps, caller.scope, candidates);
    const selected = candidates.filter(({ letter }) => visible(letter));
    await release(entries.filter((entry) => !selected.includes(entry)));

    const results = new Map<string, RetryResult>();
    const groups: Entry[][] = [];
    const byRun = new Map<string, Entry[]>();
    for (const entry of selected) {
      const { letter } = entry;
      const unavailable = notRetryableReason(letter, deps);
      if (unavailable !== undefined) {
        results.set(letter.message_id, { ...describe(letter), outcome: 'not_retryable', reason: unavailable });
        continue;
      }
      // Two failed actions of one run are one retry: the run resumes every failed step at once.
      if (letter.kind === 'action_failed') {
        const group = byRun.get(letter.execution_id!) ?? [];
        if (group.length === 0) groups.push(group);
        group.push(entry);
        byRun.set(letter.execution_id!, group);
      } else groups.push([entry]);
    }
    // Not retryable: they stay, visible again for the next reader.
    await release(selected.filter((entry) => results.has(entry.letter.message_id)));

    await forEachLimited(groups, CONCURRENCY, async (group) => {
      for (const result of await retryGroup(deps, queue, group, caller, { release, remove })) results.set(result.message_id, result);
    });

    if (wanted) {
      const seen = new Set(entries.map((entry) => entry.letter.message_id));
      for (const id of wanted) {
        if (results.has(id)) continue;
        // Received but another tenant's: not found, exactly like a message that is not there.
        results.set(id, seen.has(id) ? { message_id: id, outcome: 'not_found', reason: 'no such message in the queue' } : await absentMessage(deps.ledger, queue, id));
      }
      return wanted.map((id) => results.get(id)!);
    }
    return selected.map((entry) => results.get(entry.letter.message_id)!);
  } finally {
    // Whatever happened, nothing stays hidden: a release that fails here lets the messages reappear after HOLD_SECONDS.
    if (held.size > 0) await inspector.release([...held]).catch(() => undefined);
  }
}

function selects(selection: RetrySelection, letter: DeadLetter): boolean {
  if ('messageIds' in selection) return selection.messageIds.includes(letter.message_id);
  if ('executionId' in selection) return letter.execution_id === selection.executionId;
  return true;
}

/**
 * Which messages the caller may see: admins every one; a tenant's member those whose tenant is known to be
 * its own, from the body (events) or from the run it names (one lookup per run). A message of no known
 * tenant (not understood, or of a run that is gone) is for admins only.
 */
async function visibilityFor(deps: DeadLetterRetryDeps, scope: TenantScope, entries: readonly Entry[]): Promise<(letter: DeadLetter) => boolean> {
  if (scope.tenant === undefined) return () => true;
  const runs = [...new Set(entries.filter(({ letter }) => letter.tenant === undefined && letter.execution_id !== undefined).map(({ letter }) => letter.execution_id!))];
  const tenants = new Map<string, string | undefined>();
  if (deps.runTenant) {
    const lookup = deps.runTenant;
    await forEachLimited(runs, CONCURRENCY, async (executionId) => void tenants.set(executionId, await lookup(executionId)));
  }
  return (letter) => {
    const tenant = letter.tenant ?? (letter.execution_id === undefined ? undefined : tenants.get(letter.execution_id));
    // inScope reads a missing tenant as `default`'s (objects older than tenants): an unknown one is nobody's here.
    return tenant !== undefined && inScope(scope, tenant);
  };
}

function notRetryableReason(letter: DeadLetter, deps: DeadLetterRetryDeps): string | undefined {
  switch (letter.kind) {
    case 'compensation_failed':
      return 'a failed compensation is not retried: its run has ended and its saga recorded the failure; undo what the message names by hand (it stays until the queue drops it)';
    case 'unknown':
      return `the message is not understood, so there is nothing to retry: ${letter.problem ?? 'unknown body'}`;
    case 'action_failed':
      return deps.retryRun ? undefined : 'runs cannot be retried in this runtime';
    case 'deployment_failed':
      return deps.republish ? undefined : 'deployments cannot be published again in this runtime';
    case 'delivery_failed':
      if (!deps.redeliver) return 'deliveries cannot be made again in this runtime';
      // An EventBridge target's dead letter names its rule, not a subscription: nothing says whom to deliver to.
      return letter.subscription_id === undefined ? `the message names no subscription to deliver to${letter.rule_arn ? ` (only the rule ${letter.rule_arn})` : ''}` : undefined;
  }
}

/** The ids a result carries, from its message. */
function describe(letter: DeadLetter): Omit<RetryResult, 'outcome'> {
  return {
    message_id: letter.message_id,
    kind: letter.kind,
    ...(letter.execution_id === undefined ? {} : { execution_id: letter.execution_id }),
    ...(letter.workflow_id === undefined ? {} : { workflow_id: letter.workflow_id }),
    ...(letter.action_id === undefined ? {} : { action_id: letter.action_id }),
    ...(letter.subscription_id === undefined ? {} : { subscription_id: letter.subscription_id }),
    ...(letter.event === undefined ? {} : { event_id: letter.event.event_id }),
  };
}

/** The held messages' disposal; neither ever throws. */
interface Held {
  release(entries: readonly Entry[]): Promise<void>;
  remove(entry: Entry): Promise<void>;
}

/** Claims every message of a group, runs their one retry if any was claimed, and settles each. */
async function retryGroup(deps: DeadLetterRetryDeps, queue: DeadLetterQueueName, group: readonly Entry[], caller: DeadLetterCaller, held: Held): Promise<RetryResult[]> {
  const results: RetryResult[] = [];
  const claimed: Array<{ entry: Entry; claimId: string }> = [];
  for (const entry of group) {
    const at = deps.clock.now();
    const claimId = deps.ids.next();
    const messageId = entry.letter.message_id;
    let claim;
    try {
      claim = await deps.ledger.claim({ queue, messageId, claimId, by: caller.actor, at, leaseUntil: plusSeconds(at, CLAIM_LEASE_SECONDS) });
    } catch (error) {
      await held.release([entry]);
      results.push({ ...describe(entry.letter), outcome: 'failed', reason: `the retry could not be recorded, so it was not started: ${reasonOf(error)}` });
      continue;
    }
    if (claim.claimed) {
      claimed.push({ entry, claimId });
    } else if (claim.record?.state === 'done') {
      // Retried before, but its delete was lost: the retry was accepted, so the message may go now.
      await held.remove(entry);
      results.push({ ...describe(entry.letter), outcome: 'already_retried', reason: `retried by ${claim.record.by} at ${claim.record.updated_at}` });
    } else {
      await held.release([entry]);
      results.push({ ...describe(entry.letter), outcome: 'in_progress', reason: 'another retry of this message is in progress' });
    }
  }
  if (claimed.length === 0) return results;

  const first = claimed[0]!.entry.letter;
  let accepted: Accepted;
  try {
    accepted = await runRetry(deps, first, caller);
  } catch (error) {
    const outcome: RetryOutcome = error instanceof NotFoundError ? 'not_found' : error instanceof ConflictError || error instanceof ValidationError ? 'refused' : 'failed';
    const reason = reasonOf(error);
    for (const { entry, claimId } of claimed) {
      await settleQuietly(deps, { queue, messageId: entry.letter.message_id, claimId, state: 'failed', at: deps.clock.now(), reason });
      await held.release([entry]);
      results.push({ ...describe(entry.letter), outcome, reason });
    }
    return results;
  }
  for (const { entry, claimId } of claimed) {
    // Done first: should the delete be lost, the next retry finds the claim done and deletes the message then.
    await settleQuietly(deps, { queue, messageId: entry.letter.message_id, claimId, state: 'done', at: deps.clock.now(), reason: `retried by ${caller.actor}` });
    await held.remove(entry);
    results.push({ ...describe(entry.letter), outcome: 'retried', ...(accepted.execution_status === undefined ? {} : { execution_status: accepted.execution_status }) });
    await deps.emit?.({
      type: 'orchestrator.dlq.retried',
      tenant: accepted.tenant,
      ...(entry.letter.execution_id === undefined ? {} : { subject: `executions/${entry.letter.execution_id}` }),
      data: { queue, ...describe(entry.letter) },
    });
  }
  return results;
}

async function runRetry(deps: DeadLetterRetryDeps, letter: DeadLetter, caller: DeadLetterCaller): Promise<Accepted> {
  if (letter.kind === 'action_failed') {
    const { execution } = await deps.retryRun!(letter.execution_id!, caller.actor, caller.scope);
    return { tenant: execution.tenant, execution_status: execution.status };
  }
  if (letter.kind === 'deployment_failed') {
    await deps.republish!(letter.event!);
    return { tenant: letter.event!.tenant };
  }
  await deps.redeliver!({ subscription_id: letter.subscription_id!, event: letter.event! });
  return { tenant: letter.event!.tenant };
}

/** A settle that fails leaves the claim to its lease: the retry's own outcome stands, so it is not thrown. */
async function settleQuietly(deps: DeadLetterRetryDeps, settlement: Parameters<RetryLedger['settle']>[0]): Promise<void> {
  await deps.ledger.settle(settlement).catch(() => false);
}

/** A message asked for by id that the queue did not give: the ledger may know what became of it. */
async function absentMessage(ledger: RetryLedger, queue: DeadLetterQueueName, messageId: string): Promise<RetryResult> {
  const record = await ledger.get(queue, messageId).catch(() => undefined);
  if (record?.state === 'done') return { message_id: messageId, outcome: 'already_retried', reason: `retried by ${record.by} at ${record.updated_at}` };
  if (record?.state === 'claimed') return { message_id: messageId, outcome: 'in_progress', reason: 'another retry of this message is in progress' };
  return { message_id: messageId, outcome: 'not_found', reason: 'no such message in the queue (or it is held by another reader)' };
}

/** Domain errors say what went wrong in words a caller can act on; anything else is named, not described. */
function reasonOf(error: unknown): string {
  if (error instanceof DomainError) return error.message;
  return `an unexpected error (${error instanceof Error ? error.name : typeof error}); the message stays, try again later`;
}

function plusSeconds(at: string, seconds: number): string {
  return new Date(Date.parse(at) + seconds * 1000).toISOString();
}

/** Runs `work` on every item, at most `limit` at a time. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
