import * as z from 'zod';
import { routes, type RouteSpec } from '../routes.ts';

type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
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

const ERROR_STATUSES: Record<string, string> = {
  '400': 'Invalid input: malformed JSON, or fields that fail validation (each listed in details)',
  '401': 'Unauthenticated: a credential is required, or the one presented does not verify (WWW-Authenticate names the scheme)',
  '403': "Forbidden: the caller's role does not reach this route",
  '404': 'Not found (also for another tenant\'s objects)',
  '409': 'Conflict: a concurrent change won (If-Match / expected_version)',
  '413': 'Payload too large',
  '415': 'Content-Type is not application/json',
  '431': 'Request header fields too large: the URL and headers together exceed the server\'s limit (16 KiB locally)',
  '429': 'Rate limited: too many requests from this caller (Retry-After says when to try again)',
  '500': 'Internal error',
  '503': 'A backing service is unavailable',
};

/**
 * The OpenAPI 3.1 document, generated from the route table and its zod schemas (3.1 uses JSON Schema
 * 2020-12, which is what zod emits). Nested `$defs` are hoisted into `components.schemas`.
 */
export function buildOpenApiDocument(version: string): OpenApiDocument {
  const components: Record<string, JsonSchema> = {
    ErrorEnvelope: {
      type: 'object',
      required: ['success', 'message', 'error_code', 'details', 'request_id'],
      properties: {
        success: { const: false },
        message: { type: 'string' },
        error_code: { type: 'string' },
        details: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
        request_id: { type: 'string' },
        timestamp: { type: 'string', format: 'date-time' },
      },
    },
  };
  const paths: OpenApiDocument['paths'] = {};
  for (const [operationId, route] of Object.entries(routes) as [string, RouteSpec][]) {
    const schema = (zodSchema: z.ZodType, io: 'input' | 'output') => toSchema(zodSchema, io, operationId, components);
    const parameters = [
      ...parametersOf(route.params, 'path', schema),
      ...parametersOf(route.query, 'query', schema),
      ...(route.method === 'PUT' || route.method === 'DELETE'
        ? [{ name: 'If-Match', in: 'header', required: false, description: 'ETag of the revision you read; 409 if it changed since', schema: { type: 'string' } }]
        : []),
      { name: 'X-User-ID', in: 'header', required: false, description: 'Names an anonymous caller (recorded as created_by / updated_by); ignored when a credential is presented', schema: { type: 'string' } },
    ];
    const envelope = {
      type: 'object',
      required: ['success', 'message', 'data', 'request_id', 'timestamp'],
      properties: {
        success: { const: true },
        message: { type: 'string' },
        data: schema(route.response, 'output'),
        request_id: { type: 'string' },
        timestamp: { type: 'string', format: 'date-time' },
      },
    };
    const responses: Record<string, unknown> = {
      [String(route.successStatus)]: {
        description: route.summary,
        content: { 'application/json': { schema: route.rawResponse ? schema(route.response, 'output') : envelope } },
      },
    };
    for (const [status, description] of Object.entries(ERROR_STATUSES)) {
      if (!route.body && (status === '413' || status === '415')) continue;
      if (route.auth === 'public' && (status === '401' || status === '403')) continue;
      responses[status] = { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorEnvelope' } } } };
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
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: schema(route.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Serverless Workflow Orchestrator',
      version,
      description: 'Workflows as JSON, compiled to Step Functions. Every response uses the envelope { success, message, data | error_code + details, request_id, timestamp }.',
    },
    paths,
    components: { schemas: components, securitySchemes: { ...SECURITY_SCHEMES } },
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
