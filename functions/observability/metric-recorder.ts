import { ActionErrorName } from '../../core/errors.ts';
import { EXECUTION_STATUSES } from '../../core/execution/model.ts';
import { ACTION_TYPES } from '../../core/workflow/definition.ts';

/**
 * What the orchestrator measures (issue 13), whoever keeps it: a prom-client registry that `GET /metrics`
 * renders (createPrometheusMetrics), CloudWatch EMF lines in AWS (emf-metrics.ts), or both (combined).
 * Callers pass raw values; each recorder bounds its labels itself (see `bounded` below), so that a caller can
 * never blow up the number of series: route names come from the route table, services as registered, error
 * names from core/errors.ts.
 */
export interface MetricsRecorder {
  /** One answered HTTP request: `route` is the route table's name (`getWorkflow`), or `unmatched`. */
  httpRequest(route: string, method: string, status: number, seconds: number): void;
  /** A run moved from pending to running (`orchestrator.run.started`). The workflow is not a label (cardinality). */
  runStarted(workflowId: string): void;
  /** A run ended (completed, failed, cancelled, timed_out); `seconds` when its start is known. */
  runEnded(status: string, seconds: number | undefined): void;
  /** An action ended (completed, failed, skipped); `seconds` when its start is known. */
  actionEnded(actionType: string, status: string, seconds: number | undefined): void;
  /**
   * One call of a service by the action runner (each attempt). `errorName` is the ActionErrorName it failed
   * with; `statusCode` the service's answer, when there was one (recorders keep its class at most).
   */
  serviceCall(service: string, outcome: 'ok' | 'error', errorName: string | undefined, statusCode: number | undefined, seconds: number): void;
  /**
   * Tokens one model call of an llm action took, by model and direction. Recorded where the call is made: the
   * local runtime's gateway. In AWS, Step Functions calls Bedrock itself, which publishes its own token metrics
   * (AWS/Bedrock InputTokenCount and OutputTokenCount, by ModelId), so EMF recorders leave it out.
   */
  llmTokens?(model: string, direction: 'input' | 'output', tokens: number): void;
  /** Publishes what is buffered (EMF, at the end of each invocation); in-process registries have nothing to do. */
  flush?(): void;
}

/** Measures nothing (tools and tests that need no metrics). */
export const noopMetrics: MetricsRecorder = {
  httpRequest: () => undefined,
  runStarted: () => undefined,
  runEnded: () => undefined,
  actionEnded: () => undefined,
  serviceCall: () => undefined,
  llmTokens: () => undefined,
  flush: () => undefined,
};

/** Every recording goes to each of `recorders` (a Lambda's own registry, which its /metrics shows, and EMF); one failing never stops the others. */
export function combined(...recorders: readonly MetricsRecorder[]): MetricsRecorder {
  const each = (record: (recorder: MetricsRecorder) => void) => {
    for (const recorder of recorders) {
      try {
        record(recorder);
      } catch {
        // Measuring must never fail the work measured.
      }
    }
  };
  return {
    httpRequest: (...args) => each((recorder) => recorder.httpRequest(...args)),
    runStarted: (...args) => each((recorder) => recorder.runStarted(...args)),
    runEnded: (...args) => each((recorder) => recorder.runEnded(...args)),
    actionEnded: (...args) => each((recorder) => recorder.actionEnded(...args)),
    serviceCall: (...args) => each((recorder) => recorder.serviceCall(...args)),
    llmTokens: (...args) => each((recorder) => recorder.llmTokens?.(...args)),
    flush: () => each((recorder) => recorder.flush?.()),
  };
}

// ---- Bounded labels, shared by every recorder --------------------------------------------------------------

/** What a label value becomes when it is not one of the values the label may take. */
export const OTHER = 'other';
const ACTION_ERROR_NAMES: ReadonlySet<string> = new Set(Object.values(ActionErrorName));
const RUN_STATUSES: ReadonlySet<string> = new Set(EXECUTION_STATUSES);
const ACTION_END_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'skipped']);
const KNOWN_ACTION_TYPES: ReadonlySet<string> = new Set([...ACTION_TYPES, 'unknown']);
const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const MAX_LABEL_CHARS = 128;

/**
 * A label fed by names from outside a fixed list (routes, services): the first `max` distinct values are kept,
 * any further one is `other`, so a flood of odd names costs one series, not one each.
 */
export class DistinctLabel {
  private readonly seen = new Set<string>();
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  of(value: string): string {
    if (value === '' || value.length > MAX_LABEL_CHARS) return OTHER;
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return OTHER;
    this.seen.add(value);
    return value;
  }
}

/** The fixed-list labels: a value off the list is `other`. */
export const bounded = {
  method: (method: string): string => (METHODS.has(method.toUpperCase()) ? method.toUpperCase() : OTHER),
  status: (status: number): string => (Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : OTHER),
  statusClass: (status: number): string => (Number.isInteger(status) && status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : OTHER),
  runStatus: (status: string): string => (RUN_STATUSES.has(status) ? status : OTHER),
  actionStatus: (status: string): string => (ACTION_END_STATUSES.has(status) ? status : OTHER),
  actionType: (type: string): string => (KNOWN_ACTION_TYPES.has(type) ? type : OTHER),
  /** `none` for a call that succeeded; an ActionErrorName, or `other` (an aborted call, a bug). */
  error: (name: string | undefined): string => (name === undefined ? 'none' : ACTION_ERROR_NAMES.has(name) ? name : OTHER),
};

/** Distinct routes kept as labels (the table has about 70, plus `unmatched`). */
export const MAX_ROUTE_LABELS = 200;
/** Distinct models kept as labels: a workflow names its models, so a handful per deployment. */
export const MAX_MODEL_LABELS = 100;
/** Distinct services kept as labels (the bench's 100 services fit with room). */
export const MAX_SERVICE_LABELS = 1000;

/** A duration worth recording: known, finite, not negative. */
export function validSeconds(seconds: number | undefined): seconds is number {
  return seconds !== undefined && Number.isFinite(seconds) && seconds >= 0;
}
