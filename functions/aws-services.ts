import { SFNClient } from '@aws-sdk/client-sfn';
import { lazyEventBridgePublisher } from '../adapters/aws/eventbridge/event-bridge-publisher.ts';
import { DynamoExecutionStore } from '../adapters/aws/dynamo/dynamo-execution-store.ts';
import { DynamoWorkflowStore } from '../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { parseStepFunctionsEngineConfig } from '../adapters/aws/stepfunctions/config.ts';
import { StepFunctionsWorkflowEngine } from '../adapters/aws/stepfunctions/step-functions-engine.ts';
import { StepFunctionsTaskTokens } from '../adapters/aws/stepfunctions/task-tokens.ts';
import { DynamoParkedCallStore } from '../adapters/aws/dynamo/dynamo-parked-calls.ts';
import { createExecutionService, type ExecutionService } from '../core/execution/service.ts';
import type { ServiceRegistry, WorkflowEngine, WorkflowStore } from '../core/ports.ts';
import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoServiceRegistry } from '../adapters/aws/dynamo/dynamo-service-registry.ts';
import { createRegistryService } from '../core/registry/service.ts';
import { contendedUpdateRetry, randomIds, systemClock } from '../core/system.ts';
import { loadWorkflowAt } from '../core/workflow/versions.ts';
import { createWorkflowService, type WorkflowService } from '../core/workflow/service.ts';
import { compilerCheck, compileWorkflow, executionInput } from '../statemachines/compile.ts';
import { hasRedriveGate } from '../statemachines/inspect.ts';
import { cursorCodecOf, readLambdaConfig, required, type LambdaConfig } from './config.ts';
import { awsSystemHealth } from './aws-system-health.ts';
import type { RegistryHttpServices } from './http/registry-handlers.ts';
import type { HttpServices } from './http/services.ts';
import { awsSecurityServices } from './aws-security.ts';
import { RESERVED_WORKFLOW_IDS } from './fixed-path-words.ts';
import { withRunEvents } from '../core/events/run-events.ts';
import { withRegistryEvents } from '../core/events/registry-events.ts';
import { awsEventEmitter } from './aws-events.ts';
import { sharedLog } from './observability/logger.ts';

/** Composition root for Lambda: AWS adapters configured from the environment. */
export function awsServices(): HttpServices {
  const config = readLambdaConfig();
  let registryServices: ReturnType<typeof awsRegistryServices> | undefined;
  let executionServices: ReturnType<typeof awsExecutionServices> | undefined;
  let systemHealth: HttpServices['systemHealth'] | undefined;
  let securityServices: ReturnType<typeof awsSecurityServices> | undefined;
  const workflowStore = new DynamoWorkflowStore(sharedDocumentClient(), required(config.WORKFLOWS_TABLE_NAME, 'WORKFLOWS_TABLE_NAME'), { cursors: cursorCodecOf(config) });
  return {
    get security() {
      return (securityServices ??= awsSecurityServices()).security;
    },
    get apiKeys() {
      return (securityServices ??= awsSecurityServices()).apiKeys;
    },
    get auditTrail() {
      return (securityServices ??= awsSecurityServices()).auditTrail;
    },
    workflowStore,
    workflows: awsWorkflowService(config, workflowStore),
    serviceVersion: config.SERVICE_VERSION,
    // Built on first use: only functions whose routes declare the registry table get REGISTRY_TABLE_NAME.
    get registry() {
      return (registryServices ??= awsRegistryServices()).registry;
    },
    get registryService() {
      return (registryServices ??= awsRegistryServices()).registryService;
    },
    get executions() {
      return (executionServices ??= awsExecutionServices()).executions;
    },
    // Built on first use, like the registry: the health routes' own entries build theirs at init instead.
    get systemHealth() {
      return (systemHealth ??= awsSystemHealth());
    },
    // The observability routes compose these in their own entries (functions/entries/get-*.ts), each with only
    // what it reads: no other function's bundle carries prom-client or the span store.
    get tracing(): HttpServices['tracing'] {
      throw new Error('tracing is composed by its own entries (functions/entries/get-trace.ts, ...)');
    },
    get metrics(): HttpServices['metrics'] {
      throw new Error('metrics are composed by their own entry (functions/entries/get-metrics.ts)');
    },
    get platformInfo(): HttpServices['platformInfo'] {
      throw new Error('the platform info is composed by its own entry (functions/entries/get-info.ts)');
    },
    get configuration(): HttpServices['configuration'] {
      throw new Error('the configuration report is composed by its own entry (functions/entries/get-effective-config.ts)');
    },
    get readiness(): HttpServices['readiness'] {
      throw new Error('readiness is composed by its own entry (functions/entries/ready.ts)');
    },
    // These call services or peers over HTTP: only their routes' own entries (run-health-check, list-peers,
    // sync-peers, poll-open-api, list-tools) compose them, so that no other function's bundle carries the HTTP client.
    get healthSweep(): HttpServices['healthSweep'] {
      throw new Error('the health sweep is composed by its own entry (functions/entries/run-health-check.ts)');
    },
    get peers(): HttpServices['peers'] {
      throw new Error('the peer service is composed by its routes\' own entries (functions/entries/list-peers.ts, sync-peers.ts, replicate-instances.ts)');
    },
    get apiDrift(): HttpServices['apiDrift'] {
      throw new Error('OpenAPI polling is composed by its own entry (functions/entries/poll-open-api.ts)');
    },
    get tools(): HttpServices['tools'] {
      throw new Error('the tool listing is composed by its own entry (functions/entries/list-tools.ts)');
    },
    // The model client and the planner's graph only go where they are used.
    get planner(): HttpServices['planner'] {
      throw new Error('the planner is composed by its own entry (functions/entries/plan-workflow.ts)');
    },
    get events(): HttpServices['events'] {
      throw new Error('the event routes are composed by their own entries (functions/aws-events.ts)');
    },
    get subscriptions(): HttpServices['subscriptions'] {
      throw new Error('the subscription routes are composed by their own entries (functions/aws-subscriptions.ts)');
    },
    // The ecosystem and schedule routes compose these in their own entries (functions/aws-ecosystem.ts), so no
    // other function's bundle carries the scheduler client or the action runner.
    get ecosystem(): HttpServices['ecosystem'] {
      throw new Error('ingestion and jobs are composed by their own entries (functions/aws-ecosystem.ts)');
    },
    get serviceProxy(): HttpServices['serviceProxy'] {
      throw new Error('the proxies are composed by their own entries (functions/aws-ecosystem.ts)');
    },
    get logAnalysisService(): HttpServices['logAnalysisService'] {
      throw new Error('the demo bundle is composed by its own entry (functions/aws-ecosystem.ts)');
    },
    get schedules(): HttpServices['schedules'] {
      throw new Error('schedules are composed by their routes\' own entries (functions/aws-ecosystem.ts; delete-workflow.ts)');
    },
    get deadLetters(): HttpServices['deadLetters'] {
      throw new Error('the dead-letter routes are composed by their own entries (functions/aws-dead-letters.ts)');
    },
    get mcp(): HttpServices['mcp'] {
      throw new Error('the MCP server is composed by its own entry (functions/entries/mcp.ts)');
    },
  };
}

/**
 * The workflow use cases over `store`, as every route that creates or changes workflows composes them (the
 * workflow routes, and POST /ai/plan's save, functions/aws-planner.ts): the compiler's limits, ids that are
 * never fixed path words, and lifecycle events on the bus where the route publishes.
 */
export function awsWorkflowService(config: LambdaConfig, store: WorkflowStore): WorkflowService {
  return createWorkflowService({
    updateRetry: contendedUpdateRetry,
    store,
    clock: systemClock,
    ids: randomIds,
    reservedIds: RESERVED_WORKFLOW_IDS,
    compiler: compilerCheck,
    // Only the routes that change workflows publish (bus: 'publish' gives them the bus and PutEvents on it).
    ...(config.WORKFLOW_EVENT_BUS_NAME === undefined ? {} : { events: lazyEventBridgePublisher(config.WORKFLOW_EVENT_BUS_NAME) }),
    onPublishFailure: (event, error) => sharedLog({ level: 'error', message: 'workflow event not published', event_type: event.type, event_id: event.event_id, subject: event.subject, error: String(error) }),
  });
}

/**
 * Composition root for the executions context: the executions table, and the workflows table (read) and the
 * Step Functions engine, both built on first use: only the routes that start runs or list a workflow's runs
 * read workflows, and only those that start or stop runs get the engine's configuration and rights, so the
 * others are granted neither.
 */
export function awsExecutionServices(): { executions: ExecutionService } {
  const config = readLambdaConfig();
  const client = sharedDocumentClient();
  let workflowTable: DynamoWorkflowStore | undefined;
  const workflowsTable = () => (workflowTable ??= new DynamoWorkflowStore(client, required(config.WORKFLOWS_TABLE_NAME, 'WORKFLOWS_TABLE_NAME')));
  const workflowStore: Pick<WorkflowStore, 'get' | 'getVersion'> = {
    get: (workflowId) => workflowsTable().get(workflowId),
    getVersion: (workflowId, version) => workflowsTable().getVersion(workflowId, version),
  };
  // Only the run listings need the cursor codec; the workflows table is read by id here, so its store gets none.
  // Changes of runs emit their events on the bus (the routes that change runs declare `bus: 'publish'`).
  const executionStore = withRunEvents(new DynamoExecutionStore(client, required(config.EXECUTIONS_TABLE_NAME, 'EXECUTIONS_TABLE_NAME'), { cursors: cursorCodecOf(config) }), awsEventEmitter(config));
  const loadWorkflow = (workflowId: string, version?: number) => loadWorkflowAt(workflowStore, workflowId, version);
  let engine: StepFunctionsWorkflowEngine | undefined;
  const stepFunctions = (): StepFunctionsWorkflowEngine =>
    (engine ??= (() => {
      const sfn = new SFNClient({});
      return new StepFunctionsWorkflowEngine({
        client: sfn,
        config: parseStepFunctionsEngineConfig(process.env),
        compiler: { compile: (workflow, options) => compileWorkflow(workflow, options), executionInput, hasRedriveGate },
        executions: executionStore,
        loadWorkflow,
        // Calls parked while a run is paused live beside the run in the executions table (ADR 0012).
        pause: { parkedCalls: new DynamoParkedCallStore(client, required(config.EXECUTIONS_TABLE_NAME, 'EXECUTIONS_TABLE_NAME')), tokens: new StepFunctionsTaskTokens(sfn) },
      });
    })());
  const lazyEngine: WorkflowEngine = {
    start: (execution, workflow) => stepFunctions().start(execution, workflow),
    stop: (executionId, reason) => stepFunctions().stop(executionId, reason),
    resume: (execution, workflow, reuse) => stepFunctions().resume(execution, workflow, reuse),
    assertRetryable: (execution) => stepFunctions().assertRetryable(execution),
    hold: (execution) => stepFunctions().hold(execution),
    release: (execution) => stepFunctions().release(execution),
  };
  return { executions: createExecutionService({ workflows: workflowStore, executions: executionStore, engine: lazyEngine, clock: systemClock, ids: randomIds }) };
}

/**
 * Composition root for the registry context's Lambdas: they get the registry table only (no workflows table),
 * so they cannot share awsServices().
 */
export function awsRegistryServices(): RegistryHttpServices & { registry: ServiceRegistry } {
  const config = readLambdaConfig();
  // Registrations are service events on the bus (registerService declares `bus: 'publish'`).
  const registry = withRegistryEvents(new DynamoServiceRegistry(sharedDocumentClient(), required(config.REGISTRY_TABLE_NAME, 'REGISTRY_TABLE_NAME')), awsEventEmitter(config));
  return { registry, registryService: createRegistryService({ registry, clock: systemClock }) };
}
