import type { Action } from '../../core/workflow/definition.ts';
import { Placeholder, Resource, type JsonObject } from '../asl.ts';
import { COMPLETED, DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS, runIds, TRACE_ID, type ActionContext, type ActionTarget, type States } from '../context.ts';
import { failureHandling } from '../failure.ts';
import { copyWaiters } from '../gates.ts';
import { compileEndpoint, deferredPayloadTemplate, executionIdPath, payloadTemplate, type PathScope } from '../paths.ts';
import { pausable, task } from '../task.ts';

type ServiceCallConfig = Extract<Action, { action_type: 'service_call' }>['config'];

/**
 * A service call: one pausable call to the action runner (which makes the HTTP request), its failure
 * handling with a dead letter that names the call, and the state a call parks in while its run is paused.
 */
export function compileServiceCall(context: ActionContext, action: Extract<Action, { action_type: 'service_call' }>, target: ActionTarget): States {
  const id = action.action_id;
  const ids = runIds(context, id);
  const failure = failureHandling(context, action, target, { ...ids, service: action.config.service, endpoint: action.config.endpoint, method: action.config.method });
  const reports = target.runnerReports;
  const runner = runnerCall(
    context.scope,
    { ...ids, 'trace_id.$': TRACE_ID, ...(reports ? { gate_waiters: copyWaiters(reports.waiters) } : {}) },
    action.config,
    action.timeout_seconds ?? DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS,
    context.inlineResultBytes.action,
    target.gateWait,
  );
  const call = task({
    ...runner,
    // A gated call's token is answered with what lambda:invoke gives (`{ StatusCode, Payload }`), so the result reads the same.
    resultSelector: { outcome: COMPLETED, 'status_code.$': '$.Payload.status_code', 'response.$': '$.Payload.response' },
    resultPath: target.resultPath,
    // A gated call's wait may fail with GateUnavailableError, as a report from the runner may.
    retry: { policy: action.retry, reportsToGates: reports !== undefined || target.gateWait !== undefined },
    catch: failure.catch,
    next: reports ? reports.completedNext : target.next,
  });
  const held = `${id}: held`;
  const paused = pausable(call, id, held, { 'execution_id.$': executionIdPath(context.scope), action_id: id });
  return { [id]: paused.call, ...failure.states, [held]: paused.parked };
}

/**
 * The Resource, Parameters and TimeoutSeconds of a call to the action runner (a ServiceCallPayload): the ids
 * that say whose call it is, the rendered request, and how much of its result may stay in state data. Service
 * call actions, foreach items and compensations all call services through this.
 *
 * With `gateWait`, a gated call (ADR 0016; functions/workers/gated-calls.ts): `.waitForTaskToken` with the
 * producers and the token beside the call, and the request values that read released producers' outputs left
 * for the runner to render (`deferred`). No TimeoutSeconds: the state waits as long as its producers run, and
 * the runner stops the call itself at the action's timeout.
 */
export function runnerCall(
  scope: PathScope,
  ids: JsonObject,
  config: ServiceCallConfig,
  timeout: number,
  inlineResultBytes: number,
  gateWait?: readonly string[],
): { resource: typeof Resource.lambdaInvoke | typeof Resource.lambdaInvokeCallback; parameters: JsonObject; timeoutSeconds?: number } {
  const { service, endpoint, ...rest } = serviceRequest(config, timeout);
  // A templated endpoint's values go beside it, for the runner to percent-encode (paths.ts compileEndpoint).
  const compiled = compileEndpoint(String(endpoint), scope);
  const path = { endpoint: compiled.endpoint, ...(compiled.values ? { endpoint_values: compiled.values } : {}) };
  const request = gateWait && scope.released ? deferredPayloadTemplate(rest, scope) : { template: payloadTemplate(rest, scope), deferred: [] };
  const payload = { ...ids, ...payloadTemplate({ service }, scope), ...path, ...request.template, inline_result_bytes: inlineResultBytes };
  if (gateWait) {
    const wait = { producers: [...gateWait], 'task_token.$': '$$.Task.Token', ...(request.deferred.length > 0 ? { deferred: request.deferred } : {}) };
    return { resource: Resource.lambdaInvokeCallback, parameters: { FunctionName: Placeholder.actionRunner, Payload: { ...payload, gate_wait: wait } } };
  }
  return {
    resource: Resource.lambdaInvoke,
    parameters: { FunctionName: Placeholder.actionRunner, Payload: payload },
    // The runner gives up on the HTTP call at `timeout`; the state allows a little more for the Lambda itself.
    timeoutSeconds: timeout + 5,
  };
}

function serviceRequest(config: ServiceCallConfig, timeout: number): Record<string, unknown> {
  return {
    service: config.service,
    endpoint: config.endpoint,
    method: config.method,
    ...(config.parameters && Object.keys(config.parameters).length > 0 ? { parameters: config.parameters } : {}),
    ...(config.headers && Object.keys(config.headers).length > 0 ? { headers: config.headers } : {}),
    timeout_seconds: timeout,
  };
}
