import { routes, type RouteName, type RouteSpec } from './routes.ts';
import { ENGINE_SETTING_NAMES, LAMBDA_SETTING_NAMES, lambdaSettingProblem, type LambdaConfig, type LambdaSettingName } from './config.ts';

/**
 * What a route's Lambda must find in its environment, derived from its route-table entry the way CDK derives
 * what it sets (infra/stacks/context-routes-stack.ts): so a function deployed without one of them fails at its
 * cold start, naming every missing or invalid variable, instead of on the first request that needs it.
 * Settings with a default (SERVICE_VERSION, ORCHESTRATOR_AUTH_MODE...) and optional ones (ORCHESTRATOR_PEERS,
 * ORCHESTRATOR_OUTBOUND_ALLOW) are not required. test/infra/route-environment.test.ts checks these lists
 * against the synthesized templates, route by route.
 */

/** `apiKeys` -> `API_KEYS_TABLE_NAME`: the same rule as infra's tableEnvironmentVariable. */
export function tableVariable(table: keyof RouteSpec['tables']): string {
  return `${table.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}_TABLE_NAME`;
}

/** Each required variable with why the route needs it (the first reason found). */
export function routeRequirements(route: RouteSpec): Map<string, string> {
  const needs = new Map<string, string>();
  const need = (variable: string, reason: string) => {
    if (!needs.has(variable)) needs.set(variable, reason);
  };
  // Every route function builds its audit trail at init (functions/aws-security.ts): the table, and the key
  // its listing cursors are signed with (GET /audit lists it; the trail is the same object everywhere).
  need(tableVariable('audit'), 'every route appends to the audit trail');
  need('ORCHESTRATOR_CURSOR_SECRET', 'every route function signs listing cursors (its audit trail and stores are built with the key)');
  for (const [table, access] of Object.entries(route.tables) as Array<[keyof RouteSpec['tables'], string | undefined]>) {
    if (access !== undefined) need(tableVariable(table), `the route ${access === 'write' ? 'writes' : 'reads'} the ${table} table`);
  }
  if (route.engine) {
    for (const variable of ENGINE_SETTING_NAMES) need(variable, 'the route starts or stops workflow runs (Step Functions)');
  }
  if (route.probes) {
    need('WORKFLOW_DEAD_LETTER_QUEUE_URL', 'the route probes the dead-letter queue');
    need('WORKFLOW_EVENT_BUS_NAME', 'the route probes the event bus');
  }
  if (route.bus === 'publish') need('WORKFLOW_EVENT_BUS_NAME', 'the route publishes events');
  if (route.deliveries === 'rules') {
    need('WORKFLOW_EVENT_BUS_NAME', "the route manages subscriptions' rules on the event bus");
    need('EVENT_DELIVERY_QUEUE_ARN', "the route targets subscriptions' rules at the delivery queue");
    need('SUBSCRIPTION_RULE_PREFIX', "the route names subscriptions' rules");
  }
  if (route.deliveries === 'enqueue') need('EVENT_DELIVERY_QUEUE_URL', 'the route enqueues webhook deliveries');
  if (route.deadLetters !== undefined) {
    need('WORKFLOW_DEAD_LETTER_QUEUE_URL', 'the route reads the failed actions’ queue');
    need('DEPLOY_DEAD_LETTER_QUEUE_URL', 'the route reads the failed deployments’ queue');
    need('EVENT_DELIVERY_DEAD_LETTER_QUEUE_URL', 'the route reads the failed deliveries’ queue');
  }
  if (route.deadLetters === 'redrive') need('EVENT_DELIVERY_QUEUE_URL', 'the route re-sends failed deliveries to the delivery queue');
  // The proxies resolve services in the registry and move their circuits (their URL variables are optional).
  if (route.ecosystem) need(tableVariable('registry'), 'the route resolves ecosystem services in the registry');
  if (route.schedules === 'manage') {
    need('SCHEDULE_GROUP_NAME', "the route manages workflow schedules' EventBridge Scheduler schedules");
    need('SCHEDULED_RUN_FUNCTION_ARN', 'every workflow schedule invokes the scheduled-run function');
    need('SCHEDULER_ROLE_ARN', 'EventBridge Scheduler assumes this role to invoke it');
  }
  return needs;
}

/** The variable names a route's declarations imply, sorted. */
export function requiredEnvironment(route: RouteSpec): string[] {
  return [...routeRequirements(route).keys()].sort();
}

/** Thrown at a route function's cold start; the message names every problem. */
export class RouteEnvironmentError extends Error {
  readonly problems: readonly string[];

  constructor(routeName: string, problems: readonly string[]) {
    super(`invalid configuration for route ${routeName}: ${problems.join('; ')}`);
    this.name = 'RouteEnvironmentError';
    this.problems = problems;
  }
}

const KNOWN_SETTINGS: ReadonlySet<string> = new Set(LAMBDA_SETTING_NAMES);

/**
 * Throws one RouteEnvironmentError listing every variable route `routeName` needs that is missing (or empty),
 * and every one whose value the Lambda configuration schema refuses:
 * `invalid configuration for route getTrace: SPANS_TABLE_NAME is required (the route reads the spans table); ...`.
 * `env` is the raw environment or the validated LambdaConfig (whose values readLambdaConfig already checked).
 */
export function assertRouteEnvironment(routeName: string, env: Readonly<Record<string, unknown>>): void {
  const route = (routes as Readonly<Record<string, RouteSpec>>)[routeName];
  if (route === undefined || !Object.hasOwn(routes, routeName)) throw new RouteEnvironmentError(routeName, [`${routeName} is not a route of the route table`]);
  const problems: string[] = [];
  for (const [variable, reason] of routeRequirements(route)) {
    const value = env[variable];
    if (value === undefined || value === '') {
      problems.push(`${variable} is required (${reason})`);
      continue;
    }
    const problem = typeof value === 'string' && KNOWN_SETTINGS.has(variable) ? lambdaSettingProblem(variable as LambdaSettingName, value) : undefined;
    if (problem !== undefined) problems.push(`${variable}: ${problem}`);
  }
  if (problems.length > 0) throw new RouteEnvironmentError(routeName, problems);
}

/**
 * For the route functions' composition (functions/aws-security.ts awsHandlerSecurity, which every route entry
 * calls at init): checks the environment against the route named by ORCHESTRATOR_ROUTE, which CDK sets on each
 * route function. Nothing when it is unset (the authorizer, workers, tests).
 */
export function assertDeployedRouteEnvironment(config: LambdaConfig): void {
  if (config.ORCHESTRATOR_ROUTE !== undefined) assertRouteEnvironment(config.ORCHESTRATOR_ROUTE, config);
}

/** The route names, for callers that hold a name from outside (an environment variable). */
export function isRouteName(name: string): name is RouteName {
  return Object.hasOwn(routes, name);
}
