import { randomUUID } from 'node:crypto';
import type { PayloadRef } from '../../adapters/aws/s3/payload-store.ts';

export type { PayloadRef } from '../../adapters/aws/s3/payload-store.ts';

/**
 * Service responses too large for Step Functions state data (256 KiB per state, shared by every result a run
 * keeps) are stored outside it and passed by reference; the action runner puts the values back before the next
 * call. See docs/adr/0005-large-results.md.
 */

/** Where values are stored (adapters/aws/s3/payload-store.ts: S3 in AWS, the emulator's S3 locally). */
export interface PayloadStore {
  put(key: string, value: unknown, options?: { signal?: AbortSignal }): Promise<PayloadRef>;
  /** The key a reference names in this store; undefined when it names another bucket. */
  keyOf(ref: Pick<PayloadRef, 'payload_ref'>): string | undefined;
  get(ref: Pick<PayloadRef, 'payload_ref'>, options?: { signal?: AbortSignal; maxBytes?: number }): Promise<{ value: unknown; size_bytes: number }>;
}

/** A reference is exactly these three fields, so that a service's own data is never mistaken for one. */
export function isPayloadRef(value: unknown): value is PayloadRef {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const ref = value as Record<string, unknown>;
  return (
    keys.length === 3 &&
    typeof ref.payload_ref === 'string' &&
    ref.payload_ref.startsWith('s3://') &&
    typeof ref.size_bytes === 'number' &&
    typeof ref.preview === 'string'
  );
}

/** A failure to store or fetch a payload; `retryable` when the store could not answer (not when refused). */
export class PayloadReferenceError extends Error {
  override readonly name = 'PayloadReferenceError';
  readonly retryable: boolean;

  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.retryable = retryable;
  }
}

/**
 * `payloads/<trace_id>/`: every payload of one trace (a run, and the sub-workflows it starts, which share its
 * trace id) lives under it, and a call dereferences nothing else.
 */
export function tracePrefix(traceId: string): string {
  return `payloads/${keySegment(traceId)}/`;
}

/** `payloads/<trace_id>/<execution_id>/<action_id>[/<item_index>]/`: where one call's payloads go. */
export function callPrefix(traceId: string, executionId: string, actionId: string, itemIndex: number | undefined): string {
  return `${tracePrefix(traceId)}${keySegment(executionId)}/${keySegment(actionId)}/${itemIndex === undefined ? '' : `${itemIndex}/`}`;
}

/** Ids come from the compiled payload; whatever they hold, each stays one key segment. */
function keySegment(text: string): string {
  const safe = text.replace(/[^A-Za-z0-9._=-]/g, '_');
  return safe === '' || /^\.+$/.test(safe) ? '_' : safe;
}

// --- externalizing a result ------------------------------------------------------------------------------

/**
 * Room a reference takes in the result, for planning: its JSON is `{"payload_ref":…,"size_bytes":…,"preview":…}`
 * with a URI of about 200 characters and a 256-character preview (escaping can double it).
 */
const REF_BYTES = 800;

export interface ExternalizeOptions {
  readonly store: PayloadStore;
  /** The result's JSON must fit in this many bytes. */
  readonly inlineBytes: number;
  /** Where this call's payloads go (callPrefix). */
  readonly keyPrefix: string;
  /** More references than this and the whole response becomes one. */
  readonly maxRefs: number;
  readonly signal?: AbortSignal;
}

/** Bytes of a value's JSON (UTF-8). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? 'null', 'utf8');
}

/**
 * A result whose JSON fits in `inlineBytes`, or the result as it is when it already does. Parts of `response`
 * are stored and replaced by references, largest first and as deep as one value covers what must go, so that
 * `{ content: <600 KB>, title }` becomes `{ content: <ref>, title }` and templates reading `response.title` or
 * `response.content` still resolve. When that would take more than `maxRefs` references, the whole response
 * becomes one. The headers stay (the compiled ResultSelector drops them; they only count toward the task's
 * own result).
 */
export async function externalizeResult<T extends { readonly response: unknown }>(result: T, options: ExternalizeOptions): Promise<T> {
  const total = jsonBytes(result);
  if (total <= options.inlineBytes) return result;
  const root = measure(result.response, undefined, undefined);
  // A response smaller than a reference (the headers are what is large) gains nothing from being stored.
  if (root.size <= REF_BYTES) return result;
  const chosen = plan(root, total - options.inlineBytes, options.maxRefs);
  let response = await replaceNodes(result.response, chosen, options);
  let externalized = { ...result, response };
  if (chosen[0] !== root && jsonBytes(externalized) > options.inlineBytes) {
    // The plan's estimate of a reference's size was short (long keys, a preview full of escapes): one reference.
    response = await replaceNodes(result.response, [root], options);
    externalized = { ...result, response };
  }
  return externalized;
}

/** A value of the response with the size of its JSON, its parent and the key it has there. */
interface SizedNode {
  size: number;
  readonly parent: SizedNode | undefined;
  readonly key: string | number | undefined;
  children: SizedNode[];
  replaced: boolean;
}

function measure(value: unknown, parent: SizedNode | undefined, key: string | number | undefined): SizedNode {
  const node: SizedNode = { size: 0, parent, key, children: [], replaced: false };
  if (Array.isArray(value)) {
    node.children = value.map((item, index) => measure(item, node, index));
    node.size = 2 + Math.max(0, node.children.length - 1) + node.children.reduce((sum, child) => sum + child.size, 0);
  } else if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, item]) => item !== undefined);
    node.children = entries.map(([name, item]) => measure(item, node, name));
    node.size = 2 + Math.max(0, entries.length - 1) + entries.reduce((sum, [name], index) => sum + jsonBytes(name) + 1 + node.children[index]!.size, 0);
  } else {
    node.size = jsonBytes(value);
  }
  return node;
}

/** The nodes to store, so that `excess` bytes go; `[root]` when the whole response must. */
function plan(root: SizedNode, excess: number, maxRefs: number): SizedNode[] {
  const chosen: SizedNode[] = [];
  let remaining = excess;
  while (remaining > 0) {
    if (chosen.length >= maxRefs) return [root];
    const node = pick(root, remaining, maxRefs - chosen.length);
    if (node === root) return [root];
    const saving = node.size - REF_BYTES;
    for (let ancestor = node.parent; ancestor; ancestor = ancestor.parent) ancestor.size -= saving;
    node.size = REF_BYTES;
    node.children = [];
    node.replaced = true;
    // A container stored whole takes the references chosen inside it along.
    for (let index = chosen.length - 1; index >= 0; index--) if (isInside(chosen[index]!, node)) chosen.splice(index, 1);
    chosen.push(node);
    remaining -= saving;
  }
  return chosen;
}

/**
 * Which value to store next: descend into the largest child while it alone covers `excess` (so the most
 * structure stays inline); when no child alone does, the largest one if the `refsLeft` largest together do,
 * otherwise the container itself.
 */
function pick(node: SizedNode, excess: number, refsLeft: number): SizedNode {
  const children = node.children.filter((child) => !child.replaced && child.size > REF_BYTES).sort((a, b) => b.size - a.size);
  const largest = children[0];
  if (largest === undefined) return node;
  if (largest.size - REF_BYTES >= excess) return largest.children.length > 0 ? pick(largest, excess, refsLeft) : largest;
  const together = children.slice(0, refsLeft).reduce((sum, child) => sum + child.size - REF_BYTES, 0);
  return together >= excess ? largest : node;
}

function isInside(node: SizedNode, container: SizedNode): boolean {
  for (let ancestor = node.parent; ancestor; ancestor = ancestor.parent) if (ancestor === container) return true;
  return false;
}

function pathOf(node: SizedNode): (string | number)[] {
  const path: (string | number)[] = [];
  for (let current: SizedNode | undefined = node; current?.key !== undefined; current = current.parent) path.unshift(current.key);
  return path;
}

/** `response` with each chosen node's value stored and replaced by its reference (the original is not changed). */
async function replaceNodes(response: unknown, nodes: readonly SizedNode[], options: ExternalizeOptions): Promise<unknown> {
  const paths = nodes.map(pathOf);
  const refs = await Promise.all(
    paths.map(async (path) => {
      const value = path.reduce<unknown>((current, key) => (current as Record<string | number, unknown>)[key], response);
      try {
        return await options.store.put(`${options.keyPrefix}${randomUUID()}.json`, value, { signal: options.signal });
      } catch (error) {
        if (options.signal?.aborted) throw error;
        throw new PayloadReferenceError(`could not store a response too large for state data: ${describe(error)}`, true, { cause: error });
      }
    }),
  );
  if (paths.some((path) => path.length === 0)) return refs[paths.findIndex((path) => path.length === 0)];
  const copy = structuredClone(response) as Record<string | number, unknown>;
  paths.forEach((path, index) => {
    const parent = path.slice(0, -1).reduce<Record<string | number, unknown>>((current, key) => current[key] as Record<string | number, unknown>, copy);
    parent[path[path.length - 1]!] = refs[index];
  });
  return copy;
}

// --- dereferencing parameters ----------------------------------------------------------------------------

export interface DereferenceOptions {
  readonly store: PayloadStore;
  /** Only references under this key prefix are fetched (tracePrefix of the call's own trace); undefined: none. */
  readonly allowedPrefix: string | undefined;
  /** The stored values fetched for one call may not add up to more than this. */
  readonly maxBytes: number;
  readonly signal?: AbortSignal;
}

/** How deep parameters are searched for references; deeper values are sent as they are. */
const MAX_DEPTH = 64;

/**
 * `parameters` with every value that is exactly a payload reference replaced by the stored value, at any depth,
 * so that the service receives the content itself. Refuses (PayloadReferenceError, not retryable) a reference
 * to another bucket or outside `allowedPrefix` (another run's data), one whose object is gone, and more than
 * `maxBytes` in all; a store that cannot answer gives a retryable one. Returns the same object when there is
 * no reference.
 */
export async function dereferenceParameters<T>(parameters: T, options: DereferenceOptions): Promise<T> {
  const refs = new Map<string, { ref: PayloadRef; where: string }>();
  collectRefs(parameters, 'parameters', 0, refs);
  if (refs.size === 0) return parameters;

  const values = new Map<string, unknown>();
  let budget = options.maxBytes;
  // One at a time: the byte budget then holds before anything over it is read.
  for (const [uri, { ref, where }] of refs) {
    const key = options.store.keyOf(ref);
    const allowed = options.allowedPrefix;
    if (allowed === undefined) throw new PayloadReferenceError(`${where} refers to ${uri}, but the call has no trace id, so no payload is its own: refused`, false);
    if (key === undefined || !key.startsWith(allowed) || key.split('/').some((segment) => segment === '..' || segment === '.')) {
      throw new PayloadReferenceError(`${where} refers to ${uri}, which is not a payload of this execution's trace (${allowed} in the payload bucket): refused`, false);
    }
    try {
      const { value, size_bytes } = await options.store.get(ref, { signal: options.signal, maxBytes: budget });
      budget -= size_bytes;
      values.set(uri, value);
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const name = error instanceof Error ? error.name : '';
      if (name === 'PayloadTooLargeError') {
        throw new PayloadReferenceError(`${where}: the payloads the parameters refer to hold more than the ${options.maxBytes} bytes one call may send (${describe(error)})`, false, { cause: error });
      }
      if (name === 'NotFoundError') throw new PayloadReferenceError(`${where}: ${describe(error)}`, false, { cause: error });
      throw new PayloadReferenceError(`${where}: could not read ${uri}: ${describe(error)}`, true, { cause: error });
    }
  }
  return substitute(parameters, values, 0) as T;
}

function collectRefs(value: unknown, where: string, depth: number, refs: Map<string, { ref: PayloadRef; where: string }>): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
  if (isPayloadRef(value)) {
    if (!refs.has(value.payload_ref)) refs.set(value.payload_ref, { ref: value, where });
    return;
  }
  if (Array.isArray(value)) value.forEach((item, index) => collectRefs(item, `${where}[${index}]`, depth + 1, refs));
  else for (const [name, item] of Object.entries(value)) collectRefs(item, `${where}.${name}`, depth + 1, refs);
}

function substitute(value: unknown, values: ReadonlyMap<string, unknown>, depth: number): unknown {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  if (isPayloadRef(value)) return values.has(value.payload_ref) ? values.get(value.payload_ref) : value;
  if (Array.isArray(value)) return value.map((item) => substitute(item, values, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, substitute(item, values, depth + 1)]));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
