import { Annotations, CfnOutput, Duration, Lazy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  CfnMethod,
  Cors,
  Deployment,
  EndpointType,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestValidator,
  RestApi,
  Stage,
  UsagePlan,
  type GatewayResponse,
  type Method,
} from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { routes, type BoundedContext, type RouteName, type RouteSpec } from '../../functions/routes.ts';
import type { CustomDomainContext } from '../api-context.ts';
import { ApiAuthorizer, DEFAULT_API_AUTH, routeSecurityEnvironment, type ApiAuthSettings } from '../constructs/authorizer.ts';
import { addEnvelopeGatewayResponses, cfnGatewayResponseOf, GATEWAY_ERRORS, WAF_RATE_LIMITED, type GatewayErrorSpec } from '../constructs/envelope-gateway-responses.ts';
import { ApiDomain } from '../constructs/mtls-domain.ts';
import { CursorSecret } from '../constructs/cursor-secret.ts';
import { WafRateLimit } from '../constructs/waf-rate-limit.ts';
import {
  ContextRoutesStack,
  pascalCase,
  type DeadLetterAccess,
  type DependencyProbeAccess,
  type EcosystemProxySettings,
  type EventDeliveryAccess,
  type EventPublishingAccess,
  type JobScheduleAccess,
  type NamedRoute,
  type ScheduleManagementAccess,
  type WorkflowEngineAccess,
} from './context-routes-stack.ts';
import type { OutboundAccess } from '../constructs/outbound-access.ts';
import type { PlannerModelAccess } from '../planner-context.ts';
import { CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS, CORS_MAX_AGE_SECONDS, type CorsPolicy } from '../../functions/cors.ts';

export interface ApiThrottling {
  /** Steady-state requests per second, for the whole stage. */
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface ApiStackProps extends StackProps {
  readonly workflowsTable: ITable;
  /** The workflows table's index names: read routes are granted these and nothing wider. */
  readonly workflowsTableIndexNames: readonly string[];
  readonly registryTable: ITable;
  /** The registry table's index names. */
  readonly registryTableIndexNames: readonly string[];
  readonly executionsTable: ITable;
  readonly executionsTableIndexNames: readonly string[];
  /** Managed API keys: the authorizer looks keys up, the key routes manage them. */
  readonly apiKeysTable: ITable;
  readonly apiKeysTableIndexNames: readonly string[];
  /** The audit trail: every function appends to it, GET /audit reads it. */
  readonly auditTable: ITable;
  readonly auditTableIndexNames: readonly string[];
  readonly eventsTable: ITable;
  readonly eventsTableIndexNames: readonly string[];
  readonly subscriptionsTable: ITable;
  readonly subscriptionsTableIndexNames: readonly string[];
  /** Recorded spans: every route function records its requests in it, the tracing routes read it. */
  readonly spansTable: ITable;
  readonly spansTableIndexNames: readonly string[];
  /** @default DEFAULT_API_AUTH: mode `required`, no credential source configured (managed API keys only) */
  readonly auth?: ApiAuthSettings;
  /** Rights and settings for the routes that start or stop runs (the runtime stack). */
  readonly engine?: WorkflowEngineAccess;
  /** Rights and settings for the routes that probe the dead-letter queue and event bus (the runtime stack). */
  readonly probes?: DependencyProbeAccess;
  /** For the routes that publish on the workflow event bus (the runtime stack). */
  readonly eventPublishing?: EventPublishingAccess;
  /** Rights and settings for the routes that read or redrive the dead-letter queues. */
  readonly deadLetterAccess?: DeadLetterAccess;
  /** Rights and settings for the routes that manage subscription rules or enqueue deliveries. */
  readonly eventDeliveries?: EventDeliveryAccess;
  /** Peer orchestrators' base URLs (ORCHESTRATOR_PEERS of the peer routes); none by default. */
  readonly peerUrls?: readonly string[];
  /** For the routes that call services or peers: ORCHESTRATOR_OUTBOUND_ALLOW and services' credentials (the runtime stack). */
  readonly outbound?: OutboundAccess;
  /** For the proxy routes (`ecosystem: true`): the services' URLs and the proxies' time budget (infra/ecosystem-context.ts). */
  readonly ecosystem?: EcosystemProxySettings;
  /** For the routes that manage workflow schedules' timers (the runtime stack's schedule group). */
  readonly schedules?: ScheduleManagementAccess;
  /** For the routes that report the jobs' schedules (the runtime stack's job rules). */
  readonly jobs?: JobScheduleAccess;
  /** For the routes that ask a language model (`POST /ai/plan`): its variables and grant (infra/planner-context.ts); none, no model. */
  readonly planner?: PlannerModelAccess;
  /** `POST /mcp` offers the services' operations as tools too (ORCHESTRATOR_MCP_SERVICE_TOOLS). @default false */
  readonly mcpServiceTools?: boolean;
  /** Reported by the health endpoints. */
  readonly serviceVersion: string;
  /** @default 'api' */
  readonly stageName?: string;
  /** @default 50 requests per second, bursts of 100 (the local server's per-caller defaults, here for all callers) */
  readonly throttling?: ApiThrottling;
  /** Requests per source IP per 5 minutes (a WAF rate-based rule on the stage); no web ACL when undefined. */
  readonly wafRateLimit?: number;
  /** A custom domain (optionally with mutual TLS) in front of the stage; the execute-api endpoint is then disabled. */
  readonly customDomain?: CustomDomainContext;
  /** @default the route table of functions/routes.ts (tests pass variations of it) */
  readonly routeTable?: Readonly<Record<RouteName, RouteSpec>>;
  /**
   * Browser origins that may call the API (functions/cors.ts): an OPTIONS preflight on every path, the CORS
   * headers on API Gateway's own errors, and ORCHESTRATOR_CORS_ORIGINS on every route function (which adds
   * them to its responses). None by default: no OPTIONS methods, no CORS headers.
   */
  readonly cors?: CorsPolicy;
}

/**
 * The REST API. This stack holds what is shared: the RestApi and its path resources, the request validator,
 * the gateway responses (API Gateway's own errors, in the error envelope), the REQUEST authorizer, the
 * deployment and its stage (throttling, usage plan, optional WAF rate limit), the optional custom domain with
 * mutual TLS, logging. Each bounded context's routes (Lambdas, permissions, methods) live in
 * a nested stack of their own, so the 500-resources-per-stack limit applies per context, not to the whole API
 * (see docs/adr/0002-api-stacks.md).
 */
export class ApiStack extends Stack {
  readonly restApi: RestApi;
  readonly stage: Stage;
  /** API Gateway's own errors (unknown route, throttling, validator, timeouts) in the Lambdas' error envelope. */
  readonly gatewayResponses: readonly GatewayResponse[];
  readonly contextStacks: ReadonlyMap<BoundedContext, ContextRoutesStack>;
  /** The REQUEST authorizer of every non-public method (absent only for a route table of public routes). */
  readonly authorizer?: ApiAuthorizer;
  /** Bound to the stage; limits API Gateway API keys only, of which there are none (ADR 0010). */
  readonly usagePlan: UsagePlan;
  readonly waf?: WafRateLimit;
  readonly domain?: ApiDomain;
  /** Signs the listings' next_token; every route function gets it (ORCHESTRATOR_CURSOR_SECRET). */
  readonly cursorSecret: CursorSecret;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);

    this.restApi = new RestApi(this, 'RestApi', {
      restApiName: this.stackName,
      description: 'Serverless workflow orchestrator API',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      // The deployment and stage are created below, once every context's methods exist.
      deploy: false,
      // Execution and access logging need the account-level API Gateway role (AWS::ApiGateway::Account).
      cloudWatchRole: true,
      // With a custom domain, it is the only way in: mutual TLS (and anything else the domain enforces)
      // cannot be bypassed through the default https://<id>.execute-api.<region>.amazonaws.com URL.
      disableExecuteApiEndpoint: props.customDomain !== undefined,
    });

    // Bodies and query strings are validated by zod in the handlers (one error envelope locally and on AWS);
    // this validator enforces what the methods declare to API Gateway (path parameters, models if any).
    const requestValidator = new RequestValidator(this, 'RequestValidator', {
      restApi: this.restApi,
      validateRequestBody: true,
      validateRequestParameters: true,
    });

    const gatewayErrors = props.wafRateLimit === undefined ? GATEWAY_ERRORS : [...GATEWAY_ERRORS, WAF_RATE_LIMITED];
    this.gatewayResponses = addEnvelopeGatewayResponses(this, this.restApi, withCorsHeaders(gatewayErrors, props.cors));
    if (props.cors && !props.cors.anyOrigin && props.cors.origins.length > 1) {
      Annotations.of(this).addWarningV2(
        'orchestrator:cors-gateway-errors',
        "corsOrigins lists several origins: API Gateway's own errors (the authorizer's 401, throttling's 429, unknown paths) cannot pick the caller's origin, so they carry no CORS headers and browsers report them as CORS failures. The functions' answers carry them.",
      );
    }

    const auth = props.auth ?? DEFAULT_API_AUTH;
    const routeTable = props.routeTable ?? routes;
    const versionEnvironment = { SERVICE_VERSION: props.serviceVersion };
    if (Object.values(routeTable).some((spec) => spec.auth !== 'public')) {
      this.authorizer = new ApiAuthorizer(this, 'Auth', { settings: auth, apiKeysTable: props.apiKeysTable, auditTable: props.auditTable, environment: versionEnvironment });
    }
    // On every route function, not only those that list: each builds the audit trail (a store that lists) at
    // init (functions/aws-security.ts), so one variable for all is simpler than one per route kind.
    this.cursorSecret = new CursorSecret(this, 'CursorSecret');
    const environment = { ...versionEnvironment, ...routeSecurityEnvironment(auth), ...this.cursorSecret.environment, ...(props.cors ? { ORCHESTRATOR_CORS_ORIGINS: corsSetting(props.cors) } : {}), ...(props.mcpServiceTools ? { ORCHESTRATOR_MCP_SERVICE_TOOLS: 'true' } : {}) };
    const contextStacks = new Map<BoundedContext, ContextRoutesStack>();
    for (const [context, contextRoutes] of routesByContext(routeTable)) {
      contextStacks.set(
        context,
        new ContextRoutesStack(this, `${pascalCase(context)}Routes`, {
          context,
          routes: contextRoutes,
          restApi: this.restApi,
          requestValidator,
          workflowsTable: { table: props.workflowsTable, indexNames: props.workflowsTableIndexNames },
          tables: {
            registry: { table: props.registryTable, indexNames: props.registryTableIndexNames },
            executions: { table: props.executionsTable, indexNames: props.executionsTableIndexNames },
            apiKeys: { table: props.apiKeysTable, indexNames: props.apiKeysTableIndexNames },
            audit: { table: props.auditTable, indexNames: props.auditTableIndexNames },
            events: { table: props.eventsTable, indexNames: props.eventsTableIndexNames },
            subscriptions: { table: props.subscriptionsTable, indexNames: props.subscriptionsTableIndexNames },
            spans: { table: props.spansTable, indexNames: props.spansTableIndexNames },
          },
          environment,
          auditTable: props.auditTable,
          spansTable: props.spansTable,
          ...(this.authorizer ? { authorizer: this.authorizer.authorizer } : {}),
          engine: props.engine,
          probes: props.probes,
          eventPublishing: props.eventPublishing,
          ...(props.eventDeliveries ? { eventDeliveries: props.eventDeliveries } : {}),
          ...(props.deadLetterAccess ? { deadLetterAccess: props.deadLetterAccess } : {}),
          peerUrls: props.peerUrls,
          ...(props.auth?.peerTokenSecretArn === undefined ? {} : { peerTokenSecretArn: props.auth.peerTokenSecretArn }),
          outbound: props.outbound,
          ...(props.ecosystem ? { ecosystem: props.ecosystem } : {}),
          ...(props.schedules ? { schedules: props.schedules } : {}),
          ...(props.jobs ? { jobs: props.jobs } : {}),
          ...(props.planner ? { planner: props.planner } : {}),
        }),
      );
    }
    this.contextStacks = contextStacks;
    const preflights = props.cors ? this.addCorsPreflights(routeTable, props.cors) : [];

    // A deployment is a snapshot of the API's methods: it must come after every nested stack that creates
    // them, and be replaced (new logical ID) whenever one of them changes. CDK does the latter only for
    // methods in the RestApi's own stack, so the definition of every method is hashed in here.
    const deployment = new Deployment(this, 'Deployment', { api: this.restApi, description: 'Orchestrator API' });
    for (const contextStack of contextStacks.values()) {
      deployment.node.addDependency(contextStack);
      deployment.addToLogicalId(Lazy.any({ produce: () => contextStack.methods.map(methodDefinition) }));
    }
    // So are the preflight methods, which live in this stack but are not on `latestDeployment` either.
    for (const preflight of preflights) deployment.node.addDependency(preflight);
    if (preflights.length > 0) deployment.addToLogicalId(Lazy.any({ produce: () => preflights.map(methodDefinition) }));
    // Gateway responses are snapshotted too. CDK wires them to `restApi.latestDeployment` only, which a
    // `deploy: false` API does not have.
    for (const gatewayResponse of this.gatewayResponses) deployment.node.addDependency(gatewayResponse);
    deployment.addToLogicalId(Lazy.any({ produce: () => this.gatewayResponses.map(gatewayResponseDefinition) }));
    // And the authorizer: its settings take effect with a deployment (what CDK's
    // authorizerChangeDeploymentLogicalId flag does, for `latestDeployment` only).
    if (this.authorizer) {
      const { cfnAuthorizer } = this.authorizer;
      deployment.node.addDependency(this.authorizer.authorizer);
      deployment.addToLogicalId(
        Lazy.any({ produce: () => ({ type: cfnAuthorizer.type, uri: cfnAuthorizer.authorizerUri, ttl: cfnAuthorizer.authorizerResultTtlInSeconds, identitySource: cfnAuthorizer.identitySource }) }),
      );
    }

    const throttling = props.throttling ?? { rateLimit: 50, burstLimit: 100 };
    const accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.ONE_MONTH });
    this.stage = new Stage(this, 'Stage', {
      deployment,
      stageName: props.stageName ?? 'api',
      accessLogDestination: new LogGroupLogDestination(accessLogs),
      accessLogFormat: ACCESS_LOG_FORMAT,
      tracingEnabled: true,
      metricsEnabled: true,
      // ERROR, not INFO: execution logs at INFO cost more than the access logs and add little to them.
      // Data tracing would log request and response bodies: never.
      loggingLevel: MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      throttlingRateLimit: throttling.rateLimit,
      throttlingBurstLimit: throttling.burstLimit,
    });
    // Not `restApi.deploymentStage = stage`: method ARNs would then name the stage, making each Lambda
    // permission (in a nested stack) depend on the stage, which depends on the deployment, which depends on
    // the nested stacks: a cycle. Permissions are scoped to the API, method and path, on any of its stages.

    // A usage plan on the stage, with the stage's own limits. It limits nothing today: usage plans meter and
    // throttle API Gateway API keys on methods that require one, and this API's keys are its own, checked by
    // the authorizer (ADR 0010). It is where per-client API Gateway keys would go, should a client need one.
    this.usagePlan = new UsagePlan(this, 'UsagePlan', {
      description: 'Orchestrator API stage (limits API Gateway API keys only; the API uses none today)',
      throttle: { rateLimit: throttling.rateLimit, burstLimit: throttling.burstLimit },
      apiStages: [{ api: this.restApi, stage: this.stage }],
    });
    if (props.wafRateLimit !== undefined) {
      this.waf = new WafRateLimit(this, 'RateLimit', { stage: this.stage, limitPer5Minutes: props.wafRateLimit, name: `${this.stackName}-rate-limit` });
    }

    if (props.customDomain !== undefined) {
      this.domain = new ApiDomain(this, 'CustomDomain', { settings: props.customDomain, restApi: this.restApi, stage: this.stage });
      new CfnOutput(this, 'ApiUrl', { value: `https://${props.customDomain.domainName}/`, description: 'Base URL of the API (its custom domain; the execute-api endpoint is disabled)' });
      new CfnOutput(this, 'DomainTarget', {
        value: this.domain.domain.domainNameAliasDomainName,
        description: `DNS target of ${props.customDomain.domainName}: a CNAME to this name, or a Route 53 alias to it in hosted zone DomainHostedZoneId`,
      });
      new CfnOutput(this, 'DomainHostedZoneId', { value: this.domain.domain.domainNameAliasHostedZoneId, description: 'Hosted zone of DomainTarget, for Route 53 alias records' });
    } else {
      new CfnOutput(this, 'ApiUrl', { value: this.stage.urlForPath('/'), description: 'Base URL of the API' });
    }

    this.acknowledgeNagFindings();
  }

  /**
   * An OPTIONS method on each path of the route table, answered by API Gateway itself (a mock integration,
   * no authorizer: browsers send preflights without credentials), allowing that path's methods, as the local
   * server answers. With several origins API Gateway echoes the caller's origin when it is one of them.
   */
  private addCorsPreflights(routeTable: Readonly<Record<RouteName, RouteSpec>>, cors: CorsPolicy): Method[] {
    const methodsByPath = new Map<string, string[]>();
    for (const spec of Object.values(routeTable)) methodsByPath.set(spec.path, [...(methodsByPath.get(spec.path) ?? []), spec.method]);
    return [...methodsByPath].map(([apiPath, methods]) => {
      const preflight = this.restApi.root.resourceForPath(apiPath).addCorsPreflight({
        allowOrigins: cors.anyOrigin ? Cors.ALL_ORIGINS : [...cors.origins],
        allowMethods: [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'],
        allowHeaders: [...CORS_ALLOWED_HEADERS],
        maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
      });
      for (const id of ['AwsSolutions-APIG4', 'AwsSolutions-COG4']) {
        Validations.of(preflight).acknowledge({ id, reason: `OPTIONS ${apiPath} is the CORS preflight (-c corsOrigins): browsers send it without credentials, and API Gateway answers it itself, calling nothing.` });
      }
      return preflight;
    });
  }

  private acknowledgeNagFindings(): void {
    // APIG4 and COG4 are acknowledged per method, in the context stacks (public methods only for APIG4).
    if (!this.waf) {
      Validations.of(this.stage).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'No WAF web ACL unless -c wafRateLimit=N asks for its per-IP rate limit: every non-public method needs a verified credential, and stage throttling bounds the total rate. A web ACL costs a monthly fee per ACL and rule.',
      });
    }
    const cloudWatchRole = this.restApi.node.findChild('CloudWatchRole');
    Validations.of(cloudWatchRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-wide API Gateway logging role: one per account and region, shared by every REST API there, so it cannot be scoped to this API. This is the policy AWS documents for it.',
    });
  }
}

/**
 * Access logs as one JSON object per request. API Gateway writes '-' for a value it lacks (no integration
 * latency on a throttled request...), so only values that are always numbers are left unquoted; the error
 * message uses `messageString`, which API Gateway quotes and escapes itself.
 */
const ACCESS_LOG_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['requestId', quoted(AccessLogField.contextRequestId())],
  ['xrayTraceId', quoted(AccessLogField.contextXrayTraceId())],
  ['requestTime', quoted(AccessLogField.contextRequestTime())],
  ['sourceIp', quoted(AccessLogField.contextIdentitySourceIp())],
  ['httpMethod', quoted(AccessLogField.contextHttpMethod())],
  ['resourcePath', quoted(AccessLogField.contextResourcePath())],
  ['path', quoted(AccessLogField.contextPath())],
  ['protocol', quoted(AccessLogField.contextProtocol())],
  ['status', AccessLogField.contextStatus()],
  ['responseLength', AccessLogField.contextResponseLength()],
  ['responseLatencyMs', quoted(AccessLogField.contextResponseLatency())],
  ['integrationStatus', quoted(AccessLogField.contextIntegrationStatus())],
  ['integrationLatencyMs', quoted(AccessLogField.contextIntegrationLatency())],
  ['errorMessage', AccessLogField.contextErrorMessageString()],
];
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(`{${ACCESS_LOG_FIELDS.map(([key, value]) => `"${key}":${value}`).join(',')}}`);

function quoted(field: string): string {
  return `"${field}"`;
}

/**
 * Everything API Gateway snapshots of a method into a deployment: the properties of its
 * AWS::ApiGateway::Method. Tokens in it (function ARNs, resource IDs) resolve to stable Ref/GetAtt
 * expressions, so the hash changes exactly when a method's definition does.
 */
function methodDefinition(method: Method): Record<string, unknown> {
  const cfnMethod = method.node.defaultChild;
  if (!(cfnMethod instanceof CfnMethod)) throw new Error(`${method.node.path} has no AWS::ApiGateway::Method`);
  return {
    httpMethod: cfnMethod.httpMethod,
    resourceId: cfnMethod.resourceId,
    operationName: cfnMethod.operationName,
    authorizationType: cfnMethod.authorizationType,
    authorizerId: cfnMethod.authorizerId,
    authorizationScopes: cfnMethod.authorizationScopes,
    apiKeyRequired: cfnMethod.apiKeyRequired,
    requestValidatorId: cfnMethod.requestValidatorId,
    requestParameters: cfnMethod.requestParameters,
    requestModels: cfnMethod.requestModels,
    integration: cfnMethod.integration,
    methodResponses: cfnMethod.methodResponses,
  };
}

/** What a deployment snapshots of a gateway response: its AWS::ApiGateway::GatewayResponse properties. */
function gatewayResponseDefinition(gatewayResponse: GatewayResponse): Record<string, unknown> {
  const cfnResponse = cfnGatewayResponseOf(gatewayResponse);
  return {
    responseType: cfnResponse.responseType,
    statusCode: cfnResponse.statusCode,
    responseParameters: cfnResponse.responseParameters,
    responseTemplates: cfnResponse.responseTemplates,
  };
}

/** ORCHESTRATOR_CORS_ORIGINS for a policy: `*` or the origins, comma-separated. */
export function corsSetting(cors: CorsPolicy): string {
  return cors.anyOrigin ? '*' : cors.origins.join(',');
}

/**
 * API Gateway's own errors with the CORS headers, so that a browser can read them (a 401 from the authorizer,
 * a 429): possible for any origin (`*`) or a single one, since gateway responses have static headers only.
 */
function withCorsHeaders(specs: readonly GatewayErrorSpec[], cors: CorsPolicy | undefined): readonly GatewayErrorSpec[] {
  if (cors === undefined || (!cors.anyOrigin && cors.origins.length !== 1)) return specs;
  const headers = {
    'Access-Control-Allow-Origin': cors.anyOrigin ? '*' : cors.origins[0]!,
    ...(cors.anyOrigin ? {} : { Vary: 'Origin' }),
    'Access-Control-Expose-Headers': CORS_EXPOSED_HEADERS.join(', '),
  };
  return specs.map((spec) => ({ ...spec, headers: { ...spec.headers, ...headers } }));
}

/** Groups the route table by bounded context, keeping the table's order within each context. */
export function routesByContext(table: Readonly<Record<RouteName, RouteSpec>>): Map<BoundedContext, NamedRoute[]> {
  const grouped = new Map<BoundedContext, NamedRoute[]>();
  for (const name of Object.keys(table) as RouteName[]) {
    const spec = table[name];
    const contextRoutes = grouped.get(spec.context) ?? [];
    contextRoutes.push({ name, spec });
    grouped.set(spec.context, contextRoutes);
  }
  return grouped;
}
