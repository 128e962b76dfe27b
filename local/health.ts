import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { EXECUTION_TABLE } from '../adapters/aws/dynamo/execution-table.ts';
import { REGISTRY_TABLE } from '../adapters/aws/dynamo/registry-table.ts';
import { dynamoTableProbe } from '../adapters/aws/dynamo/table-probe.ts';
import { EVENT_TABLE } from '../adapters/aws/dynamo/event-table.ts';
import { SUBSCRIPTION_TABLE } from '../adapters/aws/dynamo/subscription-table.ts';
import { WORKFLOW_TABLE } from '../adapters/aws/dynamo/workflow-table.ts';
import { sqsQueueProbe } from '../adapters/aws/sqs/queue-probe.ts';
import { createReadiness, createSystemHealth, type Readiness, type SystemHealth } from '../core/platform/system-health.ts';
import type { Clock, DependencyProbe, HealthProbe, OutboundHttp, SecretResolver, ServiceRegistry } from '../core/ports.ts';
import { createHealthSweep, type HealthSweep, type HealthSweepSettings } from '../core/registry/health-sweep.ts';
import { createHttpHealthProbe } from '../adapters/http/http-health-probe.ts';
import { startRepeatingJob, type RepeatingJob } from './repeating-job.ts';

/** Health checking on one machine: the settings `npm start` reads (local/config.ts) and tests pass. */
export interface LocalHealthSettings extends HealthSweepSettings {
  /** Seconds between sweeps; 0 or omitted: no timer (sweeps run on `POST /registry/health-check` only). */
  readonly intervalSeconds?: number;
}

export interface LocalHealthDeps {
  readonly registry: Pick<ServiceRegistry, 'list' | 'instancesOf' | 'recordHealth'>;
  readonly documentClient: DynamoDBDocumentClient;
  /** Whether the local engine takes new runs (false while it stops); omitted: always. */
  readonly engineAccepting?: () => boolean;
  readonly tableNames: { readonly workflows: string; readonly executions: string; readonly registry: string; readonly events: string; readonly subscriptions: string };
  readonly sqsClient: SQSClient;
  readonly deadLetterQueueUrl: string;
  readonly clock: Clock;
  readonly settings?: LocalHealthSettings;
  /** The local outbound adapter (local/outbound.ts), as the action runner's, and the secrets of instances with `auth`. */
  readonly http: OutboundHttp;
  readonly secrets?: SecretResolver;
  /** Default: the HTTP probe on `http`. */
  readonly probe?: HealthProbe;
}

/** The same sweep and system health as in AWS; only the event bus differs (in process here). */
export function createLocalHealth(deps: LocalHealthDeps): { healthSweep: HealthSweep; systemHealth: SystemHealth; readiness: Readiness } {
  const { settings = {} } = deps;
  const probe = deps.probe ?? createHttpHealthProbe({ http: deps.http, ...(deps.secrets ? { secrets: deps.secrets } : {}) });
  const inProcessBus: DependencyProbe = { name: 'event_bus', kind: 'event_bus', check: async () => ({ reachable: true, latency_ms: 0 }) };
  const dependencies: DependencyProbe[] = [
    dynamoTableProbe(deps.documentClient, deps.tableNames.workflows, WORKFLOW_TABLE, 'workflows_table'),
    dynamoTableProbe(deps.documentClient, deps.tableNames.executions, EXECUTION_TABLE, 'executions_table'),
    dynamoTableProbe(deps.documentClient, deps.tableNames.registry, REGISTRY_TABLE, 'registry_table'),
    dynamoTableProbe(deps.documentClient, deps.tableNames.events, EVENT_TABLE, 'events_table'),
    dynamoTableProbe(deps.documentClient, deps.tableNames.subscriptions, SUBSCRIPTION_TABLE, 'subscriptions_table'),
    sqsQueueProbe(deps.sqsClient, deps.deadLetterQueueUrl, 'dead_letter_queue'),
    // The local bus is in process (adapters/local/in-process-event-bus.ts): reachable while this process runs.
    inProcessBus,
  ];
  // The engine runs in this process: ready unless it is stopping (a run started now would wait for the next start).
  const engine: DependencyProbe = {
    name: 'engine',
    kind: 'engine',
    check: async () => (deps.engineAccepting === undefined || deps.engineAccepting() ? { reachable: true, latency_ms: 0 } : { reachable: false, latency_ms: 0, error: 'the local engine is stopping' }),
  };
  return {
    healthSweep: createHealthSweep({ registry: deps.registry, probe, clock: deps.clock }, settings),
    systemHealth: createSystemHealth({ dependencies, registry: deps.registry, clock: deps.clock }),
    readiness: createReadiness({ dependencies: [...dependencies, engine], clock: deps.clock }),
  };
}

/**
 * Sweeps every `intervalSeconds` (the schedule's stand-in). A sweep is logged (one line) when a status
 * changed or something went wrong, not every 30 s.
 */
export function startHealthTimer(sweep: HealthSweep, intervalSeconds: number, log: (line: Record<string, unknown>) => void): RepeatingJob {
  return startRepeatingJob(
    'health_sweep',
    async () => {
      const { instances, ...counts } = await sweep();
      const changes = instances.filter((outcome) => outcome.status !== outcome.previous_status).map((outcome) => `${outcome.name}/${outcome.instance_id}: ${outcome.previous_status} -> ${outcome.status}`);
      if (changes.length > 0 || counts.write_failures > 0 || counts.not_checked > 0) log({ kind: 'health_sweep', ...counts, changes });
    },
    intervalSeconds,
    log,
  );
}
