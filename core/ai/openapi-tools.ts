import { HTTP_METHODS, MAX_OPERATIONS } from '../registry/drift.ts';
import { looksLikeCredential, scrubText } from './credentials.ts';
import { ApiDocumentIndex, isObject, ToolSchemaBuilder, type ApiDialect, type SchemaValue } from './openapi-schema.ts';
import { distinguished, methodPathSegment, safeSegment, uniqueNames, withinLimit } from './tool-names.ts';
import type { JsonSchema, ToolDescription } from './workflow-tools.ts';

/**
 * A registered service's operations as tools (issue 17), from the API document the registry polls.
 *
 * The input schema groups the arguments as an HTTP call needs them: `path`, `query` and `header` objects (one
 * property per parameter) and `body` (the JSON request body's schema). Grouped rather than flattened, because a
 * flat object cannot hold a query parameter and a body field of the same name (`id` in the path and in the body
 * is common), and because whoever makes the call must know where each value goes without a side table.
 *
 * Credentials are not arguments: the orchestrator authenticates to services itself (a registration's `auth`), so
 * cookies, `Authorization`, and the parameters the document's security schemes declare (`apiKey` in a header or
 * the query) are left out, and no example, default or text that looks like a credential is passed on.
 */

export interface ServiceOperationTool extends ToolDescription {
  readonly kind: 'service_operation';
  readonly service: string;
  /** Upper case: GET, POST... */
  readonly method: string;
  readonly path: string;
  readonly operation_id: string | null;
  readonly tags: readonly string[];
  /** The media type `body` is sent as, when the operation takes one. */
  readonly body_media_type?: string;
  readonly deprecated?: true;
}

export type ServiceToolsOutcome = { readonly ok: true; readonly tools: ServiceOperationTool[] } | { readonly ok: false; readonly reason: string };

type JsonObject = Record<string, unknown>;
type Location = 'path' | 'query' | 'header';
const LOCATIONS: readonly Location[] = ['path', 'query', 'header'];
const MAX_DESCRIPTION = 4000;
/** What workflows' tool names start with (core/ai/workflow-tools.ts). */
const WORKFLOW_TOOL_PREFIX = 'workflow';
const MAX_TITLE = 200;
const MAX_TAGS = 20;
/** OpenAPI ignores these header parameters (the call sets them); Authorization is a credential too. */
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization', 'proxy-authorization', 'cookie']);
/** Parameters that carry credentials whatever the document's security schemes say. */
const CREDENTIAL_PARAMETERS = new Set(['x-api-key', 'api-key', 'api_key', 'apikey', 'access_token', 'x-auth-token', 'x-access-token']);

/** The dialect of an API document, or why it is not one this reads. */
export function apiDialect(document: unknown): ApiDialect | { reason: string } {
  if (!isObject(document)) return { reason: 'the document is not a JSON object' };
  const openapi = document['openapi'];
  if (typeof openapi === 'string' && /^3\.0(\.|$)/.test(openapi)) return 'openapi_3_0';
  if (typeof openapi === 'string' && /^3\.\d+(\.\d+)?/.test(openapi)) return 'openapi_3_1';
  if (document['swagger'] === '2.0') return 'swagger_2_0';
  return { reason: 'not an OpenAPI 3.x or Swagger 2.0 document (no `openapi: 3.x` or `swagger: "2.0"` field)' };
}

/** Every operation of `document` as a tool of `service`, named `<service>.<operationId or method_path>`, unique. */
export function serviceOperationTools(service: string, document: unknown): ServiceToolsOutcome {
  const dialect = apiDialect(document);
  if (typeof dialect !== 'string') return { ok: false, reason: dialect.reason };
  const root = document as JsonObject;
  const paths = root['paths'] ?? {};
  if (!isObject(paths)) return { ok: false, reason: '`paths` is not an object' };
  const index = new ApiDocumentIndex(root, dialect);
  const secured = securityParameters(root, dialect);

  const drafts: Omit<ServiceOperationTool, 'name'>[] = [];
  const segments: string[] = [];
  for (const [path, declared] of Object.entries(paths)) {
    const pathItem = path.startsWith('x-') ? undefined : index.dereference(declared);
    if (!isObject(pathItem)) continue;
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method];
      if (!isObject(operation)) continue;
      if (drafts.length >= MAX_OPERATIONS) return { ok: false, reason: `the document has more than ${MAX_OPERATIONS} operations` };
      const operationId = typeof operation['operationId'] === 'string' && operation['operationId'].trim() !== '' ? operation['operationId'] : null;
      // No `.` after the service's: the last `.` of a name ends the service's part, so that services `a.b` and
      // `a` never both have an `a.b.c`.
      segments.push((operationId === null ? methodPathSegment(method, path) : safeSegment(operationId, methodPathSegment(method, path))).replace(/\./g, '_'));
      drafts.push(describeOperation({ service, method, path, pathItem, operation, operationId, index, secured, root }));
    }
  }
  // A service named `workflow` would share names with workflows' tools (`workflow.<name>`): its tools always
  // carry a digest, which depends on nothing but themselves, whichever tools a listing holds.
  const base = (draft: Omit<ServiceOperationTool, 'name'>, segment: string) => {
    const name = withinLimit(`${service}.${segment}`);
    return service === WORKFLOW_TOOL_PREFIX ? distinguished(name, `${draft.method} ${draft.path}`) : name;
  };
  const names = uniqueNames(
    drafts.map((draft, position) => ({ draft, base: base(draft, segments[position]!) })),
    (item) => item.base,
    (item) => `${item.draft.method} ${item.draft.path}`,
  );
  return { ok: true, tools: drafts.map((draft, position) => ({ name: names[position]!, ...draft })) };
}

interface OperationContext {
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly pathItem: JsonObject;
  readonly operation: JsonObject;
  readonly operationId: string | null;
  readonly index: ApiDocumentIndex;
  readonly secured: ReadonlySet<string>;
  readonly root: JsonObject;
}

function describeOperation(context: OperationContext): Omit<ServiceOperationTool, 'name'> {
  const { service, method, path, operation, operationId, index } = context;
  const builder = new ToolSchemaBuilder(index);
  const groups: Record<Location, { properties: Record<string, SchemaValue>; required: string[] }> = {
    path: { properties: {}, required: [] },
    query: { properties: {}, required: [] },
    header: { properties: {}, required: [] },
  };
  const form: { properties: Record<string, SchemaValue>; required: string[] } = { properties: {}, required: [] };
  let body: { schema: SchemaValue; required: boolean; mediaType: string } | undefined;

  for (const parameter of parametersOf(context)) {
    const name = parameter['name'] as string;
    const where = parameter['in'];
    if (where === 'body') {
      body = { schema: builder.schema(parameter['schema']), required: parameter['required'] === true, mediaType: consumed(context, false) };
      continue;
    }
    const schema = annotate(parameterSchema(parameter, builder, index.dialect), parameter);
    if (where === 'formData') {
      form.properties[name] = schema;
      if (parameter['required'] === true) form.required.push(name);
    } else if (where === 'path' || where === 'query' || where === 'header') {
      if (where !== 'path' && isCredential(where, name, context.secured)) continue;
      groups[where].properties[name] = schema;
      // Path parameters are always required, whatever the document says.
      if (where === 'path' || parameter['required'] === true) groups[where].required.push(name);
    }
  }
  if (Object.keys(form.properties).length > 0) {
    body = { schema: objectOf(form.properties, form.required), required: form.required.length > 0, mediaType: consumed(context, true) };
  }
  body = requestBody(context, builder) ?? body;

  const properties: Record<string, SchemaValue> = {};
  const required: string[] = [];
  for (const location of LOCATIONS) {
    const group = groups[location];
    if (Object.keys(group.properties).length === 0) continue;
    properties[location] = objectOf(group.properties, group.required);
    if (group.required.length > 0) required.push(location);
  }
  if (body !== undefined) {
    properties['body'] = body.schema;
    if (body.required) required.push('body');
  }
  const definitions = builder.definitions();
  const input_schema: JsonSchema = {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
    ...(definitions === undefined ? {} : { $defs: definitions }),
  };

  const summary = text(operation['summary']);
  const details = text(operation['description']);
  const upper = method.toUpperCase();
  const description = [summary, details !== summary ? details : undefined].filter((part) => part !== undefined).join('\n\n') || `${upper} ${path} of the service ${service}`;
  return {
    kind: 'service_operation',
    title: scrubText((summary ?? operationId ?? `${upper} ${path}`).slice(0, MAX_TITLE)),
    description: scrubText(description.slice(0, MAX_DESCRIPTION)),
    input_schema,
    service,
    method: upper,
    path,
    operation_id: operationId,
    tags: Array.isArray(operation['tags']) ? operation['tags'].filter((tag): tag is string => typeof tag === 'string' && !looksLikeCredential(tag)).slice(0, MAX_TAGS) : [],
    ...(body === undefined ? {} : { body_media_type: body.mediaType }),
    ...(operation['deprecated'] === true ? { deprecated: true as const } : {}),
  };
}

/** The path's parameters, overridden by the operation's of the same name and location; references followed. */
function parametersOf({ pathItem, operation, index }: OperationContext): JsonObject[] {
  const byKey = new Map<string, JsonObject>();
  for (const list of [pathItem['parameters'], operation['parameters']]) {
    if (!Array.isArray(list)) continue;
    for (const declared of list) {
      const parameter = index.dereference(declared);
      if (!isObject(parameter) || typeof parameter['name'] !== 'string' || typeof parameter['in'] !== 'string') continue;
      byKey.set(`${parameter['in']}\n${parameter['in'] === 'header' ? parameter['name'].toLowerCase() : parameter['name']}`, parameter);
    }
  }
  return [...byKey.values()];
}

/** A parameter's value schema: 3.x's `schema` (or its `content`'s), Swagger's keywords on the parameter itself. */
function parameterSchema(parameter: JsonObject, builder: ToolSchemaBuilder, dialect: ApiDialect): SchemaValue {
  if (dialect !== 'swagger_2_0') {
    if (parameter['schema'] !== undefined) return builder.schema(parameter['schema']);
    const content = isObject(parameter['content']) ? Object.values(parameter['content'])[0] : undefined;
    return isObject(content) && content['schema'] !== undefined ? builder.schema(content['schema']) : {};
  }
  const keywords = ['type', 'format', 'items', 'enum', 'default', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems', 'multipleOf', 'x-nullable'];
  return builder.schema(Object.fromEntries(keywords.filter((keyword) => parameter[keyword] !== undefined).map((keyword) => [keyword, parameter[keyword]])), parameter['name'] as string);
}

/** The parameter's description and deprecation on its schema, where an agent reads them. */
function annotate(schema: SchemaValue, parameter: JsonObject): SchemaValue {
  const description = text(parameter['description']);
  if (typeof schema === 'boolean' || (description === undefined && parameter['deprecated'] !== true)) return schema;
  return { ...schema, ...(description === undefined ? {} : { description: scrubText(description.slice(0, MAX_DESCRIPTION)) }), ...(parameter['deprecated'] === true ? { deprecated: true } : {}) };
}

/** 3.x's request body: its JSON media type first, then a form, then text (as a string); others are not described. */
function requestBody({ operation, index }: OperationContext, builder: ToolSchemaBuilder): { schema: SchemaValue; required: boolean; mediaType: string } | undefined {
  const declared = index.dereference(operation['requestBody']);
  if (!isObject(declared) || !isObject(declared['content'])) return undefined;
  const media = Object.entries(declared['content']).filter((entry): entry is [string, JsonObject] => isObject(entry[1]));
  const required = declared['required'] === true;
  const pick = (test: (type: string) => boolean) => media.find(([type]) => test(type.split(';')[0]!.trim().toLowerCase()));
  const chosen = pick((type) => type === 'application/json' || type.endsWith('+json')) ?? pick((type) => type === 'application/x-www-form-urlencoded' || type === 'multipart/form-data') ?? pick((type) => type === '*/*');
  if (chosen !== undefined) return { schema: chosen[1]['schema'] === undefined ? {} : builder.schema(chosen[1]['schema']), required, mediaType: chosen[0] };
  const textual = pick((type) => type.startsWith('text/'));
  if (textual !== undefined) return { schema: { type: 'string' }, required, mediaType: textual[0] };
  return undefined;
}

/** Swagger's body media type: the operation's (or the document's) `consumes`, JSON first; forms for formData. */
function consumed({ operation, root }: OperationContext, form: boolean): string {
  const declared = [operation['consumes'], root['consumes']].find(Array.isArray) as unknown[] | undefined;
  const types = (declared ?? []).filter((type): type is string => typeof type === 'string');
  if (form) return types.find((type) => type === 'multipart/form-data' || type === 'application/x-www-form-urlencoded') ?? 'application/x-www-form-urlencoded';
  return types.find((type) => /^application\/(.+\+)?json/.test(type)) ?? types[0] ?? 'application/json';
}

/** The names of the `apiKey` parameters the document's security schemes declare, as `<in>\n<lower-case name>`. */
function securityParameters(root: JsonObject, dialect: ApiDialect): Set<string> {
  const components = isObject(root['components']) ? root['components'] : {};
  const schemes = dialect === 'swagger_2_0' ? root['securityDefinitions'] : components['securitySchemes'];
  const found = new Set<string>();
  if (!isObject(schemes)) return found;
  for (const scheme of Object.values(schemes)) {
    if (isObject(scheme) && scheme['type'] === 'apiKey' && typeof scheme['name'] === 'string' && typeof scheme['in'] === 'string') found.add(`${scheme['in']}\n${scheme['name'].toLowerCase()}`);
  }
  return found;
}

function isCredential(where: 'query' | 'header', name: string, secured: ReadonlySet<string>): boolean {
  const lower = name.toLowerCase();
  return secured.has(`${where}\n${lower}`) || CREDENTIAL_PARAMETERS.has(lower) || (where === 'header' && IGNORED_HEADERS.has(lower));
}

function objectOf(properties: Record<string, SchemaValue>, required: readonly string[]): JsonSchema {
  return { type: 'object', properties, ...(required.length > 0 ? { required: [...new Set(required)] } : {}), additionalProperties: false };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
