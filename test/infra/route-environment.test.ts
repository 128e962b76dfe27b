import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { routes, type RouteName, type RouteSpec } from '../../functions/routes.ts';
import { requiredEnvironment } from '../../functions/route-environment.ts';
import { LAMBDA_SETTING_NAMES } from '../../functions/config.ts';
import { DataStack } from '../../infra/stacks/data-stack.ts';
import { RuntimeStack } from '../../infra/stacks/runtime-stack.ts';
import { readApiModel, deployedFunctionOf, type ApiModel } from './api-model.ts';
import { asRecord, buildOrchestratorApp, cdkJsonContext, SKIP_BUNDLING } from './fixture.ts';

/**
 * functions/route-environment.ts derives, from a route's declarations, what its function must find in its
 * environment at cold start; infra derives, from the same declarations, what it sets. These tests hold the
 * two together: per kind of declaration against the runtime stack's environments, and per route against the
 * synthesized templates.
 */

const routeEntries = Object.entries(routes) as Array<[RouteName, RouteSpec]>;

/**
 * What infra may set on a route function that the route does not require: settings with a default, and the
 * optional ones (set only when the deployment configures them). Anything else infra sets must be required.
 */
const OPTIONAL_SETTINGS = new Set([
  'NODE_OPTIONS',
  'SERVICE_VERSION',
  'ORCHESTRATOR_AUTH_MODE',
  'ORCHESTRATOR_ANONYMOUS_ROLE',
  'ORCHESTRATOR_AUDIT_RETENTION_DAYS',
  'ORCHESTRATOR_EVENT_RETENTION_DAYS',
  'ORCHESTRATOR_SPAN_RETENTION_DAYS',
  'ORCHESTRATOR_CORS_ORIGINS',
  'ORCHESTRATOR_PEERS',
  'ORCHESTRATOR_PEER_TOKEN_SECRET_ARN',
  'ORCHESTRATOR_OUTBOUND_ALLOW',
  'ORCHESTRATOR_ROUTE',
  'ORCHESTRATOR_COMMIT',
  'ORCHESTRATOR_BUILD_TIME',
  'ORCHESTRATOR_METRICS_ENABLED',
  'ORCHESTRATOR_TRACING_ENABLED',
  'LOG_LEVEL',
  'LOG_COLLECTOR_URL',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
  // Every route function records its request's span when it has the table (functions/aws-observability.ts);
  // only the routes that read spans (`tables.spans`) require it.
  'SPANS_TABLE_NAME',
  // Issue 14: the proxies' budget and the jobs' schedules have defaults; a timer works without a dead-letter queue.
  'ORCHESTRATOR_PROXY_TIMEOUT_SECONDS',
  'ORCHESTRATOR_JOB_RECALC_QUALITY_SCHEDULE',
  'ORCHESTRATOR_JOB_NOTIFY_CONSOLIDATION_SCHEDULE',
  'SCHEDULE_DEAD_LETTER_ARN',
  // Issue 17: set only with -c plannerModel / -c plannerMaxRounds; without a model POST /ai/plan answers 503 naming it.
  'ORCHESTRATOR_PLANNER_MODEL',
  'ORCHESTRATOR_PLANNER_MAX_ROUNDS',
  // Set only with -c mcpServiceTools=true: POST /mcp offers services' operations too (default: workflows only).
  'ORCHESTRATOR_MCP_SERVICE_TOOLS',
]);

/**
 * What infra sets for a route's declarations that the route may do without: a proxy publishes a registry event
 * when a circuit it moves opens or closes (unpublished without the bus, as in the action runner).
 */
function optionalFor(route: RouteSpec): readonly string[] {
  return route.ecosystem ? ['WORKFLOW_EVENT_BUS_NAME'] : [];
}

/** The runtime stack alone (no API stack): what each kind of access sets, by variable name. */
function runtimeStack(): RuntimeStack {
  const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
  const data = new DataStack(app, 'Data', { retainData: true });
  return new RuntimeStack(app, 'Runtime', {
    namePrefix: 'Orch',
    workflowsTable: data.workflowsTable,
    executionsTable: data.executionsTable,
    registryTable: data.registryTable,
    eventsTable: data.eventsTable,
    subscriptionsTable: data.subscriptionsTable,
  });
}

/** A route declaring nothing but `extra`: what its declarations add to the two variables every route needs. */
function addedBy(extra: Partial<RouteSpec>): string[] {
  const bare: RouteSpec = { ...routes.getInfo, tables: {} };
  const base = new Set(requiredEnvironment(bare));
  return requiredEnvironment({ ...bare, ...extra }).filter((variable) => !base.has(variable));
}

const keys = (environment: Readonly<Record<string, string>>) => Object.keys(environment).sort();

describe('the variables each kind of route declaration requires are those the runtime stack sets for it', () => {
  const runtime = runtimeStack();

  it('engine: the engine environment', () => {
    expect(addedBy({ engine: true })).toEqual(keys(runtime.engineEnvironment));
    expect(addedBy({ engine: 'releases parked calls' })).toEqual(keys(runtime.engineEnvironment));
  });

  it('probes: the probe environment', () => {
    expect(addedBy({ probes: true })).toEqual(keys(runtime.probeEnvironment));
  });

  it("bus: 'publish': the publishing environment", () => {
    expect(addedBy({ bus: 'publish' })).toEqual(keys(runtime.publishEnvironment));
  });

  it("deliveries: the rule environment for 'rules', the enqueue environment for 'enqueue'", () => {
    expect(addedBy({ deliveries: 'rules' })).toEqual(keys(runtime.eventDeliveries.ruleEnvironment));
    expect(addedBy({ deliveries: 'enqueue' })).toEqual(keys(runtime.eventDeliveries.enqueueEnvironment));
  });

  it('ecosystem: the registry table (circuits), and nothing but what infra sets for the proxies', () => {
    const added = addedBy({ ecosystem: true });
    expect(added).toContain('REGISTRY_TABLE_NAME');
    const proxyVariables = ['REGISTRY_TABLE_NAME', 'ORCHESTRATOR_PROXY_TIMEOUT_SECONDS', ...keys(runtime.publishEnvironment)];
    expect(added.filter((variable) => !proxyVariables.includes(variable))).toEqual([]);
  });

  it("schedules: 'manage': the schedule group, the scheduled-run function and the scheduler role, all set by the runtime stack", () => {
    const added = addedBy({ schedules: 'manage' });
    expect(added).toEqual(expect.arrayContaining(['SCHEDULED_RUN_FUNCTION_ARN', 'SCHEDULER_ROLE_ARN', 'SCHEDULE_GROUP_NAME']));
    expect(keys(runtime.schedules.scheduleEnvironment)).toEqual(expect.arrayContaining(added));
  });

  it('jobs: nothing but the job schedules the runtime stack sets', () => {
    expect(keys(runtime.schedules.jobEnvironment)).toEqual(expect.arrayContaining(addedBy({ jobs: true })));
  });

  it("deadLetters: the dead-letter environment, and the enqueue environment too for 'redrive'", () => {
    expect(addedBy({ deadLetters: 'inspect' })).toEqual(keys(runtime.deadLetterEnvironment));
    expect(addedBy({ deadLetters: 'redrive' })).toEqual(keys({ ...runtime.deadLetterEnvironment, ...runtime.eventDeliveries.enqueueEnvironment }));
  });
});

describe('every route function of the synthesized app', () => {
  let model: ApiModel;
  beforeAll(() => {
    model = readApiModel(buildOrchestratorApp());
  });

  const variablesOf = (name: RouteName) => Object.keys(asRecord(asRecord(deployedFunctionOf(model, name).properties['Environment'], 'Environment')['Variables'], 'Variables'));

  it.each(routeEntries)('%s is given every variable its route requires', (name, route) => {
    expect(variablesOf(name)).toEqual(expect.arrayContaining(requiredEnvironment(route)));
  });

  it.each(routeEntries)('%s is given nothing else but optional settings the Lambda configuration knows', (name, route) => {
    const required = new Set([...requiredEnvironment(route), ...optionalFor(route)]);
    const unexpected = variablesOf(name).filter((variable) => !required.has(variable) && !OPTIONAL_SETTINGS.has(variable));
    expect(unexpected).toEqual([]);
    for (const variable of variablesOf(name)) if (variable !== 'NODE_OPTIONS') expect(LAMBDA_SETTING_NAMES).toContain(variable);
  });
});
