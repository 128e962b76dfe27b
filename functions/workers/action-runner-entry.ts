import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { LambdaAsyncInvoker } from '../../adapters/aws/lambda/async-invoker.ts';
import { sharedDocumentClient } from '../../adapters/aws/dynamo/client.ts';
import { DynamoParkedCallStore } from '../../adapters/aws/dynamo/dynamo-parked-calls.ts';
import { StepFunctionsGateReleases, StepFunctionsTaskAnswers, StepFunctionsTaskTokens } from '../../adapters/aws/stepfunctions/task-tokens.ts';
import { DynamoDependencyGates } from '../../adapters/aws/dynamo/dynamo-dependency-gates.ts';
import { handleGateRequest, isGatedCallPayload, isGatePayload, type GateRequestDeps } from '../../core/execution/gate-requests.ts';
import { withGateArrivals } from './gate-arrivals.ts';
import { createGatedCalls, isReleasedCallPayload, releasedCallPayload, routeReleases } from './gated-calls.ts';
import { DynamoExecutionStore } from '../../adapters/aws/dynamo/dynamo-execution-store.ts';
import { DynamoServiceRegistry } from '../../adapters/aws/dynamo/dynamo-service-registry.ts';
import { createS3Client, S3PayloadStore } from '../../adapters/aws/s3/payload-store.ts';
import { systemClock } from '../../core/system.ts';
import { awsOutboundHttp, awsSecretResolver } from '../aws-outbound.ts';
import { readLambdaConfig, required } from '../config.ts';
import { createActionRunner } from './action-runner.ts';
import { withRunEvents } from '../../core/events/run-events.ts';
import { withRegistryEvents } from '../../core/events/registry-events.ts';
import { awsEventEmitter } from '../aws-events.ts';
import { createCallParker, isParkPayload, withPauseGate } from './pause-gate.ts';
import type { ServiceCallResult } from './service-call.ts';
import { isRedriveGatePayload, passRedriveGate } from '../../core/execution/redrive-gate.ts';
import { announceDeadLetter, isDeadLetterNoticePayload } from '../../core/events/dead-letter-notice.ts';
import { checkLlmAnswer, isLlmCheckPayload, type LlmCheckResult } from '../../core/execution/llm-check.ts';
import { awsSpanRecorder, configureAwsLog, flushAfter } from '../aws-observability.ts';
import { awsEmfMetrics } from '../aws-emf.ts';
import { noopMetrics } from '../observability/metric-recorder.ts';
import { meteredEmit, meteredRunner } from '../observability/run-metrics.ts';
import { sharedLog } from '../observability/logger.ts';
import { lazyXrayTracer, withXraySubsegment, type XraySubsegment } from '../observability/xray.ts';

/**
 * Lambda entry of the action runner (infra/stacks/runtime-stack.ts): compiled state machines invoke it with
 * a ServiceCallPayload (`lambda:invoke`, the payload as the event) and read `{ status_code, response }` from
 * its result. A failed call throws a ServiceCallError: Lambda reports its name as the error type, which the
 * state machine's Retry and Catch match. CDK sets REGISTRY_TABLE_NAME and EXECUTIONS_TABLE_NAME (each
 * attempt is recorded as the action's progress) and PAYLOAD_BUCKET_NAME (responses too large for state data);
 * `<SERVICE>_URL` variables, when set, name services that are not registered; ORCHESTRATOR_CIRCUIT_* and
 * ORCHESTRATOR_REGISTRY_CACHE_TTL_MS, when set, tune circuit breaking; ORCHESTRATOR_OUTBOUND_ALLOW lists what
 * it may call besides public addresses.
 */
const config = readLambdaConfig();
const http = awsOutboundHttp(config);
// LOG_LEVEL; lines shipped to LOG_COLLECTOR_URL too (through the outbound rules), sent before the runner answers.
const log = configureAwsLog(config, http);
const client = sharedDocumentClient();
// Attempts, circuits and dead letters are events on the workflow bus (WORKFLOW_EVENT_BUS_NAME).
const emit = awsEventEmitter(config);
const executionsTable = required(config.EXECUTIONS_TABLE_NAME, 'EXECUTIONS_TABLE_NAME');
const parkedCalls = new DynamoParkedCallStore(client, executionsTable);
// Each attempt is a client span under its action's (SPANS_TABLE_NAME; OTEL_EXPORTER_OTLP_ENDPOINT), exported before the runner answers.
const spans = awsSpanRecorder(config, sharedLog);
// Each call's outcome and each action's end as CloudWatch EMF (ORCHESTRATOR_METRICS_ENABLED), published before the runner answers.
const metrics = config.ORCHESTRATOR_METRICS_ENABLED === false ? noopMetrics : awsEmfMetrics('action-runner');
const runner = createActionRunner({
  // Circuits opening and closing are service events on the bus.
  registry: withRegistryEvents(new DynamoServiceRegistry(client, required(config.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME')), emit),
  env: process.env,
  // Checked at each connection: public addresses, and what ORCHESTRATOR_OUTBOUND_ALLOW lists (an internal load balancer).
  http,
  // Credentials of services registered with `auth` (Secrets Manager and SSM, under orchestrator/ only).
  secrets: awsSecretResolver(),
  // Each attempt's start and end emit action events on the bus (WORKFLOW_EVENT_BUS_NAME).
  progress: { attempts: withRunEvents(new DynamoExecutionStore(client, executionsTable), meteredEmit(emit, metrics, { defaultActionType: 'service_call' })), clock: systemClock },
  // Each instance's circuit is kept in the registry table and shared by every instance of this function.
  circuitPolicy: {
    failureThreshold: config.ORCHESTRATOR_CIRCUIT_FAILURE_THRESHOLD,
    windowSeconds: config.ORCHESTRATOR_CIRCUIT_WINDOW_SECONDS,
    cooldownSeconds: config.ORCHESTRATOR_CIRCUIT_COOLDOWN_SECONDS,
  },
  registryCacheTtlMs: config.ORCHESTRATOR_REGISTRY_CACHE_TTL_MS,
  // Responses too large for state data are kept here and passed by reference (docs/adr/0005-large-results.md).
  payloads: { store: new S3PayloadStore(createS3Client(), required(config.PAYLOAD_BUCKET_NAME, 'PAYLOAD_BUCKET_NAME')) },
  spans,
});

// Pause (ADR 0012): calls of paused runs are refused with RunPaused, and parked by the compiled `: held` state.
// Measured inside the gate: a paused run's refused call is not a call of the service.
const sfn = new SFNClient({});
const park = createCallParker(parkedCalls, new StepFunctionsTaskTokens(sfn));
// Dependency gates (ADR 0016) in the runs' item collections; a release answers the waiting state's token, and
// a gated call's release is handed to this function again, asynchronously (AWS_LAMBDA_FUNCTION_NAME, set by
// Lambda), to make the call apart from the report that released it.
const selfInvoker = new LambdaAsyncInvoker(new LambdaClient({}), required(process.env.AWS_LAMBDA_FUNCTION_NAME, 'AWS_LAMBDA_FUNCTION_NAME'));
const dependencyGates = new DynamoDependencyGates(client, executionsTable, systemClock);
const gates: GateRequestDeps = {
  gates: dependencyGates,
  release: routeReleases(new StepFunctionsGateReleases(sfn), { dispatch: (token, call, outputs) => selfInvoker.invoke(releasedCallPayload(token, call, outputs)) }),
};
// A call that feeds gates (`gate_waiters`) reports to them once it succeeded, before its result goes back.
const run = withGateArrivals(withPauseGate(meteredRunner(runner, metrics), parkedCalls), gates);
// A call that waits at its own gate (`gate_wait`) is made once released, and answers its state's token.
const gatedCalls = createGatedCalls(run, { gates: dependencyGates, answers: new StepFunctionsTaskAnswers(sfn) });

/**
 * A `park` event comes from a compiled `<id>: held` state (a paused run's call, with its task token), a
 * `gate` one from an `<id>: gate` state (a waiter, with its task token) or an `<id>: report` state (a producer
 * that finished), a `redrive_gate` one from an `<id>: failed` state, a `dead_letter_added` one from an
 * `<id>: dead letter event` state, an `llm_check` one from an llm action's `<id>: check` or `<id>: recheck` state
 * (its answer against its output_schema); any other event is read as a ServiceCallPayload by the runner
 * (InvalidPayloadError when it is not one).
 */
// X-Ray (Powertools Tracer) with active tracing: each service call a subsegment, searchable by run, action, service and trace id.
const xray = lazyXrayTracer({ enabled: config.ORCHESTRATOR_TRACING_ENABLED, daemonAddress: config.AWS_XRAY_DAEMON_ADDRESS, serviceName: config.POWERTOOLS_SERVICE_NAME ?? 'action-runner' });

export const handler = flushAfter(withXraySubsegment(async (event: unknown): Promise<ServiceCallResult | LlmCheckResult | { parked: boolean } | { waiting: boolean } | { released: number } | { redriven: true } | { announced: true } | { answered: true }> => {
  if (isParkPayload(event)) return park(event);
  // A gated call's result is what its token is answered with (by this invocation when its gate is complete).
  if (isGatedCallPayload(event)) return gatedCalls.wait(event);
  if (isReleasedCallPayload(event)) return gatedCalls.made(event);
  // A waiter's result is what its release sends with the token (SendTaskSuccess), not this answer.
  if (isGatePayload(event)) return handleGateRequest(event, gates);
  // A failed action's dead letter is in its queue: announce it (orchestrator.dlq.added).
  if (isDeadLetterNoticePayload(event)) return announceDeadLetter(event, emit);
  // A run that failed at an action ends here, and goes on from here after a retry (RedriveExecution).
  if (isRedriveGatePayload(event)) return passRedriveGate(event);
  // An llm action's answer against its output_schema: valid, its result; invalid, the turns of one repair call, then OutputSchemaMismatchError.
  if (isLlmCheckPayload(event)) return checkLlmAnswer(event);
  return run(event);
}, describeCall, xray), spans, { flush: () => metrics.flush?.() }, log);

/** A service call's subsegment (X-Ray names: at most 200 characters); the gate and notice events get none. */
function describeCall(event: unknown): XraySubsegment | undefined {
  if (typeof event !== 'object' || event === null || isParkPayload(event) || isGatePayload(event) || isReleasedCallPayload(event) || isDeadLetterNoticePayload(event) || isRedriveGatePayload(event) || isLlmCheckPayload(event)) return undefined;
  const field = (name: string): string | undefined => {
    const value = (event as Record<string, unknown>)[name];
    return typeof value === 'string' ? value.slice(0, 200) : undefined;
  };
  const service = field('service');
  if (service === undefined) return undefined;
  return {
    name: `service_call ${service}`.slice(0, 200).replace(/[^\w.:/%&#=+\-@ ]/g, '_'),
    annotations: { execution_id: field('execution_id'), action_id: field('action_id'), service, orchestrator_trace_id: field('trace_id'), tenant: field('tenant') },
  };
}
