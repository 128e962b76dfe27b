import { sentNotification, type ActionProgress } from '../../core/execution/model.ts';
import { announceDeadLetter, isDeadLetterNoticePayload } from '../../core/events/dead-letter-notice.ts';
import { isRedriveGatePayload, passRedriveGate } from '../../core/execution/redrive-gate.ts';
import { arriveAtGates, gatedCallWait, gateFeedOf, parseGateRequest, serviceCallOutput } from '../../core/execution/gate-requests.ts';
import { checkLlmAnswer, isLlmCheckPayload, LlmErrorName } from '../../core/execution/llm-check.ts';
import { awaitRelease, type LocalGates } from './in-process-gates.ts';
import type { LocalIntegrations } from './local-engine.ts';

/**
 * What the local engine's Task states do (local-engine.ts routes every Task to these by its input's shape):
 * the local stand-ins for the action runner Lambda, EventBridge, SQS, Bedrock and Step Functions, and the
 * dependency gates' waits and reports.
 */

export async function dispatch(stateName: string, input: Record<string, unknown>, integrations: LocalIntegrations, signal: AbortSignal): Promise<unknown> {
  if ('FunctionName' in input && isRedriveGatePayload(input.Payload)) {
    // Locally a retry replays the run instead of redriving it: the gate is only ever the run's failure.
    return { Payload: passRedriveGate(input.Payload), StatusCode: 200 };
  }
  if ('FunctionName' in input && isDeadLetterNoticePayload(input.Payload)) {
    // What the action runner's entry does in AWS: the dead letter is announced on the bus.
    return { Payload: await announceDeadLetter(input.Payload, integrations.emit ?? (async () => undefined)), StatusCode: 200 };
  }
  if ('FunctionName' in input && isLlmCheckPayload(input.Payload)) {
    // What the action runner's entry does in AWS: an llm answer checked against its output_schema.
    return { Payload: checkLlmAnswer(input.Payload), StatusCode: 200 };
  }
  if ('FunctionName' in input) {
    const result = await integrations.invokeRunner(input.Payload as Record<string, unknown>, signal);
    return { Payload: result, StatusCode: 200 };
  }
  if ('ModelId' in input) {
    if (!integrations.invokeModel) throw namedError(LlmErrorName.GatewayNotConfigured, `${stateName}: this runtime has no model to call`);
    return integrations.invokeModel({ ModelId: String(input.ModelId), Body: input.Body }, signal);
  }
  if ('Entries' in input) {
    const entries = input.Entries as Record<string, unknown>[];
    const ids = await Promise.all(entries.map((entry) => integrations.putEvent(entry)));
    return { Entries: ids.map((EventId) => ({ EventId })), FailedEntryCount: 0 };
  }
  if ('QueueUrl' in input) {
    await integrations.sendDeadLetter(input.MessageBody);
    return { MessageId: `local-${stateName}` };
  }
  if ('StateMachineArn' in input) {
    const { output, executionArn } = await integrations.startSubWorkflow(String(input.StateMachineArn), input.Input, signal);
    return { Output: output, ExecutionArn: executionArn, Status: 'SUCCEEDED' };
  }
  throw new Error(`no local integration for task state ${stateName}`);
}

function namedError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * A `<W>: gate` state (a waiter: its result is the release's outputs, when every producer has reported) or a
 * `<P>: report` state (a producer that finished: `{ released }`, as the runner's Lambda answers).
 */
export async function gateTask(stateName: string, payload: unknown, gates: LocalGates | undefined, signal: AbortSignal): Promise<unknown> {
  if (!gates) throw new Error(`${stateName}: this runtime has no dependency gates`);
  const request = parseGateRequest(payload);
  if (request.kind === 'arrive') return { Payload: { released: await arriveAtGates(gates, request.executionId, request.producer, request.waiters, request.output) }, StatusCode: 200 };
  return awaitRelease(gates, request, signal);
}

/**
 * A gated call (ADR 0016) waits at its gate before it is made: resolves with the producers' outputs when every
 * one has reported. Its state then makes the call as any other (the engine's handler awaits; in AWS the runner makes it once
 * released, functions/workers/gated-calls.ts).
 */
export async function waitInCall(stateName: string, payload: Record<string, unknown>, gates: LocalGates | undefined, signal: AbortSignal): Promise<Record<string, unknown>> {
  if (!gates) throw new Error(`${stateName}: this runtime has no dependency gates`);
  return awaitRelease(gates, gatedCallWait(payload), signal);
}

/** A service call that feeds gates, replayed from its checkpoint: its recorded result is reported as the runner would have. */
export async function reportReplayedCall(payload: unknown, recorded: unknown, gates: LocalGates | undefined): Promise<void> {
  const feed = gateFeedOf(payload);
  const result = (recorded as { Payload?: { status_code?: unknown; response?: unknown } } | null)?.Payload;
  if (!feed || !gates || typeof result?.status_code !== 'number') return;
  await arriveAtGates(gates, feed.executionId, feed.producer, feed.waiters, serviceCallOutput({ status_code: result.status_code, response: result.response }));
}

/** What an action returned, as the API shows it; a notification shows the message it sent with its event id. */
export function extractOutput(result: unknown, input: Record<string, unknown>): ActionProgress['output'] {
  const payload = (result as { Payload?: { status_code?: number; response?: unknown } }).Payload;
  if (payload) return { status_code: payload.status_code ?? null, response: payload.response };
  const entries = (result as { Entries?: { EventId: string }[] }).Entries;
  if (entries) {
    const detail = ((input.Entries as { Detail?: Record<string, unknown> }[] | undefined)?.[0]?.Detail ?? {}) as Record<string, unknown>;
    return { status_code: 200, response: { event_id: entries[0]?.EventId, ...sentNotification(detail) } };
  }
  const output = (result as { Output?: unknown }).Output;
  return { status_code: null, response: output };
}
