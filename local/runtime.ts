import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { createS3Client, S3PayloadStore } from '../adapters/aws/s3/payload-store.ts';
import { createSqsClient, SqsDeadLetterQueue } from '../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import { DynamoWorkflowStore } from '../adapters/aws/dynamo/dynamo-workflow-store.ts';
import { WORKFLOW_TABLE, WorkflowIndex } from '../adapters/aws/dynamo/workflow-table.ts';
import { DynamoExecutionStore } from '../adapters/aws/dynamo/dynamo-execution-store.ts';
import { EXECUTION_TABLE } from '../adapters/aws/dynamo/execution-table.ts';
import { DynamoServiceRegistry } from '../adapters/aws/dynamo/dynamo-service-registry.ts';
import { REGISTRY_TABLE } from '../adapters/aws/dynamo/registry-table.ts';
import { createRegistryService } from '../core/registry/service.ts';
import type { LocalIntegrations } from '../adapters/local/local-engine.ts';
import { LocalWorkflowEngine } from '../adapters/local/local-workflow-engine.ts';
import { createLocalGates } from '../adapters/local/in-process-gates.ts';
import { withGateArrivals } from '../functions/workers/gate-arrivals.ts';
import { createExecutionService } from '../core/execution/service.ts';
import { LocalEventLog } from './integrations.ts';
import { createActionRunner, type ActionRunner } from '../functions/workers/action-runner.ts';
import type { ServiceCallPayload, ServiceCallResult } from '../functions/workers/service-call.ts';
import { contendedUpdateRetry, randomIds, systemClock } from '../core/system.ts';
import { loadWorkflowAt } from '../core/workflow/versions.ts';
import { createWorkflowService } from '../core/workflow/service.ts';
import { createAllHandlers } from '../functions/http/index.ts';
import type { HttpServices } from '../functions/http/services.ts';
import { routes } from '../functions/routes.ts';
import { compilerCheck, compileWorkflow, executionInput } from '../statemachines/compile.ts';
import { startDynalite, type RunningDynalite } from './dynalite.ts';
import { ensureBucket, ensureQueue, PERSISTED_FAUXQS_CHANGES_VISIBILITY, resourceNameFor, startFauxqsEmulator, type RunningFauxqs } from './fauxqs.ts';
import { createLocalHealth, startHealthTimer } from './health.ts';
import { createLocalServer, listen } from './http-server.ts';
import { createLocalRegistrySync, startOpenApiPollTimer } from './registry-sync.ts';
import { CURSOR_SECRET_FILE, loadCursorCodec } from './cursor-key.ts';
import { startLocalEvents } from './events.ts';
import { createLiveStreams } from './event-stream.ts';
import { createLocalDeadLetters } from './dead-letters.ts';
import { withRunEvents } from '../core/events/run-events.ts';
import { withRegistryEvents } from '../core/events/registry-events.ts';
import { ensureTable } from './tables.ts';
import { createLocalOutbound } from './outbound.ts';
import { createLlmGateway } from '../adapters/http/llm-gateway.ts';
import { LOCAL_DEFAULT_OUTBOUND_ALLOW, outboundAllowFrom } from '../adapters/http/outbound-policy.ts';
import { createRequestGate } from './gate.ts';
import { backfillTenants } from '../adapters/aws/dynamo/tenant-backfill.ts';
import { API_KEY_TABLE, AUDIT_TABLE } from '../adapters/aws/dynamo/security-tables.ts';
import { DynamoAuditTrail } from '../adapters/aws/dynamo/dynamo-audit-trail.ts';
import { DynamoApiKeyStore } from '../adapters/aws/dynamo/dynamo-api-key-store.ts';
import { createApiKeyService } from '../core/auth/api-key-service.ts';
import { createRateLimiter } from '../core/auth/rate-limit.ts';
import { createAuthenticator, type AuthSettings } from '../functions/auth/authenticator.ts';
import { hashApiKeySecret, mintApiKey } from '../functions/auth/mint.ts';
import type { HandlerSecurity } from '../functions/middleware/security.ts';
import { checkTlsMaterial } from './tls.ts';
import { RESERVED_WORKFLOW_IDS } from '../functions/fixed-path-words.ts';
import { startLocalObservability } from './observability.ts';
import { createLocalConfigurationReport, createLocalPlatformInfo } from './platform-info.ts';
import { startRuntimeLog } from './runtime-log.ts';
import { startLocalEcosystem } from './ecosystem.ts';
import { createToolCatalog, TOOL_DOCUMENT_TIMEOUT_MS } from '../core/ai/tool-catalog.ts';
import { createHttpApiDocumentSource } from '../adapters/http/api-document-source.ts';
import { createPlanService } from '../functions/ai/plan-service.ts';
import { gatewayPlannerModel } from '../functions/ai/model-planner.ts';
import { DEFAULT_PLANNER_MAX_ROUNDS } from '../functions/config.ts';
import { DEFAULT_LOCAL_PLANNER_BUDGET_MS, DEFAULT_LOCAL_PLANNER_MODEL } from './config.ts';

export type { LocalRuntime, LocalRuntimeOptions } from './runtime-options.ts';
import type { LocalRuntime, LocalRuntimeOptions } from './runtime-options.ts';

/**
 * The whole orchestrator on one machine: the same handlers and DynamoDB, SQS and S3 adapters as in AWS, with
 * emulators behind the adapters and a local HTTP server in front of the handlers.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  // A bad ORCHESTRATOR_OUTBOUND_ALLOW entry fails before any emulator starts, naming the entry.
  const outboundAllow = outboundAllowFrom(options.outboundAllow ?? LOCAL_DEFAULT_OUTBOUND_ALLOW);
  // Bad TLS material fails before any emulator starts, naming the option at fault.
  if (options.tls) checkTlsMaterial(options.tls);
  // So does a bad cursor key, given or kept in the data directory.
  const cursors = await loadCursorCodec(options);
  const startDynamo = async (): Promise<RunningDynalite | undefined> => {
    if (options.dynamoEndpoint) return undefined;
    const path = options.dataDir ? join(options.dataDir, 'dynamodb') : undefined;
    if (path) await mkdir(path, { recursive: true });
    return startDynalite({ path });
  };
  const startQueuesAndObjects = async (): Promise<RunningFauxqs | undefined> => {
    if (options.sqsEndpoint && options.s3Endpoint) return undefined;
    const dataDir = options.dataDir ? join(options.dataDir, 'fauxqs') : undefined;
    if (dataDir) await mkdir(dataDir, { recursive: true });
    return startFauxqsEmulator({ dataDir });
  };
  const [dynamoStart, fauxqsStart] = await Promise.allSettled([startDynamo(), startQueuesAndObjects()]);
  const dynalite = dynamoStart.status === 'fulfilled' ? dynamoStart.value : undefined;
  const fauxqs = fauxqsStart.status === 'fulfilled' ? fauxqsStart.value : undefined;
  if (dynamoStart.status === 'rejected' || fauxqsStart.status === 'rejected') {
    await Promise.all([dynalite?.close(), fauxqs?.close()]);
    throw dynamoStart.status === 'rejected' ? dynamoStart.reason : (fauxqsStart as PromiseRejectedResult).reason;
  }
  // The emulators accept any credentials; fixed ones keep the SDK from searching for real ones.
  const emulatorCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  const documentClient = createDocumentClient({
    endpoint: options.dynamoEndpoint ?? dynalite!.endpoint,
    region: options.region,
    credentials: options.dynamoEndpoint ? undefined : emulatorCredentials,
  });
  const sqsEndpoint = options.sqsEndpoint ?? fauxqs!.endpoint;
  const s3Endpoint = options.s3Endpoint ?? fauxqs!.endpoint;
  const sqsClient = createSqsClient({ endpoint: sqsEndpoint, region: options.region, credentials: options.sqsEndpoint ? undefined : emulatorCredentials });
  const s3Client = createS3Client({ endpoint: s3Endpoint, region: options.region, credentials: options.s3Endpoint ? undefined : emulatorCredentials });
  // Outbound calls never reach the orchestrator's own listeners: the emulators' ports now, the API's once it listens.
  const outbound = createLocalOutbound({
    allow: outboundAllow.entries,
    ownEndpoints: [options.dynamoEndpoint ?? dynalite?.endpoint, sqsEndpoint, s3Endpoint],
    peers: options.peers ?? [],
    secretEnvironment: options.secretEnvironment ?? {},
    ...(options.outboundLookup ? { lookup: options.outboundLookup } : {}),
  });
  const destroyClients = () => {
    documentClient.destroy();
    sqsClient.destroy();
    s3Client.destroy();
    void outbound.close();
  };
  try {
    const deadLetterQueueName = options.deadLetterQueueName ?? resourceNameFor(options.workflowsTableName, 'dead-letters');
    const payloadBucketName = options.payloadBucketName ?? resourceNameFor(options.workflowsTableName, 'payloads');
    const [deadLetterQueueUrl] = await Promise.all([
      ensureQueue(sqsClient, deadLetterQueueName, options.sqsEndpoint === undefined ? sqsEndpoint : undefined),
      ensureBucket(s3Client, payloadBucketName),
    ]);
    const deadLetterQueue = new SqsDeadLetterQueue(sqsClient, deadLetterQueueUrl);
    const payloadStore = new S3PayloadStore(s3Client, payloadBucketName);

    const executionsTableName = options.executionsTableName ?? `${options.workflowsTableName}-executions`;
    // A workflows table kept from a version before schedules has no `schedules` index, which dynalite cannot add.
    const workflowIndexesMissing = await ensureTable(documentClient, WORKFLOW_TABLE, options.workflowsTableName);
    await ensureTable(documentClient, EXECUTION_TABLE, executionsTableName);
    const registryTableName = options.registryTableName ?? `${options.workflowsTableName}-registry`;
    await ensureTable(documentClient, REGISTRY_TABLE, registryTableName);
    const apiKeysTableName = options.apiKeysTableName ?? `${options.workflowsTableName}-api-keys`;
    const auditTableName = options.auditTableName ?? `${options.workflowsTableName}-audit`;
    await Promise.all([ensureTable(documentClient, API_KEY_TABLE, apiKeysTableName), ensureTable(documentClient, AUDIT_TABLE, auditTableName)]);
    // Data kept in ./.data by a version without tenants joins the `default` tenant (once; a marker says so).
    const backfills = await Promise.all([backfillTenants(documentClient, options.workflowsTableName, 'workflows'), backfillTenants(documentClient, executionsTableName, 'executions')]);
    const backfilled = backfills[0] + backfills[1];
    const clock = options.clock ?? systemClock;
    const ids = options.ids ?? randomIds;
    const workflowStore = new DynamoWorkflowStore(documentClient, options.workflowsTableName, { cursors });
    const runtimeLog = options.log === undefined ? startRuntimeLog({ level: options.logLevel, collectorUrl: options.logCollectorUrl, secrets: options.logSecrets }, outbound.http) : undefined;
    const log = options.log ?? runtimeLog!.log;
    const events = await startLocalEvents({
      documentClient,
      tableName: options.eventsTableName ?? `${options.workflowsTableName}-events`,
      subscriptionsTableName: `${options.workflowsTableName}-subscriptions`,
      sqsClient,
      ...(options.sqsEndpoint === undefined ? { sqsServedAt: sqsEndpoint } : {}),
      failedDeliveriesQueueName: resourceNameFor(options.workflowsTableName, 'failed-deliveries'),
      http: outbound.http,
      policy: outbound.policy,
      ...(options.deliveryRetry ? { deliveryRetry: options.deliveryRetry } : {}),
      cursors,
      clock,
      ids,
      log,
      ...(options.eventRetentionDays === undefined ? {} : { retentionDays: options.eventRetentionDays }),
    });
    const observability = await startLocalObservability({
      settings: options.observability ?? {},
      documentClient,
      spansTableName: `${options.workflowsTableName}-spans`,
      cursors,
      clock,
      log,
      serviceVersion: options.serviceVersion,
    });
    // Registrations, health changes and circuits emit service events (core/events/registry-events.ts).
    const registry = withRegistryEvents(new DynamoServiceRegistry(documentClient, registryTableName), events.emit);
    // Every change of a run, whoever records it, emits its event (core/events/run-events.ts), counted by the
    // metrics; a run's end records its spans (core/observability/run-spans.ts).
    const executionStore = observability.traceRuns(withRunEvents(new DynamoExecutionStore(documentClient, executionsTableName, { cursors }), observability.meterEvents(events.emit)));
    if (backfilled > 0) log({ kind: 'tenant_backfill', message: `${backfilled} workflows and executions stored before tenants existed now belong to tenant 'default'` });
    // Search words and counts of data kept by a version without them are built now, before the first request
    // waits for them (ADR 0011); on a table that has them this is one GetItem.
    await workflowStore.ready();
    const eventLog = new LocalEventLog({ log });
    // How services are called, by runs (the engine's runner) and by the proxies (their own spans, no payload store).
    // LOG_COLLECTOR_URL is where /demo/e2e reads the log analysis (service log_collector) even when it came from
    // the config file's monitoring.log_collector_url rather than the environment's *_URL variables.
    const serviceUrls = { ...options.serviceUrls, LOG_COLLECTOR_URL: options.serviceUrls?.LOG_COLLECTOR_URL ?? options.logCollectorUrl };
    const runnerDeps = { registry, env: serviceUrls, http: outbound.http, secrets: outbound.secrets, clock, circuitPolicy: options.circuitPolicy, registryCacheTtlMs: options.registryCacheTtlMs };
    // Dependency gates (ADR 0016) in memory: waiting states of the engine's runs, released by report states
    // and by the runner after a call that feeds them (as in AWS).
    const gates = createLocalGates(clock);
    // llm actions' bedrock:invokeModel states and POST /ai/plan: LLM_GATEWAY_URL, through the outbound rules; its tokens in /metrics.
    const invokeModel = observability.meterModels(createLlmGateway({ http: outbound.http, ...options.llmGateway }));
    const engine = new LocalWorkflowEngine({
      executions: executionStore,
      clock,
      log,
      compiler: {
        compile: (workflow) => {
          const compiled = compileWorkflow(workflow);
          return { definition: compiled.definition as unknown as Record<string, unknown>, children: compiled.children as unknown as { part: number; definition: Record<string, unknown> }[], input: (params, traceId) => executionInput(params, traceId) };
        },
      },
      integrations: {
        // A completed call reports to the gates it feeds, whichever runner made it (tests inject their own).
        invokeRunner: localRunner(withGateArrivals(options.invokeRunner ? injectedRunner(options.invokeRunner) : observability.meterCalls(createActionRunner({ ...runnerDeps, payloads: { store: payloadStore }, spans: observability.spans })), gates)),
        gates,
        invokeModel,
        ...eventLog.integrations(),
        emit: events.emit,
        sendDeadLetter: async (body) => {
          const messageId = await deadLetterQueue.send(body);
          log({ kind: 'dead_letter', queue_url: deadLetterQueueUrl, message_id: messageId, body });
        },
      },
      loadWorkflow: (workflowId, version) => loadWorkflowAt(workflowStore, workflowId, version),
      waitMilliseconds: options.waitMilliseconds,
      retryMilliseconds: options.retryMilliseconds,
    });
    // Runs cut off by a previous stop or a crash continue from their checkpoints, before the API serves.
    const resumed = await engine.recover();
    if (resumed > 0) log({ kind: 'runs_resumed', count: resumed, message: resumed === 1 ? '1 run cut off by the last stop continues where it was' : `${resumed} runs cut off by the last stop continue where they were` });
    const auditTrail = new DynamoAuditTrail(documentClient, auditTableName, options.auditRetentionDays ?? 365, { cursors });
    const apiKeyStore = new DynamoApiKeyStore(documentClient, apiKeysTableName);
    const authSettings: AuthSettings = options.auth ?? { mode: 'optional', anonymousRole: 'admin' };
    // Keys are read again at most every 10 s, and a revocation here drops the cached one at once.
    const authenticator = createAuthenticator(authSettings, { apiKeys: apiKeyStore, clock });
    const security: HandlerSecurity = { audit: auditTrail, authMode: authSettings.mode, clock, ids, log, observer: observability.observer };
    const executions = createExecutionService({ workflows: workflowStore, executions: executionStore, engine, clock, ids });
    const workflows = createWorkflowService({
      updateRetry: contendedUpdateRetry,
      store: workflowStore,
      clock,
      ids,
      reservedIds: RESERVED_WORKFLOW_IDS,
      compiler: compilerCheck,
      events: events.bus,
      onPublishFailure: (event, error) => log({ kind: 'event_not_published', event_type: event.type, event_id: event.event_id, error: String(error) }),
    });
    const ecosystem = await startLocalEcosystem({
      documentClient,
      workflowsTableName: options.workflowsTableName,
      schedulesIndexed: !workflowIndexesMissing.includes(WorkflowIndex.schedules.indexName),
      workflowStore,
      workflows,
      executions,
      // Counted among the service calls in /metrics, like a run's (the proxy records its own spans).
      proxyRunner: observability.meterCalls(createActionRunner(runnerDeps)),
      spans: observability.spans,
      ...(options.proxyTimeoutSeconds === undefined ? {} : { proxyTimeoutSeconds: options.proxyTimeoutSeconds }),
      ...(options.jobSchedules === undefined ? {} : { jobSchedules: options.jobSchedules }),
      ...(options.logCollectorUrl === undefined ? {} : { logCollectorUrl: options.logCollectorUrl }),
      clock,
      ids,
      log,
    });
    // GET /tools: services' documents read as the poller reads them (the outbound rules, no credential sent).
    const tools = createToolCatalog({ registry, workflows: workflowStore, documents: createHttpApiDocumentSource({ http: outbound.http, timeoutMs: TOOL_DOCUMENT_TIMEOUT_MS }), clock });
    const services: HttpServices = {
      ...ecosystem.services,
      security,
      auditTrail,
      apiKeys: createApiKeyService({ store: apiKeyStore, clock, mint: mintApiKey, hash: hashApiKeySecret, onRevoke: (keyId) => authenticator.forget(keyId) }),
      workflowStore,
      workflows,
      executions,
      registry,
      registryService: createRegistryService({ registry, clock }),
      ...createLocalHealth({
        registry,
        documentClient,
        tableNames: { workflows: options.workflowsTableName, executions: executionsTableName, registry: registryTableName, events: events.tableName, subscriptions: events.subscriptionsTableName },
        engineAccepting: () => engine.accepting,
        sqsClient,
        deadLetterQueueUrl,
        clock,
        settings: options.healthChecks,
        http: outbound.http,
        secrets: outbound.secrets,
      }),
      ...createLocalRegistrySync({
        registry,
        events: events.bus,
        clock,
        ids,
        peers: options.peers ?? [],
        peerTimeoutMs: options.peerTimeoutMs,
        http: outbound.http,
        peerHttp: outbound.peerHttp,
        // ORCHESTRATOR_PEER_TOKEN: what peers accept from this orchestrator, sent to them as a bearer token.
        ...(options.auth?.peerToken === undefined ? {} : { peerToken: options.auth.peerToken }),
      }),
      tools,
      // POST /ai/plan: the gateway's model, GET /tools' listing, and the workflow service of POST /workflows for saving.
      planner: createPlanService({
        model: gatewayPlannerModel(invokeModel, options.llmGateway?.url, options.planner?.model ?? DEFAULT_LOCAL_PLANNER_MODEL),
        tools,
        registry,
        compiler: compilerCheck,
        workflows,
        clock,
        defaultMaxRounds: options.planner?.maxRounds ?? DEFAULT_PLANNER_MAX_ROUNDS,
        timeBudgetMs: options.planner?.timeBudgetMs ?? DEFAULT_LOCAL_PLANNER_BUDGET_MS,
      }),
      events: events.service,
      subscriptions: events.subscriptions,
      // The engine's failed service calls and the failed webhook deliveries; retries go through the use cases.
      deadLetters: createLocalDeadLetters({
        sqsClient,
        documentClient,
        eventsTableName: events.tableName,
        queues: { actions: deadLetterQueueUrl, deliveries: events.failedDeliveriesQueueUrl },
        retryRun: (executionId, actor, scope) => executions.retryExecution(executionId, {}, actor, scope),
        runTenant: async (executionId) => (await executionStore.get(executionId))?.tenant,
        redeliver: async (delivery) => events.deliveries.enqueue(delivery),
        emit: events.emit,
        clock,
        ids,
        // The embedded emulator, persisted, cannot change a message's visibility without losing it.
        ...(options.sqsEndpoint === undefined && options.dataDir !== undefined ? { inspector: { changesVisibility: PERSISTED_FAUXQS_CHANGES_VISIBILITY } } : {}),
      }),
      serviceVersion: options.serviceVersion,
      // POST /mcp calls the API's own handlers as its caller; they include its own, so they are read at its first request.
      mcp: { handlers: () => apiHandlers, serviceTools: options.mcpServiceTools ?? false, serverVersion: options.serviceVersion, log },
      tracing: observability.tracing,
      metrics: observability.exposition,
      platformInfo: createLocalPlatformInfo({ settings: options, clock }),
      configuration: createLocalConfigurationReport(options.configReport),
    };
    observability.measure({ registry, workflows: workflowStore, sqsClient, deadLetterQueues: { actions: deadLetterQueueUrl, deliveries: events.failedDeliveriesQueueUrl } });
    const gate = createRequestGate({ authenticator, audit: auditTrail, clock, ids, log, ...(options.rateLimit ? { rateLimiter: createRateLimiter(options.rateLimit) } : {}) });
    const liveStreams = createLiveStreams(events.bus, 'streamEvents');
    const apiHandlers = createAllHandlers(services);
    const server = await listen(createLocalServer({ routes, handlers: apiHandlers, gate, tls: options.tls, cors: options.cors, liveStreams, log, ...(options.consoleDirectory ? { consoleDirectory: options.consoleDirectory } : {}), ...(observability.observer.httpRequest ? { httpRequest: observability.observer.httpRequest } : {}) }), options.port, options.host);
    outbound.ownPorts.add(Number(new URL(server.url).port));
    const healthInterval = options.healthChecks?.intervalSeconds ?? 0;
    const healthTimer = healthInterval > 0 ? startHealthTimer(services.healthSweep, healthInterval, log) : undefined;
    const pollInterval = options.openApiPollIntervalSeconds ?? 0;
    const pollTimer = pollInterval > 0 ? startOpenApiPollTimer(services.apiDrift, pollInterval, log) : undefined;
    return {
      url: server.url,
      services,
      documentClient,
      engine,
      eventLog,
      events,
      observability,
      deadLetterQueueUrl,
      sqsEndpoint,
      payloadBucketName,
      s3Endpoint,
      describeOutbound: () => outbound.describe(),
      scheduler: ecosystem.scheduler,
      close: async () => {
        await ecosystem.close();
        await healthTimer?.stop();
        await pollTimer?.stop();
        liveStreams.closeAll();
        await server.close();
        await engine.shutdown((options.shutdownGraceSeconds ?? 0) * 1000);
        // The last events (the runs' ends) and spans are recorded before the tables go; waiting deliveries are dropped (logged).
        await events.close();
        await observability.close();
        await runtimeLog?.close();
        destroyClients();
        await Promise.all([dynalite?.close(), fauxqs?.close()]);
      },
    };
  } catch (error) {
    destroyClients();
    await Promise.all([dynalite?.close(), fauxqs?.close()]);
    throw error;
  }
}

/** A runner given as the engine's stand-in (tests), as an ActionRunner. */
function injectedRunner(invoke: LocalIntegrations['invokeRunner']): ActionRunner {
  return async (payload, options) => (await invoke(payload as Record<string, unknown>, options?.signal ?? new AbortController().signal)) as ServiceCallResult;
}

/** The action runner behind the engine's `lambda:invoke` stand-in. */
function localRunner(runner: ActionRunner): LocalIntegrations['invokeRunner'] {
  return (payload, signal) => runner(payload as unknown as ServiceCallPayload, { signal });
}

export { CURSOR_SECRET_FILE };
