import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { createRequire } from 'node:module';
import type { OpenApiDocument } from '../../functions/http/openapi.ts';
import type { JsonSchema } from './fuzz-arbitraries.ts';

/**
 * Judges responses by the OpenAPI document: the status must be one the operation documents (and below 500:
 * in these tests every dependency is up), the body must validate against the documented schema for that
 * status (ajv, JSON Schema 2020-12, as OpenAPI 3.1 says), and the documented headers must be there.
 */

// ajv-formats is CommonJS with `module.exports = plugin`; NodeNext types see only its `default`.
const addFormats = createRequire(import.meta.url)('ajv-formats') as (ajv: Ajv2020) => Ajv2020;

export interface FuzzRequest {
  /** The operation the request targets (its operationId); undefined for router-level requests. */
  readonly operationId?: string;
  readonly method: string;
  /** Encoded, as sent. */
  readonly path: string;
  /** `''` or `?...`, encoded, as sent. */
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** What the generator meant: `valid`, or the mutation (`wrong type at actions.0.config`). */
  readonly kind: string;
}

export interface FuzzResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

interface DocumentedResponse {
  readonly headers?: Record<string, unknown>;
  readonly content?: Record<string, { schema: JsonSchema }>;
}

interface DocumentedOperation {
  readonly operationId: string;
  readonly responses: Record<string, DocumentedResponse>;
}

const COMPONENTS_ID = 'https://orchestrator.test/components.json';

export interface Oracle {
  /** Problems with `response` to `request` (empty: as documented). */
  check(request: FuzzRequest, response: FuzzResponse): string[];
  /** Problems with a response that the router answers for any path: `RouteNotFound`, `MethodNotAllowed`. */
  checkRouter(name: 'RouteNotFound' | 'MethodNotAllowed', response: FuzzResponse): string[];
  /** The documented statuses of an operation. */
  statusesOf(operationId: string): string[];
}

/** `#/components/schemas/X` -> the components document's `#/$defs/X`, throughout a schema. */
function relocate(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(relocate);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) =>
      key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/') ? [key, `${COMPONENTS_ID}#/$defs/${value.slice('#/components/schemas/'.length)}`] : [key, relocate(value)],
    ),
  );
}

export function createOracle(document: OpenApiDocument): Oracle {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, strictTypes: false, allowUnionTypes: true, validateFormats: true });
  addFormats(ajv);
  // zod's z.string().startsWith() is emitted as format `starts_with` beside its pattern: the pattern checks it.
  ajv.addFormat('starts_with', true);
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: relocate(document.components.schemas) as Record<string, unknown> });

  const operations = new Map<string, DocumentedOperation>();
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item) as DocumentedOperation[]) operations.set(operation.operationId, operation);
  }
  const compiled = new Map<DocumentedResponse, ValidateFunction>();
  const validatorOf = (response: DocumentedResponse): ValidateFunction | undefined => {
    const schema = response.content?.['application/json']?.schema;
    if (!schema) return undefined;
    let validate = compiled.get(response);
    if (!validate) compiled.set(response, (validate = ajv.compile(relocate(schema) as object)));
    return validate;
  };

  const judge = (documented: DocumentedResponse, response: FuzzResponse, headOnly: boolean): string[] => {
    const problems: string[] = [];
    for (const header of Object.keys(documented.headers ?? {})) {
      if (!response.headers.has(header)) problems.push(`header ${header} is documented but missing`);
    }
    const validate = validatorOf(documented);
    if (!validate || headOnly) return problems;
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      return [...problems, `the body is not JSON: ${truncate(response.text, 200)}`];
    }
    if (!validate(body)) problems.push(...describeErrors(validate.errors ?? []));
    return problems;
  };

  return {
    check(request, response) {
      const operation = request.operationId === undefined ? undefined : operations.get(request.operationId);
      if (!operation) return [`no documented operation ${request.operationId ?? '(none)'}`];
      // A path that is not valid percent-encoded UTF-8 names no route (no parameter can hold it): the router's 404.
      if (response.status === 404 && !decodes(request.path)) return this.checkRouter('RouteNotFound', response);
      const problems: string[] = [];
      if (response.status >= 500) problems.push(`status ${response.status}: a 5xx while every dependency is up`);
      const documented = operation.responses[String(response.status)];
      if (!documented) return [...problems, `status ${response.status} is not documented for ${operation.operationId} (documented: ${Object.keys(operation.responses).join(', ')})`];
      return [...problems, ...judge(documented, response, request.method === 'HEAD')];
    },
    checkRouter(name, response) {
      const documented = (document.components.responses as Record<string, DocumentedResponse>)[name];
      if (!documented) return [`components.responses.${name} is not documented`];
      return judge(documented, response, false);
    },
    statusesOf(operationId) {
      return Object.keys(operations.get(operationId)?.responses ?? {});
    },
  };
}

function decodes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** ajv's errors, one line each: where in the body, what rule, what it allows. */
function describeErrors(errors: readonly ErrorObject[]): string[] {
  // anyOf/oneOf report every branch; the deepest errors say the most.
  const lines = errors.map((error) => `body${error.instancePath || ''} ${error.message ?? error.keyword}${error.keyword === 'additionalProperties' ? ` '${String((error.params as { additionalProperty?: unknown }).additionalProperty)}'` : ''}${error.keyword === 'enum' ? ` ${JSON.stringify((error.params as { allowedValues?: unknown }).allowedValues)}` : ''} (${error.schemaPath})`);
  return [...new Set(lines)].slice(0, 8);
}

export function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}… (${text.length} chars)`;
}

/** The failure message: the request as sent, what came back, and why it is wrong. */
export function describeFailure(request: FuzzRequest, response: FuzzResponse | undefined, problems: readonly string[], error?: unknown): string {
  const lines = [
    `${request.method} ${request.path}${request.query}  [${request.operationId ?? 'router'}: ${request.kind}]`,
    ...Object.entries(request.headers).map(([name, value]) => `  ${name}: ${truncate(JSON.stringify(value), 120)}`),
    ...(request.body === undefined ? [] : [`  body: ${truncate(request.body, 400)}`]),
    response ? `  -> ${response.status} ${truncate(response.text, 600)}` : `  -> no response: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    ...problems.map((problem) => `  ! ${problem}`),
  ];
  return lines.join('\n');
}
