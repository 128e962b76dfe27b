import { canonicalJson, jsonDigest, sha256Hex } from './digest.ts';
import { referencesIn, resolvePointer } from './json-pointer.ts';

/**
 * OpenAPI drift: what a service's API document says it offers (its operations, each with a digest of its
 * definition), and what changed between two such summaries. Pure: the poller (openapi-poll.ts) fetches the
 * documents, stores the summaries and publishes the drift.
 */

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** Summaries are stored in one DynamoDB item (400 KB): an API with more operations is not summarized. */
export const MAX_OPERATIONS = 2000;
/** Long summaries and operation ids are cut to this: they identify an operation, the digest tracks its content. */
export const MAX_LABEL_LENGTH = 200;
/** `$ref`s followed from one operation; beyond this its digest covers the references' text only. */
const MAX_REFERENCES_PER_OPERATION = 2000;

export interface ApiOperation {
  /** Upper case: GET, POST... */
  readonly method: string;
  readonly path: string;
  readonly operation_id?: string;
  readonly summary?: string;
  /**
   * Digest of the operation's definition: the operation object, its path's shared parameters and servers,
   * and every local `$ref` it reaches (so a change to a shared schema changes each operation using it).
   */
  readonly digest: string;
}

export interface ApiSummary {
  /** `openapi` (3.x) or `swagger` (2.0). */
  readonly format: 'openapi' | 'swagger';
  /** The document's `openapi` or `swagger` field. */
  readonly spec_version: string;
  readonly title?: string;
  /** The document's `info.version`. */
  readonly api_version?: string;
  /** Digest of the whole document (canonical JSON: key order and whitespace do not count). */
  readonly digest: string;
  /** By path, then method. */
  readonly operations: readonly ApiOperation[];
}

/** What the registry keeps of a service's last API document. */
export interface ApiSnapshot extends ApiSummary {
  /** The service. */
  readonly name: string;
  /** The instance the document was read from, and where. */
  readonly instance_id: string;
  readonly source_url: string;
  /** When a document with this digest was first seen. */
  readonly captured_at: string;
}

export interface ChangedOperation {
  readonly method: string;
  readonly path: string;
  readonly operation_id?: string;
  readonly previous_digest: string;
  readonly digest: string;
}

export interface ApiDiff {
  readonly added: readonly ApiOperation[];
  readonly removed: readonly ApiOperation[];
  readonly changed: readonly ChangedOperation[];
}

export type SummaryOutcome = { readonly ok: true; readonly summary: ApiSummary } | { readonly ok: false; readonly reason: string };

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Summarizes an OpenAPI 3.x or Swagger 2.0 document: its operations (method, path, operation id, summary,
 * digest) and the document's digest. Anything else is refused with the reason.
 */
export function summarizeApiDocument(document: unknown): SummaryOutcome {
  if (!isObject(document)) return { ok: false, reason: 'the document is not a JSON object' };
  const openapi = document['openapi'];
  const swagger = document['swagger'];
  let format: ApiSummary['format'];
  let specVersion: string;
  if (typeof openapi === 'string' && /^3\.\d+(\.\d+)?/.test(openapi)) {
    format = 'openapi';
    specVersion = openapi;
  } else if (swagger === '2.0') {
    format = 'swagger';
    specVersion = swagger;
  } else {
    return { ok: false, reason: 'not an OpenAPI 3.x or Swagger 2.0 document (no `openapi: 3.x` or `swagger: "2.0"` field)' };
  }
  const paths = document['paths'] ?? {};
  if (!isObject(paths)) return { ok: false, reason: '`paths` is not an object' };

  const references = new ReferenceIndex(document);
  const operations: ApiOperation[] = [];
  for (const [path, pathItem] of Object.entries(paths)) {
    if (path.startsWith('x-') || !isObject(pathItem)) continue;
    for (const method of HTTP_METHODS) {
      const operation = pathItem[method];
      if (!isObject(operation)) continue;
      if (operations.length >= MAX_OPERATIONS) return { ok: false, reason: `the document has more than ${MAX_OPERATIONS} operations` };
      const definition = { operation, path_parameters: pathItem['parameters'], path_servers: pathItem['servers'] };
      const operationId = label(operation['operationId']);
      const summary = label(operation['summary']);
      operations.push({
        method: method.toUpperCase(),
        path,
        ...(operationId === undefined ? {} : { operation_id: operationId }),
        ...(summary === undefined ? {} : { summary }),
        digest: jsonDigest({ definition, references: references.closureDigests(definition) }),
      });
    }
  }
  operations.sort((a, b) => compare(a.path, b.path) || methodRank(a.method) - methodRank(b.method));
  const info = isObject(document['info']) ? document['info'] : {};
  const title = label(info['title']);
  const apiVersion = label(info['version']);
  return {
    ok: true,
    summary: {
      format,
      spec_version: specVersion,
      ...(title === undefined ? {} : { title }),
      ...(apiVersion === undefined ? {} : { api_version: apiVersion }),
      digest: jsonDigest(document),
      operations,
    },
  };
}

/**
 * The operations added, removed and changed from `previous` to `current`. Operations are matched by method
 * and path, path parameters' names aside (`/users/{id}` and `/users/{user_id}` are one route, whose
 * definition changed).
 */
export function diffApiSummaries(previous: Pick<ApiSummary, 'operations'>, current: Pick<ApiSummary, 'operations'>): ApiDiff {
  const before = byRoute(previous.operations);
  const after = byRoute(current.operations);
  const added: ApiOperation[] = [];
  const changed: ChangedOperation[] = [];
  for (const [route, operation] of after) {
    const old = before.get(route);
    if (old === undefined) added.push(operation);
    else if (old.digest !== operation.digest) {
      changed.push({
        method: operation.method,
        path: operation.path,
        ...(operation.operation_id === undefined ? {} : { operation_id: operation.operation_id }),
        previous_digest: old.digest,
        digest: operation.digest,
      });
    }
  }
  const removed = [...before].filter(([route]) => !after.has(route)).map(([, operation]) => operation);
  return { added, removed, changed };
}

export function isEmptyDiff(diff: ApiDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}

function byRoute(operations: readonly ApiOperation[]): Map<string, ApiOperation> {
  const routes = new Map<string, ApiOperation>();
  for (const operation of operations) {
    const route = `${operation.method} ${operation.path.replace(/\{[^}]*\}/g, '{}')}`;
    if (!routes.has(route)) routes.set(route, operation);
  }
  return routes;
}

function label(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  return value.length > MAX_LABEL_LENGTH ? `${value.slice(0, MAX_LABEL_LENGTH - 1)}…` : value;
}

function methodRank(method: string): number {
  return (HTTP_METHODS as readonly string[]).indexOf(method.toLowerCase());
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The document's local references (`#/components/schemas/Pet`, `#/definitions/Pet`): each target's digest
 * and the references it holds are computed once, so summarizing many operations that share schemas stays
 * linear in the document's size.
 */
class ReferenceIndex {
  private readonly document: JsonObject;
  private readonly targets = new Map<string, { digest: string; references: readonly string[] }>();

  constructor(document: JsonObject) {
    this.document = document;
  }

  /** Every local reference reachable from `value`, with its target's digest, by reference. */
  closureDigests(value: unknown): Record<string, string> {
    const seen = new Map<string, string>();
    const queue = referencesIn(value);
    while (queue.length > 0 && seen.size < MAX_REFERENCES_PER_OPERATION) {
      const reference = queue.shift()!;
      if (seen.has(reference)) continue;
      const target = this.target(reference);
      seen.set(reference, target.digest);
      queue.push(...target.references);
    }
    return Object.fromEntries([...seen].sort(([a], [b]) => compare(a, b)));
  }

  private target(reference: string): { digest: string; references: readonly string[] } {
    let found = this.targets.get(reference);
    if (found === undefined) {
      const value = resolvePointer(this.document, reference);
      found = value === undefined ? { digest: 'unresolved', references: [] } : { digest: sha256Hex(canonicalJson(value)), references: referencesIn(value) };
      this.targets.set(reference, found);
    }
    return found;
  }
}

