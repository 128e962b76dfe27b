/**
 * Local JSON references in API documents (`$ref: '#/components/schemas/Pet'`): the drift summaries digest what an
 * operation reaches through them, and the tool listing (core/ai/openapi-schema.ts) inlines them.
 */

type JsonObject = Record<string, unknown>;

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Local `$ref` values within `value` (external references are not followed). */
export function referencesIn(value: unknown): string[] {
  const found: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (Array.isArray(item)) stack.push(...item);
    else if (isObject(item)) {
      const reference = item['$ref'];
      if (typeof reference === 'string' && reference.startsWith('#')) found.push(reference);
      stack.push(...Object.values(item));
    }
  }
  return found;
}

/** RFC 6901 pointer in a URI fragment (`#/components/schemas/a~1b`), or undefined when it leads nowhere. */
export function resolvePointer(document: JsonObject, reference: string): unknown {
  let pointer: string;
  try {
    pointer = decodeURIComponent(reference.slice(1));
  } catch {
    return undefined;
  }
  if (pointer === '') return document;
  if (!pointer.startsWith('/')) return undefined;
  let current: unknown = document;
  for (const token of pointer.slice(1).split('/')) {
    const key = token.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) current = /^\d+$/.test(key) ? current[Number(key)] : undefined;
    else if (isObject(current) && Object.hasOwn(current, key)) current = current[key];
    else return undefined;
  }
  return current;
}
