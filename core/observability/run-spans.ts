import { isTerminal, type ActionProgress, type Execution, type ExecutionStatus } from '../execution/model.ts';
import type { ExecutionStore } from '../ports.ts';
import { actionSpanId, durationBetween, isSpanId, isTraceId, ORCHESTRATOR_SERVICE, runSpanId, type Span, type SpanStatus } from './spans.ts';

/**
 * A finished run's spans, from its record: the run (child of the request that started it, when that request
 * carried a `traceparent`), each action that started (child of the run), and each compensation that ran (child
 * of its action). Derived once, when the run ends, by whoever records the end: the local engine, or the
 * status listener in AWS. The action runner's service-call spans name the action spans as parents by the same
 * derived ids, so the tree joins up although its parts are recorded by different processes.
 */
export function runSpans(execution: Execution): Span[] {
  if (!isTraceId(execution.trace_id) || !isTerminal(execution.status)) return [];
  const start = execution.started_at ?? execution.created_at;
  const end = execution.ended_at ?? start;
  const runId = runSpanId(execution.execution_id);
  const common = { trace_id: execution.trace_id, service: ORCHESTRATOR_SERVICE, tenant: execution.tenant, workflow_id: execution.workflow_id, execution_id: execution.execution_id };
  const run: Span = {
    ...common,
    span_id: runId,
    ...(execution.parent_span_id !== undefined && isSpanId(execution.parent_span_id) ? { parent_span_id: execution.parent_span_id } : {}),
    name: `run ${execution.workflow_id}`,
    kind: 'internal',
    category: 'run',
    start,
    end,
    duration_ms: durationBetween(start, end),
    status: statusOfRun(execution.status),
    attributes: {
      status: execution.status,
      workflow_version: execution.workflow_version,
      actions: execution.actions.length,
      ...(execution.redrive_count ? { redrive_count: execution.redrive_count } : {}),
      ...(execution.error ? { 'error.name': execution.error.error } : {}),
      ...(execution.error?.action_id ? { failed_action: execution.error.action_id } : {}),
    },
  };
  const spans = [run];
  for (const action of execution.actions) {
    if (action.started_at === undefined) continue;
    const actionEnd = action.ended_at ?? end;
    spans.push({
      ...common,
      span_id: actionSpanId(execution.execution_id, action.action_id),
      parent_span_id: runId,
      name: `${action.action_type} ${action.action_id}`,
      kind: action.action_type === 'notification' ? 'producer' : 'internal',
      category: action.action_type === 'notification' ? 'notification' : 'action',
      start: action.started_at,
      end: actionEnd,
      duration_ms: durationBetween(action.started_at, actionEnd),
      status: statusOfAction(action.status),
      attributes: {
        action_id: action.action_id,
        action_type: action.action_type,
        status: action.status,
        attempts: action.attempts,
        ...(action.error ? { 'error.name': action.error.error } : {}),
        ...(action.output?.status_code != null ? { 'http.status_code': action.output.status_code } : {}),
      },
    });
    const compensation = action.compensation;
    if (compensation?.started_at !== undefined) {
      const compensationEnd = compensation.ended_at ?? end;
      spans.push({
        ...common,
        span_id: actionSpanId(execution.execution_id, `${action.action_id}.compensation`),
        parent_span_id: actionSpanId(execution.execution_id, action.action_id),
        name: `compensate ${action.action_id}`,
        kind: 'internal',
        category: 'action',
        start: compensation.started_at,
        end: compensationEnd,
        duration_ms: durationBetween(compensation.started_at, compensationEnd),
        status: compensation.status === 'failed' ? 'error' : compensation.status === 'completed' ? 'ok' : 'unset',
        attributes: { action_id: `${action.action_id}.compensation`, status: compensation.status, attempts: compensation.attempts, ...(compensation.error ? { 'error.name': compensation.error.error } : {}) },
      });
    }
  }
  return spans;
}

function statusOfRun(status: ExecutionStatus): SpanStatus {
  if (status === 'completed') return 'ok';
  if (status === 'failed' || status === 'timed_out') return 'error';
  return 'unset';
}

function statusOfAction(status: ActionProgress['status']): SpanStatus {
  if (status === 'completed' || status === 'skipped') return 'ok';
  if (status === 'failed') return 'error';
  return 'unset';
}

/**
 * The store, recording a run's spans (runSpans) each time a transition ends it. The run is read back after
 * the transition, so the spans show what its end recorded; a failure to read or record never fails the
 * transition (spans are a view).
 */
export function withRunSpans(store: ExecutionStore, record: (spans: readonly Span[]) => void, onError?: (error: unknown, executionId: string) => void): ExecutionStore {
  return {
    create: (execution) => store.create(execution),
    get: (executionId) => store.get(executionId),
    updateAction: (executionId, progress) => store.updateAction(executionId, progress),
    startAttempt: (executionId, actionId, at) => store.startAttempt(executionId, actionId, at),
    finishAttempt: (executionId, actionId, outcome) => store.finishAttempt(executionId, actionId, outcome),
    list: (query) => store.list(query),
    unfinished: () => store.unfinished(),
    reopen: (execution, redrive, actions) => store.reopen(execution, redrive, actions),
    saveCheckpoint: (executionId, key, result) => store.saveCheckpoint(executionId, key, result),
    checkpoints: (executionId) => store.checkpoints(executionId),
    async transition(executionId, from, status, fields) {
      const moved = await store.transition(executionId, from, status, fields);
      if (moved && isTerminal(status)) {
        try {
          const execution = await store.get(executionId);
          if (execution) record(runSpans(execution));
        } catch (error) {
          onError?.(error, executionId);
        }
      }
      return moved;
    },
  };
}
