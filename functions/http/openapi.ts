import * as z from 'zod';
import { routes, type RouteName, type RouteSpec } from '../routes.ts';
import { ErrorEnvelopeSchema, errorEnvelopeSchema, operationErrors } from './error-schemas.ts';
import { METHOD_NOT_ALLOWED, ROUTE_NOT_FOUND } from '../middleware/envelope.ts';
import { bodyMayBeOmitted } from '../middleware/http-handler.ts';

type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema>; responses: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

/** How callers authenticate; an operation's `security` lists the schemes that reach it. */
const SECURITY_SCHEMES = {
  bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT (HS256 with the shared secret, or RS256/ES256 from the configured JWKS); roles from `roles` or `cognito:groups`, tenant from `tenant`' },
  apiKeyAuth: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'A managed API key (POST /auth/api-keys) or ORCHESTRATOR_API_KEY' },
} as const;

/** What each access level adds to an operation's description, so readers of the document see the role. */
const ACCESS_NOTES: Readonly<Record<RouteSpec['auth'], string>> = {
  public: 'Public: no credential needed.',
  authenticated: 'Any authenticated caller (anonymous callers too when the auth mode is optional).',
  viewer: 'Role: viewer or higher.',
  operator: 'Role: operator or higher.',
  admin: 'Role: admin.',
  peer: 'Peer orchestrators (the peer token or a client certificate) and admins.',
};

interface HeaderParameter {
  readonly name: string;
  readonly description: string;
}

/**
 * What the handlers do beyond the route table's data (read from functions/http/*-handlers.ts): request
 * headers they read, response headers they set, and statuses they answer besides `successStatus`.
 */
interface OperationFacts {
  readonly requestHeaders?: readonly HeaderParameter[];
  /** Lower-case header name -> description, on the success response(s). */
  readonly successHeaders?: Readonly<Record<string, string>>;
  /** Other success statuses with the same body. */
  readonly alsoSucceeds?: Readonly<Record<number, string>>;
  /** The handler itself answers 503 with its report in the success envelope (a dependency is down). */
  readonly reportsUnhealthy?: true;
}

const IF_MATCH: HeaderParameter = { name: 'If-Match', description: 'ETag of the revision you read ("3", W/"3" or *); 409 if it changed since' };
const ETAG = { etag: 'The revision of the workflow ("<revision>"): send it back in If-Match' } as const;
const LOCATION = { location: 'Where the created object is read' } as const;

const FACTS: Partial<Record<RouteName, OperationFacts>> = {
  systemHealth: { reportsUnhealthy: true },
  ready: { reportsUnhealthy: true },
  workflowsHealth: { reportsUnhealthy: true },
  createWorkflow: { successHeaders: { ...ETAG, ...LOCATION } },
  createFromTemplate: { successHeaders: { ...ETAG, ...LOCATION } },
  getWorkflow: { successHeaders: ETAG },
  updateWorkflow: { requestHeaders: [IF_MATCH], successHeaders: ETAG },
  deleteWorkflow: { requestHeaders: [IF_MATCH] },
  executeWorkflow: {
    requestHeaders: [{ name: 'Idempotency-Key', description: '1 to 255 characters: the same key for the same workflow never starts a second run (the first run is answered again)' }],
    successHeaders: LOCATION,
  },
  registerService: { alsoSucceeds: { 200: 'An existing registration of the same instance was replaced (renewed)' } },
  // MCP's Streamable HTTP: a POST of notifications or responses only is accepted with no answer.
  mcp: { alsoSucceeds: { 202: 'Only notifications or responses were sent: accepted, no body' } },
  createApiKey: { successHeaders: { ...LOCATION, 'cache-control': 'no-store: the key is in this response only' } },
};

const REQUEST_ID_HEADER = { 'x-request-id': { description: 'The request id (also request_id in the body): quote it when reporting a problem', schema: { type: 'string' } } };

/**
 * The OpenAPI 3.1 document, generated from the route table and its zod schemas (3.1 uses JSON Schema
 * 2020-12, which is what zod emits). Nested `$defs` are hoisted into `components.schemas`. Each operation
 * lists the errors it can answer (error-schemas.ts), each with an envelope whose `error_code` is one of the
 * codes that status carries for it.
 */
export function buildOpenApiDocument(version: string): OpenApiDocument {
  const components: Record<string, JsonSchema> = {};
  components['ErrorEnvelope'] = toSchema(ErrorEnvelopeSchema, 'output', 'ErrorEnvelope', components);
  /** One component per set of codes, named after them: `Error_VALIDATION_ERROR_or_MALFORMED_JSON`. */
  const errorEnvelope = (codes: readonly string[]): JsonSchema => {
    const name = `Error_${codes.join('_or_')}`;
    components[name] ??= toSchema(errorEnvelopeSchema(codes), 'output', name, components);
    return { $ref: `#/components/schemas/${name}` };
  };
  const headersOf = (described: Readonly<Record<string, string>>) => ({
    ...REQUEST_ID_HEADER,
    ...Object.fromEntries(Object.entries(described).map(([name, description]) => [name, { description, schema: { type: 'string' } }])),
  });
  const paths: OpenApiDocument['paths'] = {};
  for (const [operationId, route] of Object.entries(routes) as [RouteName, RouteSpec][]) {
    const facts = FACTS[operationId] ?? {};
    const schema = (zodSchema: z.ZodType, io: 'input' | 'output') => toSchema(zodSchema, io, operationId, components);
    const parameters = [
      ...parametersOf(route.params, 'path', schema),
      ...parametersOf(route.query, 'query', schema),
      ...(facts.requestHeaders ?? []).map(({ name, description }) => ({ name, in: 'header', required: false, description, schema: { type: 'string' } })),
      { name: 'X-User-ID', in: 'header', required: false, description: 'Names an anonymous caller (recorded as created_by / updated_by; at most 256 characters); ignored when a credential is presented', schema: { type: 'string' } },
    ];
    const success: JsonSchema = route.rawResponse
      ? schema(route.response, 'output')
      : {
          type: 'object',
          required: ['success', 'message', 'data', 'request_id', 'timestamp'],
          properties: {
            success: { const: true },
            message: { type: 'string' },
            data: schema(route.response, 'output'),
            request_id: { type: 'string' },
            timestamp: { type: 'string', format: 'date-time' },
          },
          additionalProperties: false,
        };
    const successResponse = (description: string) => ({ description, headers: headersOf(facts.successHeaders ?? {}), content: { [route.mediaType ?? 'application/json']: { schema: success } } });
    const responses: Record<string, unknown> = { [String(route.successStatus)]: successResponse(route.summary) };
    for (const [status, description] of Object.entries(facts.alsoSucceeds ?? {})) responses[status] = successResponse(description);
    for (const error of operationErrors(operationId, route)) {
      if (error.codes.length === 0) {
        responses[String(error.status)] = { description: error.description };
        continue;
      }
      const envelope = errorEnvelope(error.codes);
      const report = error.status === 503 && facts.reportsUnhealthy === true;
      responses[String(error.status)] = {
        description: report ? `${error.description}; or the report itself, when a dependency it checks is down` : error.description,
        headers: headersOf(error.headers),
        content: { 'application/json': { schema: report ? { oneOf: [success, envelope] } : envelope } },
      };
    }
    if (route.ecosystem) {
      // The service's own refusals (404, 409, 422, 429...) come back with its status and message.
      responses['4XX'] = {
        description: "The ecosystem service refused the request: its status, and its message in the envelope (error_code UPSTREAM_REJECTED; Retry-After kept on a 429)",
        content: { 'application/json': { schema: errorEnvelope(['UPSTREAM_REJECTED']) } },
      };
    }
    (paths[route.path] ??= {})[route.method.toLowerCase()] = {
      operationId,
      summary: route.summary,
      description: route.peerAccess ? `${ACCESS_NOTES[route.auth]} Peer orchestrators (the peer credential) too.` : ACCESS_NOTES[route.auth],
      tags: [route.tag],
      // Public routes need nothing; the others take either scheme (`{}` would mean "or none", which only the
      // optional auth mode allows: that is a deployment setting, so the document states the strict contract).
      security: route.auth === 'public' ? [] : [{ bearerAuth: [] }, { apiKeyAuth: [] }],
      'x-required-role': route.auth,
      parameters,
      ...(route.body ? { requestBody: { required: !bodyMayBeOmitted(route.body), content: { 'application/json': { schema: schema(route.body, 'input') } } } } : {}),
      responses,
    };
  }
  // What the router answers for any path: not per operation, so documented once, for readers and clients.
  const routerResponses = {
    RouteNotFound: { description: 'No route has this path (error_code ROUTE_NOT_FOUND)', headers: headersOf({}), content: { 'application/json': { schema: errorEnvelope([ROUTE_NOT_FOUND.code]) } } },
    MethodNotAllowed: {
      description: 'The path exists but not with this method (error_code METHOD_NOT_ALLOWED); Allow lists the methods it has',
      headers: headersOf({ allow: 'The methods the path has, HEAD and OPTIONS included' }),
      content: { 'application/json': { schema: errorEnvelope([METHOD_NOT_ALLOWED.code]) } },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Serverless Workflow Orchestrator',
      version,
      description:
        'Workflows as JSON, compiled to Step Functions. Every response uses the envelope { success, message, data | error_code + details, request_id, timestamp }. ' +
        'Any path answers 404 ROUTE_NOT_FOUND when no route has it, and 405 METHOD_NOT_ALLOWED (with Allow) when it has not that method (components.responses).',
    },
    paths,
    components: { schemas: components, responses: routerResponses, securitySchemes: { ...SECURITY_SCHEMES } },
  };
}

function parametersOf(
  object: z.ZodObject | undefined,
  location: 'path' | 'query',
  schema: (zodSchema: z.ZodType, io: 'input' | 'output') => JsonSchema,
): Record<string, unknown>[] {
  if (!object) return [];
  const json = schema(object, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || required.has(name),
    schema: property,
  }));
}

function toSchema(zodSchema: z.ZodType, io: 'input' | 'output', scope: string, components: Record<string, JsonSchema>): JsonSchema {
  const { $schema: _dialect, $defs, ...schema } = z.toJSONSchema(zodSchema, { io, unrepresentable: 'any', reused: 'inline' }) as JsonSchema & {
    $defs?: Record<string, JsonSchema>;
  };
  // Anonymous definitions are numbered per call: scope them to the operation so they never collide.
  const rename = (name: string) => (name.startsWith('__') ? `${scope}${name}` : name);
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node).map(([key, value]) =>
        key === '$ref' && typeof value === 'string' && value.startsWith('#/$defs/')
          ? [key, `#/components/schemas/${rename(value.slice('#/$defs/'.length))}`]
          : [key, rewrite(value)],
      ),
    );
  };
  for (const [name, definition] of Object.entries($defs ?? {})) components[rename(name)] = rewrite(definition) as JsonSchema;
  return rewrite(schema) as JsonSchema;
}
