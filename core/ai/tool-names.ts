import { TOOL_NAME_LIMIT } from './workflow-tools.ts';

/**
 * Names of service operations' tools: `<service>.<operationId>` or `<service>.<method>_<path>`, in MCP's
 * characters and length. Names must stay the same from one listing to the next (an agent keeps them), so a
 * name that has to change to be unique or short enough takes a digest of what it stands for, never a counter
 * that depends on the other operations.
 */

const UNSAFE = /[^A-Za-z0-9_.-]+/g;
const SUFFIX_LENGTH = 9; // `_` and 8 hex digits

/** FNV-1a, 32 bits, in hex: short, stable, and written out because core/ imports no hashing module. */
export function shortDigest(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** Only MCP's characters, runs of others as one `_`, no separator at either end; `fallback` when nothing is left. */
export function safeSegment(text: string, fallback: string): string {
  const segment = text.replace(UNSAFE, '_').replace(/_+/g, '_').replace(/^[_.-]+|[_.-]+$/g, '');
  return segment === '' ? fallback : segment;
}

/** `GET /pets/{petId}/photos` -> `get_pets_petId_photos`; `GET /` -> `get_root`. Case is kept: it is the API's. */
export function methodPathSegment(method: string, path: string): string {
  return `${method.toLowerCase()}_${safeSegment(path, 'root')}`;
}

/** `name` within the length limit: cut, with a digest of the whole name so that two long names stay apart. */
export function withinLimit(name: string): string {
  if (name.length <= TOOL_NAME_LIMIT) return name;
  return `${name.slice(0, TOOL_NAME_LIMIT - SUFFIX_LENGTH)}_${shortDigest(name)}`;
}

/** `name` told apart by a digest of `identity` (what the tool stands for), within the length limit. */
export function distinguished(name: string, identity: string): string {
  const suffix = `_${shortDigest(identity)}`;
  return `${name.slice(0, TOOL_NAME_LIMIT - suffix.length)}${suffix}`;
}

/**
 * Names made unique: every name that several items share is distinguished by each item's identity (all of
 * them, not all but the first, so that a name does not depend on which one a document lists first). Should two
 * identities' digests collide too, a counter settles it.
 */
export function uniqueNames<T>(items: readonly T[], name: (item: T) => string, identity: (item: T) => string, taken: ReadonlySet<string> = new Set()): string[] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(name(item), (counts.get(name(item)) ?? 0) + 1);
  const used = new Set(taken);
  return items.map((item) => {
    const base = name(item);
    let candidate = (counts.get(base) ?? 0) > 1 || used.has(base) ? distinguished(base, identity(item)) : base;
    for (let extra = 2; used.has(candidate); extra++) candidate = distinguished(base, `${identity(item)}#${extra}`);
    used.add(candidate);
    return candidate;
  });
}
