import type { EmitEvent } from '../../core/events/emitter.ts';
import { answerOfModelBody } from '../../core/execution/llm-check.ts';
import type { NewEvent } from '../../core/events/envelope.ts';
import type { ActionRunner } from '../workers/action-runner.ts';
import type { MetricsRecorder } from './metric-recorder.ts';

/**
 * Runs and actions are measured from the domain events that core/events/run-events.ts emits for every change
 * of a run (whoever makes it: the local engine, the AWS status listener and action runner), so neither engine
 * is touched: the emitter given to `withRunEvents` is wrapped.
 *
 * Durations: the end events carry `ended_at` but not the start (`orchestrator.run.started` carries
 * `started_at`; action starts do when an attempt is recorded). So the start of each run and action this
 * process sees is remembered, in a bounded map, and a duration is reported only when the start was seen here:
 * always locally (one process), within one container in AWS (an attempt's start and end are one invocation of
 * the action runner; a run's start and end reach the status listener separately, so its run durations are a
 * sample). An end event that carries its own `started_at` is used as it is: if run-events.ts ever adds the
 * run's start to its end events, every duration is known without this map. Nothing is added to core for it.
 *
 * Times: the events' own timestamps (`started_at`, `ended_at`, from the clock port) when both ends carry one;
 * otherwise this process's monotonic clock at emit time for both ends, never a mix of the two.
 */

/** Runs whose starts (and their actions') are remembered; the oldest is forgotten first. */
export const MAX_TRACKED_RUNS = 10_000;

const RUN_ENDS: ReadonlySet<string> = new Set(['orchestrator.run.completed', 'orchestrator.run.failed', 'orchestrator.run.cancelled', 'orchestrator.run.timed_out']);
const ACTION_ENDS: ReadonlySet<string> = new Set(['orchestrator.action.completed', 'orchestrator.action.failed', 'orchestrator.action.skipped']);

interface Stamp {
  /** From the event's data (epoch ms), when it carried a time. */
  readonly eventMs?: number;
  /** This process's monotonic clock when the event was emitted (ms). */
  readonly monotonicMs: number;
}

interface TrackedRun {
  start?: Stamp;
  readonly actions: Map<string, { start?: Stamp; type?: string }>;
}

export interface MeteredEmitOptions {
  /**
   * The type of an action whose events do not say it: the attempt events (startAttempt, finishAttempt) carry
   * no `action_type`. The action runner's are all `service_call`. Default `unknown`.
   */
  readonly defaultActionType?: string;
  /** Monotonic milliseconds; default performance.now. */
  readonly monotonicNow?: () => number;
}

/**
 * `emit`, recording runs started and ended and actions ended into `metrics` on the way. Every event is passed
 * on unchanged (the same object) and measuring never throws: a failure to measure is ignored.
 */
export function meteredEmit(emit: EmitEvent, metrics: MetricsRecorder, options: MeteredEmitOptions = {}): EmitEvent {
  const monotonicNow = options.monotonicNow ?? (() => performance.now());
  const defaultType = options.defaultActionType ?? 'unknown';
  const runs = new Map<string, TrackedRun>();

  const tracked = (executionId: string): TrackedRun => {
    let run = runs.get(executionId);
    if (!run) {
      run = { actions: new Map() };
      runs.set(executionId, run);
      if (runs.size > MAX_TRACKED_RUNS) runs.delete(runs.keys().next().value as string);
    }
    return run;
  };

  const measure = (event: NewEvent): void => {
    const data = event.data;
    const executionId = text(data['execution_id']);
    if (event.type === 'orchestrator.run.started') {
      metrics.runStarted(text(data['workflow_id']) ?? 'unknown');
      if (executionId !== undefined) tracked(executionId).start = stampOf(data['started_at'], monotonicNow());
      return;
    }
    if (event.type === 'orchestrator.run.retried') {
      // A retried run starts its failed actions again under the same ids: their old starts do not count.
      if (executionId !== undefined) runs.set(executionId, { start: stampOf(undefined, monotonicNow()), actions: new Map() });
      return;
    }
    if (RUN_ENDS.has(event.type)) {
      const run = executionId === undefined ? undefined : runs.get(executionId);
      const start = stampOf(data['started_at'], Number.NaN) ?? run?.start;
      metrics.runEnded(event.type.slice('orchestrator.run.'.length), secondsBetween(start, stampOf(data['ended_at'], monotonicNow())));
      if (executionId !== undefined) runs.delete(executionId);
      return;
    }
    const actionId = text(data['action_id']);
    if (executionId === undefined || actionId === undefined) return;
    if (event.type === 'orchestrator.action.started') {
      const actions = tracked(executionId).actions;
      const known = actions.get(actionId);
      // The first start counts: a retry's start (the same action again) must not shorten the action.
      actions.set(actionId, { start: known?.start ?? stampOf(data['started_at'], monotonicNow()), type: text(data['action_type']) ?? known?.type });
      return;
    }
    if (ACTION_ENDS.has(event.type)) {
      const actions = runs.get(executionId)?.actions;
      const known = actions?.get(actionId);
      const type = text(data['action_type']) ?? known?.type ?? defaultType;
      metrics.actionEnded(type, event.type.slice('orchestrator.action.'.length), secondsBetween(known?.start, stampOf(data['ended_at'], monotonicNow())));
      actions?.delete(actionId);
    }
  };

  return (event) => {
    try {
      measure(event);
    } catch {
      // Measuring must never fail the change the event describes.
    }
    return emit(event);
  };
}

/**
 * `runner`, recording each service call (every attempt it is asked to make) into `metrics`: its service (the
 * payload's), outcome, error name and duration. The runner's answer or error passes through unchanged. Put it
 * inside the pause gate (withPauseGate(meteredRunner(runner, metrics), ...)): a paused run's refused call is
 * not a call of the service.
 */
export function meteredRunner(runner: ActionRunner, metrics: MetricsRecorder, monotonicNow: () => number = () => performance.now()): ActionRunner {
  return async (payload, options) => {
    const started = monotonicNow();
    const service = text((payload as { service?: unknown } | null)?.service) ?? 'unknown';
    const seconds = () => Math.max(0, (monotonicNow() - started) / 1000);
    try {
      const result = await runner(payload, options);
      quietly(() => metrics.serviceCall(service, 'ok', undefined, result.status_code, seconds()));
      return result;
    } catch (error) {
      const name = error instanceof Error ? error.name : undefined;
      const status = (error as { failure?: { status_code?: unknown } } | null)?.failure?.status_code;
      quietly(() => metrics.serviceCall(service, 'error', name, typeof status === 'number' ? status : undefined, seconds()));
      throw error;
    }
  };
}

/**
 * A model invoker (the local runtime's stand-in for Bedrock), recording the tokens of every call that answered
 * into `metrics`, by model and direction. The answer or the error passes through unchanged.
 */
export function meteredModelCalls<Request extends { readonly ModelId: string }, Answer extends { readonly Body: unknown }>(
  invoke: (request: Request, signal: AbortSignal) => Promise<Answer>,
  metrics: MetricsRecorder,
): (request: Request, signal: AbortSignal) => Promise<Answer> {
  return async (request, signal) => {
    const answer = await invoke(request, signal);
    quietly(() => {
      const usage = answerOfModelBody(answer.Body)?.usage;
      if (!usage) return;
      metrics.llmTokens?.(request.ModelId, 'input', usage.input_tokens);
      metrics.llmTokens?.(request.ModelId, 'output', usage.output_tokens);
    });
    return answer;
  };
}

function quietly(record: () => void): void {
  try {
    record();
  } catch {
    // Measuring must never fail the call measured.
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A stamp from an event's ISO time (when it parses) and the monotonic clock now; undefined when neither is usable. */
function stampOf(iso: unknown, monotonicMs: number): Stamp | undefined {
  const eventMs = typeof iso === 'string' ? Date.parse(iso) : Number.NaN;
  if (Number.isNaN(monotonicMs) && Number.isNaN(eventMs)) return undefined;
  return Number.isNaN(eventMs) ? { monotonicMs } : { eventMs, monotonicMs };
}

/** Seconds from `start` to `end`: on the events' clock when both carry a time, else on the monotonic one; undefined when unknown or negative. */
function secondsBetween(start: Stamp | undefined, end: Stamp | undefined): number | undefined {
  if (!start || !end) return undefined;
  const ms = start.eventMs !== undefined && end.eventMs !== undefined ? end.eventMs - start.eventMs : end.monotonicMs - start.monotonicMs;
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
}
