import * as z from 'zod';
import { ActionErrorName } from '../../core/errors.ts';
import { gateWaitersProblems, GateWaitersSchema } from '../../core/execution/gate-requests.ts';
import { HTTP_METHODS } from '../../core/workflow/definition.ts';
import { zodIssues } from '../../core/workflow/validate.ts';
import { ServiceCallError } from './service-call-errors.ts';

/**
 * The contract between compiled state machines and the action runner (see statemachines/actions/service-call.ts runnerCall: the
 * Lambda invoke Payload of a service_call Task): the types, shared by the runner, the local engine and tests,
 * and the schema the runner reads every payload with (ServiceCallPayloadSchema).
 */
export interface ServiceCallPayload {
  /** With `execution_id` (and `item_index`), the call's Idempotency-Key: see service-headers.ts idempotencyKey. */
  readonly action_id: string;
  /** Required: every call has an Idempotency-Key, and the key starts with it. */
  readonly execution_id: string;
  readonly workflow_id: string;
  readonly workflow_version: number;
  readonly service: string;
  /**
   * Path appended to the service's base URL. With `endpoint_values`, each `{}` in it is a templated segment
   * the runner fills with the value of the same position, percent-encoded (service-url.ts); without, it is
   * used as it is (literal endpoints; state machines compiled before templated segments were encoded).
   */
  readonly endpoint: string;
  /** The values of a templated endpoint's `{}`, by position ("0", "1"...), as the state machine rendered them. */
  readonly endpoint_values?: Readonly<Record<string, unknown>>;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Query string for GET and DELETE, JSON body otherwise. */
  readonly parameters?: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeout_seconds: number;
  /** Set inside a foreach: the item's index (`$$.Map.Item.Index`), the last part of its Idempotency-Key. */
  readonly item_index?: number;
  /** W3C trace id of the execution (32 hex); the runner sends it as `traceparent` and `X-Trace-Id`. */
  readonly trace_id?: string;
  /** The workflow's tenant (the compiler sets it): whose the call's span is. */
  readonly tenant?: string;
  /**
   * The most bytes the result's JSON may take in state data (the compiler's share of the state budget for this
   * action); a larger response is stored outside it and passed by reference. Default 200 KiB.
   */
  readonly inline_result_bytes?: number;
  /**
   * The compiled state can park this call while its run is paused (it catches RunPaused): the runner asks for
   * the run's status first (pause-gate.ts). Absent in state machines compiled before pause existed.
   */
  readonly pausable?: boolean;
  /**
   * The dependency gates this call's action feeds (ADR 0016): each waiting action with its full producer list.
   * After a successful call the runner reports to them (gate-arrivals.ts); a failed call reports nothing.
   */
  readonly gate_waiters?: Readonly<Record<string, readonly string[]>>;
}

export interface ServiceCallResult {
  readonly status_code: number;
  readonly headers: Readonly<Record<string, string>>;
  /** JSON-parsed when the response says JSON, text otherwise. */
  readonly response: unknown;
}

/**
 * A header value as the state machine rendered it: a `{{reference}}` may give a number or a boolean, sent as
 * its text (as before payloads were parsed); null, an object or an array has no header text.
 */
const HeaderValue = z
  .union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or boolean (a header value)' })
  .transform((value) => String(value));

/**
 * ServiceCallPayload as the runner reads it from the Lambda event (or the local engine's invoke): what the
 * compiler writes, including payloads of state machines compiled by earlier versions (no `endpoint_values`,
 * `trace_id` or `inline_result_bytes`). Anything else is refused with every problem named, before a request
 * is sent.
 */
export const ServiceCallPayloadSchema = z.object({
  action_id: z.string().min(1),
  execution_id: z.string().min(1),
  workflow_id: z.string().min(1),
  workflow_version: z.number().int(),
  service: z.string().min(1),
  endpoint: z.string(),
  endpoint_values: z.record(z.string(), z.unknown()).optional(),
  method: z.enum(HTTP_METHODS),
  parameters: z.record(z.string(), z.unknown()).optional(),
  headers: z.record(z.string(), HeaderValue).optional(),
  timeout_seconds: z.number(),
  item_index: z.number().int().min(0).optional(),
  trace_id: z.string().optional(),
  tenant: z.string().optional(),
  inline_result_bytes: z.number().optional(),
  pausable: z.boolean().optional(),
  gate_waiters: GateWaitersSchema.optional(),
}).superRefine((payload, context) => {
  // The call's action is the producer it reports: refused before the call rather than by the gates after it.
  for (const problem of gateWaitersProblems(payload.action_id, payload.gate_waiters ?? {})) context.addIssue({ code: 'custom', path: ['gate_waiters', ...problem.path], message: problem.message });
}) satisfies z.ZodType<ServiceCallPayload>;

/**
 * The payload, read with its schema. One that is not a ServiceCallPayload fails as InvalidPayloadError (not
 * retryable: the same payload fails again), naming each field and rule; the request it carries is what could
 * be read of the payload, for the dead letter.
 */
export function parseServiceCallPayload(payload: unknown): ServiceCallPayload {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw invalidPayload(`the payload must be a JSON object, not ${payload === null ? 'null' : Array.isArray(payload) ? 'an array' : typeof payload}`, {});
  }
  const parsed = ServiceCallPayloadSchema.safeParse(payload);
  if (parsed.success) return parsed.data;
  throw invalidPayload(
    zodIssues(parsed.error)
      .map((issue) => `${issue.field}: ${issue.message}`)
      .join('; '),
    { ...payload },
  );
}

function invalidPayload(problems: string, fields: Record<string, unknown>): ServiceCallError {
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  return new ServiceCallError(ActionErrorName.InvalidPayload, {
    message: `the action runner's payload is not a service call payload (a state machine compiled by another version?): ${problems}`,
    request: { service: text(fields.service), method: text(fields.method), url: null, headers: {} },
  });
}
