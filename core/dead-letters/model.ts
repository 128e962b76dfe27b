import * as z from 'zod';
import { EventEnvelopeSchema, type EventEnvelope } from '../events/envelope.ts';
import { eventExecutionId, eventWorkflowId } from '../events/history.ts';

/**
 * The dead-letter queues' messages as the domain reads them (issue 12). Three queues, each an SQS queue in
 * AWS (the composition root says which of them a runtime has):
 * - `actions`: service calls that failed after their retries (compiled state machines send them with the
 *   native SQS integration, the local engine through adapters/aws/sqs/sqs-dead-letter-queue.ts): a body
 *   `{ kind: 'action_failed' | 'compensation_failed', execution_id, action_id, workflow_id, ..., error, cause }`;
 * - `deployments` (AWS only): version-published events the workflow deployer could not handle; EventBridge
 *   puts the whole event there (the envelope is its `detail`) and adds ERROR_CODE / ERROR_MESSAGE attributes;
 * - `deliveries`: webhook deliveries that failed: `{ subscription_id, event, error?, attempts? }`, or, from an
 *   EventBridge API destination, the event itself with a RULE_ARN attribute.
 * Nothing here trusts a body: each is parsed, and a body that fits no shape is a dead letter of kind `unknown`
 * (shown and counted, never retried).
 */

export const DEAD_LETTER_QUEUES = ['actions', 'deployments', 'deliveries'] as const;
export type DeadLetterQueueName = (typeof DEAD_LETTER_QUEUES)[number];

export const DEAD_LETTER_KINDS = ['action_failed', 'compensation_failed', 'deployment_failed', 'delivery_failed', 'unknown'] as const;
export type DeadLetterKind = (typeof DEAD_LETTER_KINDS)[number];

/** The error type of a dead letter that names none. */
export const UNKNOWN_ERROR_TYPE = 'unknown';

/** A message as a queue gave it, before its body is read. */
export interface ReceivedMessage {
  readonly messageId: string;
  /** What deletes or releases it; valid while this receive holds the message. */
  readonly receiptHandle: string;
  readonly body: string;
  /** When the queue got it (SQS SentTimestamp), ISO-8601. */
  readonly sentAt?: string;
  /** How many times it was received, this receive included (SQS ApproximateReceiveCount). */
  readonly receiveCount?: number;
  /** Its string message attributes (EventBridge's ERROR_CODE, ERROR_MESSAGE, RULE_ARN...). */
  readonly attributes: Readonly<Record<string, string>>;
}

/** One dead letter, read: what failed, where, and why. */
export interface DeadLetter {
  readonly queue: DeadLetterQueueName;
  readonly message_id: string;
  readonly kind: DeadLetterKind;
  readonly sent_at?: string;
  readonly receive_count?: number;
  readonly workflow_id?: string;
  readonly workflow_version?: number;
  readonly action_id?: string;
  readonly execution_id?: string;
  readonly subscription_id?: string;
  /** The EventBridge rule whose target failed (an API destination's dead letter). */
  readonly rule_arn?: string;
  /** The event a deployment or delivery retry publishes or delivers again, as it was. */
  readonly event?: EventEnvelope;
  /** The tenant the message belongs to, when its body says (events do; action messages do not: their run does). */
  readonly tenant?: string;
  /** `ServiceUnavailableError`, `States.Timeout`, EventBridge's ERROR_CODE...; UNKNOWN_ERROR_TYPE when none is named. */
  readonly error_type: string;
  readonly error_message?: string;
  /** Why a message is of kind `unknown`: what its body lacks. */
  readonly problem?: string;
  /** The body: parsed JSON, or the text when it is not JSON. */
  readonly body: unknown;
  /** The body's length in characters (SQS bodies are at most 256 KiB). */
  readonly body_length: number;
}

/** How much of an error message a dead letter keeps: a cause can hold a whole rendered request. */
const MAX_ERROR_MESSAGE = 1000;

const id = z.string().min(1);
const optionalText = z.string().nullish();

/** What a compiled state machine (or the local engine) sends for a failed service call or compensation. */
const RunFailureBody = z.object({
  kind: z.enum(['action_failed', 'compensation_failed']),
  execution_id: id,
  action_id: id,
  workflow_id: id,
  workflow_version: z.number().int().positive().optional(),
  error: optionalText,
  cause: optionalText,
});

/** An EventBridge event whose detail is one of our envelopes (the deployer's and API destinations' dead letters). */
const BusEvent = z.object({ 'detail-type': z.string(), source: z.string(), detail: EventEnvelopeSchema });

const VersionPublishedData = z.object({ workflow_id: id, version: z.number().int().positive() });

/** What the delivery worker dead-letters: the subscription, the event, and why the last attempt failed. */
const DeliveryBody = z.object({
  subscription_id: id,
  event: EventEnvelopeSchema,
  error: z.unknown().optional(),
  attempts: z.number().int().nonnegative().optional(),
});

/** Reads one message of `queue` into a dead letter; a body that fits none of the queue's shapes is `unknown`. */
export function parseDeadLetter(queue: DeadLetterQueueName, message: ReceivedMessage): DeadLetter {
  const base = {
    queue,
    message_id: message.messageId,
    ...(message.sentAt === undefined ? {} : { sent_at: message.sentAt }),
    ...(message.receiveCount === undefined ? {} : { receive_count: message.receiveCount }),
    body_length: message.body.length,
  };
  const attributeError = errorFromAttributes(message.attributes);
  let body: unknown;
  try {
    body = JSON.parse(message.body);
  } catch {
    return { ...base, kind: 'unknown', body: message.body, problem: 'the body is not JSON', ...attributeError };
  }
  const known = { ...base, body };
  const unknown = (problem: string): DeadLetter => ({ ...known, kind: 'unknown', problem, ...attributeError });

  if (queue === 'actions') {
    const parsed = RunFailureBody.safeParse(body);
    if (!parsed.success) return unknown(`not a failed action or compensation: ${describeIssues(parsed.error)}`);
    const failure = parsed.data;
    return {
      ...known,
      kind: failure.kind,
      execution_id: failure.execution_id,
      action_id: failure.action_id,
      workflow_id: failure.workflow_id,
      ...(failure.workflow_version === undefined ? {} : { workflow_version: failure.workflow_version }),
      error_type: nonEmpty(failure.error) ?? UNKNOWN_ERROR_TYPE,
      ...messageOf(failure.cause),
    };
  }

  if (queue === 'deployments') {
    const parsed = BusEvent.safeParse(body);
    if (!parsed.success) return unknown(`not an EventBridge event holding an event envelope: ${describeIssues(parsed.error)}`);
    const event = parsed.data.detail;
    const data = VersionPublishedData.safeParse(event.data);
    if (event.type !== 'orchestrator.workflow.version_published' || !data.success) {
      return unknown(`not a version-published event: ${event.type !== 'orchestrator.workflow.version_published' ? `its type is ${event.type}` : describeIssues(data.error!)}`);
    }
    return { ...known, kind: 'deployment_failed', event, tenant: event.tenant, workflow_id: data.data.workflow_id, workflow_version: data.data.version, ...attributeError };
  }

  const delivery = DeliveryBody.safeParse(body);
  if (delivery.success) {
    const { event, subscription_id } = delivery.data;
    const own = errorFromValue(delivery.data.error);
    return { ...known, kind: 'delivery_failed', event, subscription_id, tenant: event.tenant, ...eventIds(event), ...(own ?? attributeError) };
  }
  // An API destination's dead letter: the event EventBridge could not deliver, the rule named in an attribute.
  const bus = BusEvent.safeParse(body);
  if (bus.success) {
    const event = bus.data.detail;
    const ruleArn = message.attributes['RULE_ARN'];
    return { ...known, kind: 'delivery_failed', event, tenant: event.tenant, ...(ruleArn ? { rule_arn: ruleArn } : {}), ...eventIds(event), ...attributeError };
  }
  return unknown(`not a failed delivery (subscription_id and event): ${describeIssues(delivery.error)}`);
}

function eventIds(event: EventEnvelope): { execution_id?: string; workflow_id?: string } {
  const executionId = eventExecutionId(event);
  const workflowId = eventWorkflowId(event);
  return { ...(executionId === undefined ? {} : { execution_id: executionId }), ...(workflowId === undefined ? {} : { workflow_id: workflowId }) };
}

/** EventBridge's dead-letter attributes say why its target failed. */
function errorFromAttributes(attributes: Readonly<Record<string, string>>): { error_type: string; error_message?: string } {
  return { error_type: nonEmpty(attributes['ERROR_CODE']) ?? UNKNOWN_ERROR_TYPE, ...messageOf(attributes['ERROR_MESSAGE']) };
}

/** A delivery's `error`: a name, or an object naming one (`error`, `name`, `type` or `code`) and a message. */
function errorFromValue(value: unknown): { error_type: string; error_message?: string } | undefined {
  if (typeof value === 'string') return nonEmpty(value) === undefined ? undefined : { error_type: value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const type = [record['error'], record['name'], record['type'], record['code']].find((candidate): candidate is string => typeof candidate === 'string' && candidate !== '');
  const message = [record['message'], record['cause']].find((candidate): candidate is string => typeof candidate === 'string');
  if (type === undefined && message === undefined) return undefined;
  return { error_type: type ?? UNKNOWN_ERROR_TYPE, ...messageOf(message) };
}

function messageOf(text: string | null | undefined): { error_message?: string } {
  const value = nonEmpty(text);
  if (value === undefined) return {};
  return { error_message: value.length > MAX_ERROR_MESSAGE ? `${value.slice(0, MAX_ERROR_MESSAGE)}…` : value };
}

function nonEmpty(text: string | null | undefined): string | undefined {
  return typeof text === 'string' && text.trim() !== '' ? text : undefined;
}

/** The first few problems of a body, `path: rule`, enough to see why it is not what the queue expects. */
function describeIssues(error: z.ZodError): string {
  const issues = error.issues.slice(0, 3).map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`);
  return issues.join('; ') + (error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '');
}
