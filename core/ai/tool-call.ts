import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { TenantScope } from '../auth/model.ts';
import { BadGatewayError, NotFoundError, type FieldIssue } from '../errors.ts';
import { HTTP_METHODS } from '../workflow/definition.ts';
import { isCredentialName } from './credentials.ts';
import type { ServiceOperationTool } from './openapi-tools.ts';
import type { ToolCatalog } from './tool-catalog.ts';
import { TOOL_NAME_LIMIT } from './workflow-tools.ts';

/**
 * `POST /tools/{tool_name}/call` (issue 17): a service operation of `GET /tools`, called with the arguments its
 * input schema describes (`{path, query, header, body}`, openapi-tools.ts). This module finds the tool, checks
 * the arguments against the schema and turns them into the request the action runner sends: the path filled
 * in (each value percent-encoded as one segment), the query, the headers, the body. Sending it is the edge's
 * (functions/ecosystem/service-proxy.ts), under the same rules as a workflow's service call.
 *
 * The action runner's contract shapes what can be sent: the methods of a `service_call` (GET, POST, PUT,
 * PATCH, DELETE), and a body that is a JSON object (POST, PUT and PATCH only). An operation outside it is
 * refused naming the limit rather than sent differently from what its document says.
 */

/** The methods the action runner sends (a workflow's `service_call` methods). */
export type CallableMethod = (typeof HTTP_METHODS)[number];

/** What to send to the service: everything the caller gave, checked and placed. */
export interface ServiceOperationRequest {
  readonly service: string;
  readonly method: CallableMethod;
  /** The operation's path with its parameters filled in, percent-encoded; no query. */
  readonly path: string;
  /** Query parameters by name: scalars, or arrays (repeated keys); absent ones left out. */
  readonly query: Readonly<Record<string, unknown>>;
  /** Header parameters as text, and the body's media type when it is not plain `application/json`. */
  readonly headers: Readonly<Record<string, string>>;
  /** The operation's `Idempotency-Key` header parameter, when the caller gave one: it makes a POST safe to retry. */
  readonly idempotencyKey?: string;
  /** The JSON body (POST, PUT, PATCH), when the caller gave one. */
  readonly body?: Readonly<Record<string, unknown>>;
}

export type ToolCallPlan = { readonly ok: true; readonly request: ServiceOperationRequest } | { readonly ok: false; readonly issues: readonly FieldIssue[] };

/** Headers whose value is a credential: the orchestrator sends the service's own (its registration's `auth`). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-api-key', 'api-key', 'apikey', 'x-auth-token', 'x-access-token', 'x-amz-security-token']);
/** Query parameters that carry credentials whatever the document says (as openapi-tools.ts leaves them out). */
const CREDENTIAL_QUERY = new Set(['access_token', 'api_key', 'apikey', 'api-key', 'x-api-key', 'x-auth-token', 'x-access-token']);
/** Hop-by-hop headers and the destination belong to the HTTP client; content negotiation to the call. */
const CLIENT_HEADERS = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'content-length', 'expect', 'accept', 'content-type']);
/** Headers the orchestrator sets on every call: who it acts for, and the trace and correlation ids. */
const ORCHESTRATOR_HEADERS = new Set(['x-orchestrator-subject', 'x-orchestrator-tenant', 'traceparent', 'tracestate', 'x-trace-id', 'x-request-id', 'x-workflow-execution-id']);
/** More than this many problems are summed up in one: a caller fixes the first ones first. */
const MAX_ISSUES = 50;

/**
 * The service operation tool named `name` among those the caller's listing gives. Names are
 * `<service>.<operation>` where the last `.` ends the service's part, so only that service's document is read;
 * a name cut to the length limit may have lost its `.`, and is looked for among every service's. Absent:
 * NotFoundError pointing at `GET /tools`, with the listing's reason when its service's document could not be
 * read or used.
 */
export async function findServiceOperationTool(catalog: ToolCatalog, name: string, scope: TenantScope): Promise<ServiceOperationTool> {
  const dot = name.lastIndexOf('.');
  const service = dot > 0 ? name.slice(0, dot) : undefined;
  let listing = await catalog.list({ kind: 'service_operation', ...(service === undefined ? {} : { service }) }, scope);
  if (service !== undefined && name.length >= TOOL_NAME_LIMIT && !listing.tools.some((tool) => tool.name === name)) {
    listing = await catalog.list({ kind: 'service_operation' }, scope);
  }
  const tool = listing.tools.find((candidate): candidate is ServiceOperationTool => candidate.kind === 'service_operation' && candidate.name === name);
  if (tool !== undefined) return tool;
  // Absent from the listing is absent, whatever the reason: the listing's note for its service says why.
  const note = listing.notes.find((candidate) => candidate.service !== undefined && candidate.service === service);
  const why = note === undefined ? '' : `; the API document of service ${note.service} could not be read (${note.reason})`;
  const hint = name.startsWith('workflow.') ? '; a workflow runs with POST /workflows/{workflow_id}/execute' : '';
  throw new NotFoundError(`No service operation tool named ${name}: GET /tools?kind=service_operation lists the tools there are${why}${hint}`, [
    { field: 'tool_name', message: note === undefined ? `${name} is not a tool GET /tools lists` : `${name} is not listed: service ${note.service}: ${note.reason}` },
  ]);
}

/**
 * The request that calls `tool` with `args`, or every problem with the arguments (a FieldIssue each, its field
 * `arguments.<location>.<name>...`): the schema's rules, then what the call itself needs (path values that stay
 * in their segment, header text, no credential, a body the runner can send). A schema ajv cannot compile is the
 * service document's fault: BadGatewayError.
 */
export function planToolCall(tool: ServiceOperationTool, args: Readonly<Record<string, unknown>>): ToolCallPlan {
  const issues = new Issues();
  const method = tool.method.toUpperCase();
  if (!isCallableMethod(method)) {
    issues.add('tool_name', `${tool.name} is a ${method} operation; calls send ${HTTP_METHODS.join(', ')} only (the action runner's methods)`);
    return { ok: false, issues: issues.list() };
  }
  const path = record(args['path']);
  const query = record(args['query']);
  const header = record(args['header']);
  // Refusals of our own first: they say more than the schema's `additionalProperties` about the same field.
  for (const name of Object.keys(header)) {
    const reason = refusedHeader(name);
    if (reason !== undefined) issues.add(`arguments.header.${name}`, `arguments.header.${name} ${reason}`);
  }
  for (const name of Object.keys(query)) {
    if (CREDENTIAL_QUERY.has(name.toLowerCase())) issues.add(`arguments.query.${name}`, `arguments.query.${name} is a credential, which is no argument: the orchestrator sends the service's own (its registration's auth)`);
  }
  for (const issue of schemaIssues(tool, args)) issues.add(issue.field, issue.message);

  const filledPath = fillPath(tool.path, path, issues);
  const headers = headerText(header, issues);
  const body = bodyOf(tool, method, args, issues);
  if (issues.size > 0) return { ok: false, issues: issues.list() };

  const { 'idempotency-key': idempotencyKey, ...sent } = headers;
  const mediaType = tool.body_media_type;
  // The runner says `application/json` unless told otherwise: a `+json` type (merge patch, JSON:API) is told.
  const contentType: Record<string, string> = body !== undefined && mediaType !== undefined && mediaType !== 'application/json' && mediaType !== '*/*' ? { 'content-type': mediaType } : {};
  return {
    ok: true,
    request: {
      service: tool.service,
      method,
      path: filledPath,
      query: Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined && value !== null)),
      headers: { ...sent, ...contentType },
      ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      ...(body === undefined ? {} : { body }),
    },
  };
}

function isCallableMethod(method: string): method is CallableMethod {
  return (HTTP_METHODS as readonly string[]).includes(method);
}

/** Why a header may not be an argument, or undefined when it may. */
function refusedHeader(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (CREDENTIAL_HEADERS.has(lower) || isCredentialName(name)) return "is a credential, which is no argument: the orchestrator sends the service's own (its registration's auth)";
  if (CLIENT_HEADERS.has(lower)) return 'is set by the HTTP client, not by arguments';
  if (ORCHESTRATOR_HEADERS.has(lower)) return 'is set by the orchestrator on every call (who it acts for, the trace), not by arguments';
  return undefined;
}

/** `{name}` in the operation's path replaced by the value of `arguments.path.name`, as one percent-encoded segment. */
function fillPath(template: string, values: Readonly<Record<string, unknown>>, issues: Issues): string {
  return template.replace(/\{([^{}]+)\}/g, (placeholder, name: string) => {
    const field = `arguments.path.${name}`;
    const value = values[name];
    if (value === undefined || value === null) {
      issues.add(field, `${field} is required: the path ${template} has ${placeholder}`);
      return placeholder;
    }
    if (typeof value === 'object') {
      issues.add(field, `${field} must be a string, number or boolean (a path segment)`);
      return placeholder;
    }
    const text = String(value);
    // `.` and `..` stay dot segments even encoded (the URL parser reads %2E as `.`): they would climb the path.
    if (text === '' || text === '.' || text === '..') {
      issues.add(field, `${field} must not be ${JSON.stringify(text)}: it would leave its place in the path ${template}`);
      return placeholder;
    }
    return encodeURIComponent(text);
  });
}

/** Header arguments as text: scalars as they are written, arrays joined with `,` (OpenAPI's `simple` style). */
function headerText(values: Readonly<Record<string, unknown>>, issues: Issues): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === null) continue;
    const field = `arguments.header.${name}`;
    const items = Array.isArray(value) ? value : [value];
    if (!items.every((item) => typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean')) {
      issues.add(field, `${field} must be a string, number, boolean or an array of them (a header value)`);
      continue;
    }
    const text = items.map(String).join(',');
    if (hasHeaderControl(text)) {
      issues.add(field, `${field} must not contain line breaks or control characters (a header value)`);
      continue;
    }
    headers[name.toLowerCase()] = text;
  }
  return headers;
}

/** The body to send, when the caller gave one the action runner can send (a JSON object, with POST, PUT or PATCH). */
function bodyOf(tool: ServiceOperationTool, method: CallableMethod, args: Readonly<Record<string, unknown>>, issues: Issues): Record<string, unknown> | undefined {
  const body = args['body'];
  if (body === undefined) return undefined;
  if (method === 'GET' || method === 'DELETE') {
    issues.add('arguments.body', `arguments.body cannot be sent: a ${method} call carries no body here (the action runner sends its parameters as the query)`);
    return undefined;
  }
  const mediaType = tool.body_media_type;
  if (mediaType !== undefined && !isJsonMediaType(mediaType)) {
    issues.add('arguments.body', `arguments.body cannot be sent: ${tool.name} takes ${mediaType}, and calls send JSON bodies only`);
    return undefined;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    issues.add('arguments.body', `arguments.body must be a JSON object: calls send object bodies only (the action runner's contract), not ${Array.isArray(body) ? 'an array' : body === null ? 'null' : `a ${typeof body}`}`);
    return undefined;
  }
  return body as Record<string, unknown>;
}

/** Control characters (but tab) would split or corrupt a header: CR and LF would start a header of the caller's. */
function hasHeaderControl(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

function isJsonMediaType(mediaType: string): boolean {
  const type = mediaType.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json') || type === '*/*';
}

function record(value: unknown): Readonly<Record<string, unknown>> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Problems by field, the first one said about a field kept (ours come before the schema's), at most MAX_ISSUES. */
class Issues {
  private readonly byField = new Map<string, string>();
  private dropped = 0;

  add(field: string, message: string): void {
    if (this.byField.has(field)) return;
    if (this.byField.size >= MAX_ISSUES) this.dropped++;
    else this.byField.set(field, message);
  }

  get size(): number {
    return this.byField.size;
  }

  list(): FieldIssue[] {
    const issues = [...this.byField].map(([field, message]) => ({ field, message }));
    return this.dropped === 0 ? issues : [...issues, { field: 'arguments', message: `${this.dropped} more problem${this.dropped === 1 ? '' : 's'} not listed` }];
  }
}

// --- The input schema's rules -------------------------------------------------------------------------------

let shared: Ajv2020 | undefined;
/**
 * Not strict: the schemas come from services' documents, whose unknown keywords (`example`, `x-...`) are
 * annotations here. `format` is an annotation too (no format plugin is shipped), as for output_schema.
 */
function ajvInstance(): Ajv2020 {
  return (shared ??= new Ajv2020({ allErrors: true, strict: false, allowUnionTypes: true, validateFormats: false, logger: false }));
}
/** Compiled validators by schema text: one service's tools are called again and again. */
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 500;

function validatorOf(tool: ServiceOperationTool): ValidateFunction {
  const key = JSON.stringify(tool.input_schema);
  const known = compiled.get(key);
  if (known !== undefined) return known;
  // A copy, removed from ajv after compiling: ajv keys its cache on the object, and documents change.
  const copy = structuredClone(tool.input_schema) as Record<string, unknown>;
  const ajv = ajvInstance();
  try {
    const validate = ajv.compile(copy);
    compiled.set(key, validate);
    if (compiled.size > MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
    return validate;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new BadGatewayError(`${tool.name} cannot be called: the input schema its service's API document gives cannot be checked (${reason})`, [{ field: 'tool_name', message: reason }], { cause: error });
  } finally {
    ajv.removeSchema(copy);
  }
}

/** The arguments' problems under the tool's input schema, each with its field and the rule it breaks. */
function schemaIssues(tool: ServiceOperationTool, args: Readonly<Record<string, unknown>>): FieldIssue[] {
  const validate = validatorOf(tool);
  if (validate(args)) return [];
  const errors = validate.errors ?? [];
  // A failed anyOf/oneOf reports each branch's own errors too: they contradict one another, the branch point says it.
  const branchPoints = errors.filter((error) => error.keyword === 'anyOf' || error.keyword === 'oneOf').map((error) => `${error.schemaPath}/`);
  const topLevel = Object.keys(record(tool.input_schema['properties']));
  return errors
    .filter((error) => !branchPoints.some((point) => error.schemaPath.startsWith(point)))
    .map((error) => {
      const field = fieldOf(error, args);
      return { field, message: `${field} ${ruleText(error, topLevel)}` };
    });
}

/** `/query/limit` -> `arguments.query.limit`; `/body/items/0` -> `arguments.body.items[0]`; a missing or extra property named. */
function fieldOf(error: ErrorObject, args: unknown): string {
  const segments = error.instancePath === '' ? [] : error.instancePath.slice(1).split('/').map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  const params = error.params as { missingProperty?: unknown; additionalProperty?: unknown; propertyName?: unknown };
  if (error.keyword === 'required' || error.keyword === 'dependentRequired') segments.push(String(params.missingProperty));
  if (error.keyword === 'additionalProperties' || error.keyword === 'unevaluatedProperties') segments.push(String(params.additionalProperty ?? params.propertyName));
  let field = 'arguments';
  let value: unknown = args;
  for (const segment of segments) {
    field += Array.isArray(value) ? `[${segment}]` : `.${segment}`;
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[segment] : undefined;
  }
  return field;
}

/** What the rule requires, in words, naming the keyword. */
function ruleText(error: ErrorObject, topLevel: readonly string[]): string {
  const params = error.params as { allowedValues?: unknown; allowedValue?: unknown };
  switch (error.keyword) {
    case 'required':
    case 'dependentRequired':
      return 'is required';
    case 'additionalProperties':
    case 'unevaluatedProperties': {
      const depth = error.instancePath === '' ? 0 : error.instancePath.split('/').length - 1;
      if (depth === 0) return `is not part of this tool's input (it takes ${topLevel.length === 0 ? 'no arguments' : topLevel.join(', ')})`;
      const location = error.instancePath.split('/')[1];
      if (depth === 1 && location !== 'body') return `is not a ${location} parameter of this operation`;
      return `is not allowed here (${error.keyword}: false)`;
    }
    case 'enum':
      return `must be one of ${Array.isArray(params.allowedValues) ? params.allowedValues.map((value) => JSON.stringify(value)).join(', ') : 'the allowed values'} (enum)`;
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)} (const)`;
    default:
      return `${error.message ?? 'is invalid'} (${error.keyword})`;
  }
}
