import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoWorkflowStore } from '../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { WORKFLOW_TABLE } from '../adapters/aws/dynamo/workflow-table.ts';
import { DynamoExecutionStore } from '../adapters/aws/dynamo/dynamo-execution-store.ts';
import { EXECUTION_TABLE } from '../adapters/aws/dynamo/execution-table.ts';
import { DynamoServiceRegistry } from '../adapters/aws/dynamo/dynamo-service-registry.ts';
import { REGISTRY_TABLE } from '../adapters/aws/dynamo/registry-table.ts';
import { createRegistryService } from '../core/registry/service.ts';
import type { LocalIntegrations } from '../adapters/local/local-engine.ts';
import { LocalWorkflowEngine } from '../adapters/local/local-workflow-engine.ts';
import { createExecutionService } from '../core/execution/service.ts';
import { LocalEventLog } from './integrations.ts';
import { createActionRunner, type ActionRunner } from '../functions/workers/action-runner.ts';
import type { ServiceCallPayload } from '../functions/workers/service-call.ts';
import { randomIds, systemClock } from '../core/system.ts';
import type { Clock, IdGenerator } from '../core/ports.ts';
import { loadWorkflowAt } from '../core/workflow/versions.ts';
import { createWorkflowService } from '../core/workflow/service.ts';
import { createAllHandlers } from '../functions/http/index.ts';
import type { HttpServices } from '../functions/http/services.ts';
import { routes } from '../functions/routes.ts';
import { compilerCheck, compileWorkflow, executionInput } from '../statemachines/compile.ts';
import { startDynalite, type RunningDynalite } from './dynalite.ts';
import { createLocalServer, listen } from './http-server.ts';
import { ensureTable } from './tables.ts';

export interface LocalRuntimeOptions {
  readonly port: number;
  readonly host: string;
  /** Where the emulator keeps its data; omitted = in memory (tests). */
  readonly dataDir?: string;
  /** An existing DynamoDB endpoint (a shared emulator, LocalStack); omitted = start an embedded dynalite. */
  readonly dynamoEndpoint?: string;
  readonly workflowsTableName: string;
  readonly executionsTableName?: string;
  /** Default: `<workflowsTableName>-registry`, so each test API gets a registry of its own. */
  readonly registryTableName?: string;
  readonly region: string;
  /** How service calls are made; default: the action runner, services found in the registry or `<NAME>_URL`. */
  readonly invokeRunner?: LocalIntegrations['invokeRunner'];
  /** `<NAME>_URL` variables: where unregistered services are found. */
  readonly serviceUrls?: Readonly<Record<string, string | undefined>>;
  /** Test speed-ups for waits and retry intervals, in milliseconds. */
  readonly waitMilliseconds?: number;
  readonly retryMilliseconds?: number;
  readonly serviceVersion: string;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
}

export interface LocalRuntime {
  readonly url: string;
  readonly services: HttpServices;
  readonly documentClient: DynamoDBDocumentClient;
  readonly engine: LocalWorkflowEngine;
  readonly eventLog: LocalEventLog;
  close(): Promise<void>;
}

/**
 * The whole orchestrator on one machine: the same handlers and DynamoDB adapter as in AWS, with the
 * emulator behind the adapter and a local HTTP server in front of the handlers.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  let dynalite: RunningDynalite | undefined;
  let endpoint = options.dynamoEndpoint;
  if (!endpoint) {
    const path = options.dataDir ? join(options.dataDir, 'dynamodb') : undefined;
    if (path) await mkdir(path, { recursive: true });
    dynalite = await startDynalite({ path });
    endpoint = dynalite.endpoint;
  }
  const documentClient = createDocumentClient({
    endpoint,
    region: options.region,
    // The emulator accepts any credentials; fixed ones keep the SDK from searching for real ones.
    credentials: options.dynamoEndpoint ? undefined : { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const executionsTableName = options.executionsTableName ?? `${options.workflowsTableName}-executions`;
    await ensureTable(documentClient, WORKFLOW_TABLE, options.workflowsTableName);
    await ensureTable(documentClient, EXECUTION_TABLE, executionsTableName);
    const registryTableName = options.registryTableName ?? `${options.workflowsTableName}-registry`;
    await ensureTable(documentClient, REGISTRY_TABLE, registryTableName);
    const registry = new DynamoServiceRegistry(documentClient, registryTableName);
    const clock = options.clock ?? systemClock;
    const ids = options.ids ?? randomIds;
    const workflowStore = new DynamoWorkflowStore(documentClient, options.workflowsTableName);
    const executionStore = new DynamoExecutionStore(documentClient, executionsTableName);
    const eventLog = new LocalEventLog({ log: (line) => console.error(JSON.stringify({ time: clock.now(), ...line })) });
    const engine = new LocalWorkflowEngine({
      executions: executionStore,
      clock,
      compiler: {
        compile: (workflow) => ({ definition: compileWorkflow(workflow).definition as unknown as Record<string, unknown>, input: (params, traceId) => executionInput(params, traceId) }),
      },
      integrations: {
        invokeRunner: options.invokeRunner ?? localRunner(createActionRunner({ registry, env: options.serviceUrls ?? {}, allowPrivateNetworks: true })),
        ...eventLog.integrations(),
      },
      loadWorkflow: (workflowId, version) => loadWorkflowAt(workflowStore, workflowId, version),
      waitMilliseconds: options.waitMilliseconds,
      retryMilliseconds: options.retryMilliseconds,
    });
    // Runs cut off by a previous stop of this process are marked failed, with the reason, before serving.
    await engine.recover();
    const services: HttpServices = {
      workflowStore,
      workflows: createWorkflowService({ store: workflowStore, clock, ids, compiler: compilerCheck }),
      executions: createExecutionService({ workflows: workflowStore, executions: executionStore, engine, clock, ids }),
      registry,
      registryService: createRegistryService({ registry, clock }),
      serviceVersion: options.serviceVersion,
    };
    const server = await listen(createLocalServer({ routes, handlers: createAllHandlers(services) }), options.port, options.host);
    return {
      url: server.url,
      services,
      documentClient,
      engine,
      eventLog,
      close: async () => {
        await server.close();
        await engine.shutdown();
        documentClient.destroy();
        await dynalite?.close();
      },
    };
  } catch (error) {
    documentClient.destroy();
    await dynalite?.close();
    throw error;
  }
}

/** The action runner behind the engine's `lambda:invoke` stand-in. */
function localRunner(runner: ActionRunner): LocalIntegrations['invokeRunner'] {
  return (payload, signal) => runner(payload as unknown as ServiceCallPayload, { signal });
}
