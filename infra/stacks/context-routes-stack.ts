import path from 'node:path';
import { PolicyStatement, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { NestedStack, Validations, type Duration } from 'aws-cdk-lib';
import { AuthorizationType, LambdaIntegration, Method, type IAuthorizer, type IRequestValidator, type RestApi } from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { entryFileName, type BoundedContext, type RouteName, type RouteSpec, type TableAccess } from '../../functions/routes.ts';
import { ApiFunction, FUNCTION_ENTRIES_DIR } from '../constructs/api-function.ts';
import { grantAuditAppend, grantTableAccess } from '../constructs/table-access.ts';
import { LIST_RULES_REASON } from '../constructs/event-deliveries.ts';
import type { OutboundAccess } from '../constructs/outbound-access.ts';
import { PLANNER_FUNCTION_TIMEOUT, type PlannerModelAccess } from '../planner-context.ts';
import { TASK_TOKEN_REASON } from './runtime-stack.ts';

export interface NamedRoute {
  readonly name: RouteName;
  readonly spec: RouteSpec;
}

/** The tables a route may declare access to (`RouteSpec.tables`). */
export type TableName = keyof RouteSpec['tables'];

/** A table and the index names that reads on it may target. */
export interface TableRef {
  readonly table: ITable;
  readonly indexNames: readonly string[];
}

/** The workflows table and the index names that reads on it may target. */
export type WorkflowsTableRef = TableRef;

/**
 * `workflows` -> `WORKFLOWS_TABLE_NAME`, `apiKeys` -> `API_KEYS_TABLE_NAME`: how a function learns a table's
 * name (functions/config.ts reads it).
 */
export function tableEnvironmentVariable(table: TableName): string {
  return `${table.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}_TABLE_NAME`;
}

export interface ContextRoutesStackProps {
  readonly context: BoundedContext;
  readonly routes: readonly NamedRoute[];
  /** The API's path resources are created on it, in the parent stack, so contexts can share path prefixes. */
  readonly restApi: RestApi;
  readonly requestValidator: IRequestValidator;
  readonly workflowsTable: WorkflowsTableRef;
  /** Every other table routes may declare, by name; a route declaring a table not given here fails synthesis. */
  readonly tables?: Readonly<Partial<Record<Exclude<TableName, 'workflows'>, TableRef>>>;
  /** Environment every function of the context gets (service version, auth mode...). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * The audit trail: every function gets its name (AUDIT_TABLE_NAME) and may append to it (PutItem,
   * UpdateItem), since any route may refuse a caller and state-changing routes record themselves. Reading it
   * is declared per route (`tables.audit`).
   */
  readonly auditTable: ITable;
  /**
   * The spans table: every function records its requests as spans (functions/aws-security.ts), so every one
   * gets its name (SPANS_TABLE_NAME) and may write spans (BatchWriteItem, PutItem). Reading them is declared
   * per route (`tables.spans`, the tracing routes).
   */
  readonly spansTable: ITable;
  /** The REQUEST authorizer of every method whose route is not `public`. */
  readonly authorizer?: IAuthorizer;
  /** For routes that start or stop runs (`engine: true`): Step Functions rights and settings. */
  readonly engine?: WorkflowEngineAccess;
  /** For routes that probe the orchestrator's dependencies (`probes: true`): rights and settings. */
  readonly probes?: DependencyProbeAccess;
  /** For routes that publish on the workflow event bus (`bus: 'publish'`): the bus's name and PutEvents on it. */
  readonly eventPublishing?: EventPublishingAccess;
  /** For routes that read or redrive the dead-letter queues (`deadLetters`). */
  readonly deadLetterAccess?: DeadLetterAccess;
  /** For routes that manage subscription rules or enqueue deliveries (`deliveries`). */
  readonly eventDeliveries?: EventDeliveryAccess;
  /** Peer orchestrators' base URLs, for routes that call them (`peers: true`, as ORCHESTRATOR_PEERS). */
  readonly peerUrls?: readonly string[];
  /** The peer token's secret: routes that call peers (`peers: true`) send it, so they may read it (and nothing else of auth). */
  readonly peerTokenSecretArn?: string;
  /** For routes that call services or peers (`outbound`, `peers`, `ecosystem`): the outbound allow list, and services' credentials. */
  readonly outbound?: OutboundAccess;
  /** For the proxy routes (`ecosystem: true`): the services' URLs, the proxies' time budget and the timeout it needs. */
  readonly ecosystem?: EcosystemProxySettings;
  /** For routes that create, change or delete workflow schedules' timers (`schedules: 'manage'`). */
  readonly schedules?: ScheduleManagementAccess;
  /** For routes that report the jobs' schedules (`jobs: true`). */
  readonly jobs?: JobScheduleAccess;
  /**
   * For routes that ask a language model (`model: 'invoke'`): the model's variables and the right to invoke it.
   * Optional, like the model: without it such a route is deployed without a model and answers 503 naming it.
   */
  readonly planner?: PlannerModelAccess;
}

/**
 * What the proxy routes get from the deployment's context (infra/ecosystem-context.ts): the services'
 * `<NAME>_URL` variables and ORCHESTRATOR_PROXY_TIMEOUT_SECONDS, and a Lambda timeout that outlives that budget.
 */
export interface EcosystemProxySettings {
  readonly environment: Readonly<Record<string, string>>;
  readonly timeout: Duration;
}

/** What the runtime stack offers functions that manage workflow schedules' timers (EventBridge Scheduler). */
export interface ScheduleManagementAccess {
  grantScheduleManagement(grantee: IGrantable): void;
  readonly scheduleEnvironment: Readonly<Record<string, string>>;
}

/** What the runtime stack offers functions that report the jobs' schedules. */
export interface JobScheduleAccess {
  readonly jobEnvironment: Readonly<Record<string, string>>;
}

/** What the runtime stack offers functions that deploy, start and stop workflow state machines. */
export interface WorkflowEngineAccess {
  grantEngineAccess(grantee: IGrantable): void;
  grantParkedCallRelease(grantee: IGrantable): void;
  readonly engineEnvironment: Readonly<Record<string, string>>;
}

/** What the runtime stack offers functions that publish events on the workflow event bus. */
export interface EventPublishingAccess {
  grantEventPublishing(grantee: IGrantable): void;
  readonly publishEnvironment: Readonly<Record<string, string>>;
}

/** What the runtime stack offers functions that manage webhook subscriptions' rules or enqueue deliveries. */
export interface EventDeliveryAccess {
  grantRuleManagement(grantee: IGrantable): void;
  grantEnqueue(grantee: IGrantable): void;
  readonly ruleEnvironment: Readonly<Record<string, string>>;
  readonly enqueueEnvironment: Readonly<Record<string, string>>;
}

/** What the runtime stack offers functions that read its dead-letter queues, or take messages out to retry them. */
export interface DeadLetterAccess {
  grantDeadLetters(grantee: IGrantable, access: 'inspect' | 'redrive'): void;
  readonly deadLetterEnvironment: Readonly<Record<string, string>>;
}

/** What the runtime stack offers functions that probe its dead-letter queue and event bus (`GET /health/system`). */
export interface DependencyProbeAccess {
  grantProbeAccess(grantee: IGrantable): void;
  readonly probeEnvironment: Readonly<Record<string, string>>;
}

/**
 * One bounded context's slice of the REST API: for each route, its Lambda (with exactly the table access the
 * route declares) and its API method. Path resources stay in the parent stack, so two contexts may hang
 * methods under the same path (`/workflows/{workflow_id}/executions` next to `/workflows/{workflow_id}`)
 * without creating the same resource twice.
 */
export class ContextRoutesStack extends NestedStack {
  /** The API methods of this context; the parent's deployment must snapshot every one of them. */
  readonly methods: readonly Method[];
  readonly functions: ReadonlyMap<RouteName, ApiFunction>;

  constructor(scope: Construct, id: string, props: ContextRoutesStackProps) {
    super(scope, id, { description: `Serverless orchestrator: routes of the ${props.context} context` });
    const methods: Method[] = [];
    const functions = new Map<RouteName, ApiFunction>();

    for (const { name, spec } of props.routes) {
      const constructId = pascalCase(name);
      const tables: Readonly<Partial<Record<TableName, TableRef>>> = { ...props.tables, workflows: props.workflowsTable };
      const granted = (Object.entries(spec.tables) as Array<[TableName, TableAccess | undefined]>).flatMap(([tableName, access]) => {
        if (access === undefined) return [];
        const ref = tables[tableName];
        if (ref === undefined) throw new Error(`route ${name} declares ${access} access to the ${tableName} table, but the API stack was given no ${tableName} table`);
        return [{ tableName, access, ref }];
      });
      // A proxy resolves services in the registry and moves their circuits, as the action runner does.
      const proxyRegistry = spec.ecosystem ? requiredRegistry(tables.registry, name) : undefined;
      const apiFunction = new ApiFunction(this, constructId, {
        ...(spec.engine === 'releases parked calls' ? { otherWildcardGrant: TASK_TOKEN_REASON } : {}),
        ...(spec.deliveries === 'rules' ? { otherWildcardGrant: LIST_RULES_REASON } : {}),
        entry: path.join(FUNCTION_ENTRIES_DIR, entryFileName(name)),
        description: `${spec.method} ${spec.path}: ${spec.summary}`,
        spansTable: props.spansTable,
        // A proxy waits for its service up to its budget (ORCHESTRATOR_PROXY_TIMEOUT_SECONDS): its function
        // outlives that budget, though API Gateway answers 504 itself after 29 s (see proxyFunctionTimeout).
        ...(spec.ecosystem ? { timeout: requiredProxy(props.ecosystem, name).timeout } : {}),
        // A plan waits for one model answer per round, within its budget (infra/planner-context.ts).
        ...(spec.model ? { timeout: PLANNER_FUNCTION_TIMEOUT } : {}),
        // A table's name is set only where the route may use the table (functions/config.ts relies on it).
        environment: {
          ...props.environment,
          // The function checks at its cold start that it has everything its route needs (functions/route-environment.ts).
          ORCHESTRATOR_ROUTE: name,
          [tableEnvironmentVariable('audit')]: props.auditTable.tableName,
          ...Object.fromEntries(granted.map(({ tableName, ref }) => [tableEnvironmentVariable(tableName), ref.table.tableName])),
          ...(spec.engine ? requiredEngine(props.engine, name).engineEnvironment : {}),
          ...(spec.probes ? requiredProbes(props.probes, name).probeEnvironment : {}),
          ...(spec.bus === 'publish' ? requiredEventPublishing(props.eventPublishing, name).publishEnvironment : {}),
          ...(spec.deliveries === 'rules' ? requiredDeliveries(props.eventDeliveries, name).ruleEnvironment : {}),
          ...(spec.deadLetters !== undefined ? requiredDeadLetters(props.deadLetterAccess, name).deadLetterEnvironment : {}),
          // A redrive re-sends failed deliveries to the delivery queue.
          ...(spec.deadLetters === 'redrive' ? requiredDeliveries(props.eventDeliveries, name).enqueueEnvironment : {}),
          ...(spec.deliveries === 'enqueue' ? requiredDeliveries(props.eventDeliveries, name).enqueueEnvironment : {}),
          ...(spec.peers && props.peerUrls !== undefined && props.peerUrls.length > 0 ? { ORCHESTRATOR_PEERS: props.peerUrls.join(',') } : {}),
          ...(spec.peers && props.peerTokenSecretArn !== undefined ? { ORCHESTRATOR_PEER_TOKEN_SECRET_ARN: props.peerTokenSecretArn } : {}),
          ...((spec.outbound !== undefined || spec.peers || spec.ecosystem) && props.outbound ? props.outbound.outboundEnvironment : {}),
          // Proxies: the registry (circuits), the bus (a circuit that opens or closes is a registry event),
          // the services' URLs and the time budget.
          ...(proxyRegistry === undefined
            ? {}
            : {
                [tableEnvironmentVariable('registry')]: proxyRegistry.table.tableName,
                ...requiredEventPublishing(props.eventPublishing, name).publishEnvironment,
                ...requiredProxy(props.ecosystem, name).environment,
              }),
          ...(spec.schedules === 'manage' ? requiredSchedules(props.schedules, name).scheduleEnvironment : {}),
          ...(spec.jobs ? requiredJobs(props.jobs, name).jobEnvironment : {}),
          ...(spec.model && props.planner ? props.planner.environment : {}),
        },
      });
      if (spec.outbound === 'credentials' || spec.ecosystem) {
        if (!props.outbound) throw new Error(`route ${name} sends services' credentials, but the API stack was given no outbound access`);
        props.outbound.grantServiceSecrets(apiFunction.lambda);
      }
      if (proxyRegistry !== undefined) {
        grantTableAccess(proxyRegistry.table, apiFunction.lambda, 'read', []);
        // Circuit breaking: one conditional UpdateItem per outcome, and nothing else written there.
        apiFunction.lambda.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [proxyRegistry.table.tableArn] }));
        if (spec.bus !== 'publish') requiredEventPublishing(props.eventPublishing, name).grantEventPublishing(apiFunction.lambda);
      }
      if (spec.schedules === 'manage') requiredSchedules(props.schedules, name).grantScheduleManagement(apiFunction.lambda);
      if (spec.model) props.planner?.grantModelInvocation(apiFunction.lambda);
      if (spec.peers && props.peerTokenSecretArn !== undefined) {
        apiFunction.lambda.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [props.peerTokenSecretArn] }));
      }
      grantAuditAppend(props.auditTable, apiFunction.lambda);
      for (const { access, ref } of granted) grantTableAccess(ref.table, apiFunction.lambda, access, ref.indexNames);
      if (spec.engine) requiredEngine(props.engine, name).grantEngineAccess(apiFunction.lambda);
      if (spec.engine === 'releases parked calls') requiredEngine(props.engine, name).grantParkedCallRelease(apiFunction.lambda);
      if (spec.probes) requiredProbes(props.probes, name).grantProbeAccess(apiFunction.lambda);
      if (spec.bus === 'publish') requiredEventPublishing(props.eventPublishing, name).grantEventPublishing(apiFunction.lambda);
      if (spec.deliveries === 'rules') requiredDeliveries(props.eventDeliveries, name).grantRuleManagement(apiFunction.lambda);
      if (spec.deliveries === 'enqueue' || spec.deadLetters === 'redrive') requiredDeliveries(props.eventDeliveries, name).grantEnqueue(apiFunction.lambda);
      if (spec.deadLetters !== undefined) requiredDeadLetters(props.deadLetterAccess, name).grantDeadLetters(apiFunction.lambda, spec.deadLetters);
      functions.set(name, apiFunction);

      // Path parameters are declared so the request validator knows them; API Gateway always fills them.
      // Query strings and bodies are validated by zod in the handler, so an invalid request gets the same
      // error envelope on AWS as on the local server.
      const pathParameters = pathParameterNames(spec.path);
      const requestParameters =
        pathParameters.length > 0 ? Object.fromEntries(pathParameters.map((parameter) => [`method.request.path.${parameter}`, true])) : undefined;
      const method = new Method(this, `${constructId}Method`, {
        resource: props.restApi.root.resourceForPath(spec.path),
        httpMethod: spec.method,
        // One permission per method, scoped to this API, method and path. The console's test-invoke would
        // need a second permission per method: not worth the resources.
        integration: new LambdaIntegration(apiFunction.lambda, { allowTestInvoke: false }),
        options: { operationName: name, requestValidator: props.requestValidator, requestParameters, ...methodAuthorization(spec, props.authorizer, name) },
      });
      acknowledgeMethodAuthorization(method, spec);
      methods.push(method);
    }

    this.methods = methods;
    this.functions = functions;
  }
}

/** Public routes are open; every other route goes through the authorizer (its context is what handlers trust). */
function methodAuthorization(spec: RouteSpec, authorizer: IAuthorizer | undefined, route: string): { authorizationType: AuthorizationType; authorizer?: IAuthorizer } {
  if (spec.auth === 'public') return { authorizationType: AuthorizationType.NONE };
  if (!authorizer) throw new Error(`route ${route} requires '${spec.auth}', but the API stack was given no authorizer`);
  return { authorizationType: AuthorizationType.CUSTOM, authorizer };
}

/**
 * cdk-nag on each method, never on the stack: COG4 wants a Cognito user pool authorizer, APIG4 any
 * authorizer (so only public methods need it acknowledged).
 */
function acknowledgeMethodAuthorization(method: Method, spec: RouteSpec): void {
  Validations.of(method).acknowledge({
    id: 'AwsSolutions-COG4',
    reason:
      spec.auth === 'public'
        ? `${spec.method} ${spec.path} is public in the route table (auth: 'public'): no authorizer of any kind, by design.`
        : 'A Lambda REQUEST authorizer verifies bearer JWTs from any OIDC issuer (Cognito user pools included, via jwksUrl), HS256 tokens, and the API keys this API manages itself; a Cognito authorizer would accept Cognito tokens only.',
  });
  if (spec.auth === 'public') {
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason: `${spec.method} ${spec.path} is public in the route table (auth: 'public'): callers reach it without a credential, as on the local server.`,
    });
  }
}

function requiredEngine(engine: WorkflowEngineAccess | undefined, route: string): WorkflowEngineAccess {
  if (!engine) throw new Error(`route ${route} starts or stops workflow runs, but the API stack was given no workflow engine`);
  return engine;
}

function requiredEventPublishing(access: EventPublishingAccess | undefined, route: string): EventPublishingAccess {
  if (!access) throw new Error(`route ${route} publishes events, but the API stack was given no event bus`);
  return access;
}

function requiredDeliveries(access: EventDeliveryAccess | undefined, route: string): EventDeliveryAccess {
  if (!access) throw new Error(`route ${route} manages webhook subscriptions or their deliveries, but the API stack was given no event deliveries`);
  return access;
}

function requiredDeadLetters(access: DeadLetterAccess | undefined, route: string): DeadLetterAccess {
  if (!access) throw new Error(`route ${route} reads the dead-letter queues, but the API stack was given none`);
  return access;
}

function requiredRegistry(registry: TableRef | undefined, route: string): TableRef {
  if (!registry) throw new Error(`route ${route} forwards to ecosystem services (their circuits are in the registry), but the API stack was given no registry table`);
  return registry;
}

function requiredProxy(settings: EcosystemProxySettings | undefined, route: string): EcosystemProxySettings {
  if (!settings) throw new Error(`route ${route} forwards to ecosystem services, but the API stack was given no proxy settings`);
  return settings;
}

function requiredSchedules(access: ScheduleManagementAccess | undefined, route: string): ScheduleManagementAccess {
  if (!access) throw new Error(`route ${route} manages workflow schedules, but the API stack was given no schedule group`);
  return access;
}

function requiredJobs(access: JobScheduleAccess | undefined, route: string): JobScheduleAccess {
  if (!access) throw new Error(`route ${route} reports the jobs' schedules, but the API stack was given none`);
  return access;
}

function requiredProbes(probes: DependencyProbeAccess | undefined, route: string): DependencyProbeAccess {
  if (!probes) throw new Error(`route ${route} probes the orchestrator's dependencies, but the API stack was given none to probe`);
  return probes;
}

/** `/workflows/{workflow_id}/versions` -> `['workflow_id']`. */
export function pathParameterNames(apiPath: string): string[] {
  return [...apiPath.matchAll(/\{([^}]+)\}/g)].flatMap((match) => (match[1] === undefined ? [] : [match[1]]));
}

/** `createWorkflow` -> `CreateWorkflow`: construct IDs (and so logical IDs) read like the route names. */
export function pascalCase(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
