import { EXECUTION_NAME, EXECUTION_START, WORKFLOW_ID, WORKFLOW_VERSION, type Json, type JsonObject } from './harness.ts';

/**
 * An independent model of what `{{templates}}` render to, written from the workflow format's rules rather than
 * from the compiler: a value that is exactly one reference (surrounding whitespace aside) is the referenced value
 * with its type; text around references is a string, with objects and arrays as JSON text; arrays and objects are
 * rendered element by element.
 */

export interface RenderContext {
  readonly params: JsonObject;
  /** Results of actions so far: `{ status_code, response }` by action id. */
  readonly results: ReadonlyMap<string, { readonly status_code: Json; readonly response: Json }>;
  /** Inside a foreach: the current item and index. */
  readonly loop?: { readonly item: Json; readonly index: number };
}

const TEMPLATE = /\{\{([^{}]*)\}\}/g;

export function parseExpression(expression: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const part of expression.trim().split('.')) {
    const match = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!match) throw new Error(`not a path: ${expression}`);
    segments.push(/^\d+$/.test(match[1]!) ? Number(match[1]) : match[1]!);
    for (const index of match[2]!.matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  return segments;
}

export function lookup(expression: string, context: RenderContext): Json {
  const [root, ...path] = parseExpression(expression);
  let value: Json;
  if (context.loop && (root === 'item' || root === 'index')) {
    value = root === 'item' ? context.loop.item : context.loop.index;
  } else if (root === 'execution') {
    const field = path.shift();
    value = field === 'id' ? EXECUTION_NAME : field === 'started_at' ? EXECUTION_START : field === 'workflow_id' ? WORKFLOW_ID : WORKFLOW_VERSION;
  } else if (typeof root === 'string' && Object.hasOwn(context.params, root)) {
    value = context.params[root]!;
  } else {
    const result = context.results.get(String(root));
    if (!result) throw new Error(`no result for ${String(root)}`);
    value = result as unknown as Json;
  }
  for (const segment of path) {
    if (value === null || typeof value !== 'object') throw new Error(`${expression}: cannot read ${segment} of ${JSON.stringify(value)}`);
    value = Array.isArray(value) ? value[segment as number]! : (value as JsonObject)[String(segment)]!;
    if (value === undefined) throw new Error(`${expression}: ${segment} is missing`);
  }
  return value;
}

function asText(value: Json): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  return JSON.stringify(value);
}

export function render(value: unknown, context: RenderContext): Json {
  if (typeof value === 'string') {
    const matches = [...value.matchAll(TEMPLATE)];
    if (matches.length === 0) return value;
    if (matches.length === 1 && matches[0]![0] === value.trim()) return lookup(matches[0]![1]!, context);
    return value.replace(TEMPLATE, (_whole, expression: string) => asText(lookup(expression, context)));
  }
  if (Array.isArray(value)) return value.map((item) => render(item, context));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, render(item, context)]));
  return value as Json;
}

/** Action ids a value refers to (roots that are neither parameters nor execution/loop variables). */
export function referencedIds(value: unknown, parameterNames: ReadonlySet<string>, loop = false): Set<string> {
  const ids = new Set<string>();
  const visit = (node: unknown) => {
    if (typeof node === 'string') {
      for (const match of node.matchAll(TEMPLATE)) {
        const root = String(parseExpression(match[1]!)[0]);
        if (root === 'execution' || parameterNames.has(root) || (loop && (root === 'item' || root === 'index'))) continue;
        ids.add(root);
      }
    } else if (Array.isArray(node)) node.forEach(visit);
    else if (node !== null && typeof node === 'object') Object.values(node).forEach(visit);
  };
  visit(value);
  return ids;
}

export interface ComparisonInput {
  readonly ref: string;
  readonly equals?: Json;
  readonly not_equals?: Json;
  readonly greater_than?: Json;
  readonly greater_than_or_equal?: Json;
  readonly less_than?: Json;
  readonly less_than_or_equal?: Json;
  readonly is_present?: boolean;
  readonly is_null?: boolean;
}

export type ConditionInput = { readonly all: readonly ConditionInput[] } | { readonly any: readonly ConditionInput[] } | { readonly not: ConditionInput } | ComparisonInput;

/** The condition language's meaning: comparisons of the referenced value, combined with all / any / not. */
export function evaluate(condition: ConditionInput, context: RenderContext): boolean {
  if ('all' in condition) return condition.all.every((rule) => evaluate(rule, context));
  if ('any' in condition) return condition.any.some((rule) => evaluate(rule, context));
  if ('not' in condition) return !evaluate(condition.not, context);
  const expression = /^\s*\{\{([^{}]+)\}\}\s*$/.exec(condition.ref)![1]!;
  let present = true;
  let value: Json = null;
  try {
    value = lookup(expression, context);
  } catch {
    present = false;
  }
  const [operator, expected] = Object.entries(condition).find(([key, value]) => key !== 'ref' && value !== undefined)! as [string, Json];
  switch (operator) {
    case 'is_present':
      return present === expected;
    case 'is_null':
      return (value === null) === expected;
    case 'equals':
      return value === expected;
    case 'not_equals':
      return value !== expected;
    case 'greater_than':
      return typeof value === typeof expected && (value as number) > (expected as number);
    case 'greater_than_or_equal':
      return typeof value === typeof expected && (value as number) >= (expected as number);
    case 'less_than':
      return typeof value === typeof expected && (value as number) < (expected as number);
    case 'less_than_or_equal':
      return typeof value === typeof expected && (value as number) <= (expected as number);
  }
  throw new Error(`unknown operator ${operator}`);
}
