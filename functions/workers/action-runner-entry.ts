import { createDocumentClient } from '../../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../../adapters/aws/dynamo/dynamo-service-registry.ts';
import { required } from '../config.ts';
import { createActionRunner } from './action-runner.ts';
import type { ServiceCallPayload, ServiceCallResult } from './service-call.ts';

/**
 * Lambda entry of the action runner (infra/stacks/runtime-stack.ts): compiled state machines invoke it with
 * a ServiceCallPayload (`lambda:invoke`, the payload as the event) and read `{ status_code, response }` from
 * its result. A failed call throws a ServiceCallError: Lambda reports its name as the error type, which the
 * state machine's Retry and Catch match. CDK sets REGISTRY_TABLE_NAME; `<SERVICE>_URL` variables, when set,
 * name services that are not registered.
 */
const run = createActionRunner({
  registry: new DynamoServiceRegistry(createDocumentClient(), required(process.env.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME')),
  env: process.env,
  // Comma-separated IPs or CIDRs the runner may call even though they are private (an internal load balancer).
  allowedAddresses: (process.env.ACTION_RUNNER_ALLOWED_ADDRESSES ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== ''),
});

export const handler = (payload: ServiceCallPayload): Promise<ServiceCallResult> => run(payload);
