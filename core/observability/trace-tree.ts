import type { Span } from './spans.ts';

/** A span placed in its trace's tree: 0 for a root, one more than its parent otherwise. */
export type PlacedSpan = Span & { readonly depth: number };

/** Oldest first; spans that started in the same millisecond by span id, so the order never depends on the store's. */
function byStart(a: Span, b: Span): number {
  return Date.parse(a.start) - Date.parse(b.start) || (a.span_id < b.span_id ? -1 : a.span_id > b.span_id ? 1 : 0);
}

/**
 * A trace's spans as a tree, depth first: each span followed by its children, oldest first, roots oldest
 * first too. A root is a span without a parent, or whose parent is not among `spans` (the caller's span, a
 * span the reader may not see, one not recorded yet). Stored spans can be wrong: a span id seen twice is
 * placed once (its oldest), and spans caught in a parent cycle (no root above them) are placed from the
 * oldest of them, as a root, so that every span appears exactly once and the walk always ends.
 */
export function traceTree(spans: readonly Span[]): { readonly roots: readonly string[]; readonly spans: readonly PlacedSpan[] } {
  const byId = new Map<string, Span>();
  for (const span of [...spans].sort(byStart)) if (!byId.has(span.span_id)) byId.set(span.span_id, span);
  const ordered = [...byId.values()];
  const children = new Map<string, Span[]>();
  const roots: Span[] = [];
  for (const span of ordered) {
    const parent = span.parent_span_id;
    if (parent === undefined || parent === span.span_id || !byId.has(parent)) roots.push(span);
    else children.set(parent, [...(children.get(parent) ?? []), span]);
  }

  const placed: PlacedSpan[] = [];
  const visited = new Set<string>();
  const walk = (root: Span): void => {
    // An explicit stack: a chain of a thousand spans must not exhaust the call stack.
    const stack: { span: Span; depth: number }[] = [{ span: root, depth: 0 }];
    while (stack.length > 0) {
      const { span, depth } = stack.pop()!;
      if (visited.has(span.span_id)) continue;
      visited.add(span.span_id);
      placed.push({ ...span, depth });
      const below = children.get(span.span_id) ?? [];
      for (let index = below.length - 1; index >= 0; index--) stack.push({ span: below[index]!, depth: depth + 1 });
    }
  };
  for (const root of roots) walk(root);
  for (const span of ordered) {
    if (visited.has(span.span_id)) continue;
    roots.push(span);
    walk(span);
  }
  return { roots: roots.map((span) => span.span_id), spans: placed };
}
