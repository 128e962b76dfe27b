import type { ParameterType } from '../core/workflow/definition.ts';
import { deferredValueKey, templateRefs, type DeferredValue } from '../core/execution/deferred-values.ts';
import { isSingleReference, parseTemplateString, type PathSegment, type TemplateRef } from '../core/workflow/templates.ts';

/**
 * `{{templates}}` to JSONPath ASL. State data has one shape everywhere:
 *   { params: {...}, results: { <action_id>: { outcome, status_code?, response? } }, item?, index? }
 * A value that is exactly one reference becomes a path and keeps the referenced value's type; text around
 * references becomes `States.Format`; arrays holding references are rebuilt with `States.StringToJson`.
 */

export interface PathScope {
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly parameterTypes: ReadonlyMap<string, ParameterType>;
  /** Inside a foreach's inner action, where `{{item}}` and `{{index}}` are the current element. */
  readonly loopVariables?: boolean;
  /**
   * Actions whose outputs this action reads from its dependency gate's release (`$.released`) rather than
   * from `$.results`: they ran in another branch (gates.ts).
   */
  readonly released?: ReadonlySet<string>;
  /** Where the run's id and start time are read: the execution's own, unless this is a child machine's (split.ts). */
  readonly run?: RunReferences;
}

export interface RunReferences {
  readonly executionId: string;
  readonly startedAt: string;
}

/** A single machine's run is its own execution. */
export const OWN_EXECUTION: RunReferences = { executionId: '$$.Execution.Name', startedAt: '$$.Execution.StartTime' };

/** The path of the run's id, for the `execution_id` every call and event carries. */
export function executionIdPath(scope: PathScope): string {
  return (scope.run ?? OWN_EXECUTION).executionId;
}

/** Where an action's recorded result is in state data, for an action of `scope`. */
export function resultLocation(actionId: string, scope: PathScope): string {
  return jsonPath(scope.released?.has(actionId) ? '$.released' : '$.results', [actionId]);
}

/** A compiled value: a constant, or a path / intrinsic evaluated when the state runs. */
export type CompiledValue = { readonly literal: unknown } | { readonly path: string };

export function jsonPath(base: string, segments: readonly PathSegment[]): string {
  return segments.reduce<string>((path, segment) => {
    if (typeof segment === 'number') return `${path}[${segment}]`;
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(segment) ? `${path}.${segment}` : `${path}['${segment}']`;
  }, base);
}

/** Where a reference's value lives in state data (or the constant it stands for). */
export function resolveReference(ref: TemplateRef, scope: PathScope): CompiledValue {
  if (scope.loopVariables && (ref.root === 'item' || ref.root === 'index')) return { path: jsonPath(`$.${ref.root}`, ref.path) };
  if (ref.root === 'execution') {
    switch (ref.path[0]) {
      case 'id':
        return { path: executionIdPath(scope) };
      case 'started_at':
        return { path: (scope.run ?? OWN_EXECUTION).startedAt };
      case 'workflow_id':
        return { literal: scope.workflowId };
      case 'workflow_version':
        return { literal: scope.workflowVersion };
    }
    throw new Error(`unknown execution field in ${ref.raw}`);
  }
  if (scope.parameterTypes.has(ref.root)) return { path: jsonPath('$.params', [ref.root, ...ref.path]) };
  return { path: jsonPath(resultLocation(ref.root, scope), ref.path) };
}

/** Action ids whose outputs a value reads. */
export function referencedActions(value: unknown, scope: PathScope): Set<string> {
  const found = new Set<string>();
  visitStrings(value, (text) => {
    for (const ref of parseTemplateString(text, '').refs) {
      const inLoop = scope.loopVariables && (ref.root === 'item' || ref.root === 'index');
      if (!inLoop && ref.root !== 'execution' && !scope.parameterTypes.has(ref.root)) found.add(ref.root);
    }
  });
  return found;
}

export function compileValue(value: unknown, scope: PathScope): CompiledValue {
  if (typeof value === 'string') return compileString(value, scope);
  if (Array.isArray(value)) return compileArray(value, scope);
  if (value !== null && typeof value === 'object') return { literal: payloadTemplate(value as Record<string, unknown>, scope) };
  return { literal: value };
}

/**
 * An object as an ASL payload template: `"key.$": path` for computed fields, `"key": value` for constants.
 * Keys that end in `.$` in user data would be read as paths, so validation refuses them (validate.ts).
 */
export function payloadTemplate(object: Readonly<Record<string, unknown>>, scope: PathScope): Record<string, unknown> {
  const template: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (value === undefined) continue;
    const compiled = compileValue(value, scope);
    if ('path' in compiled) template[`${key}.$`] = compiled.path;
    else template[key] = compiled.literal;
  }
  return template;
}

/**
 * A gated call's request as a payload template (ADR 0016; core/execution/deferred-values.ts): a value that
 * reads a released producer's output stays its template, with what Step Functions can resolve beside it, for
 * the runner to render once the gate is released; `deferred` says where those values are. Every other value
 * compiles as payloadTemplate compiles it.
 */
export function deferredPayloadTemplate(object: Readonly<Record<string, unknown>>, scope: PathScope): { readonly template: Record<string, unknown>; readonly deferred: string[][] } {
  const deferred: string[][] = [];
  const walk = (fields: Readonly<Record<string, unknown>>, at: readonly string[]): Record<string, unknown> => {
    const template: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      if (!readsReleased(value, scope)) {
        const compiled = compileValue(value, scope);
        if ('path' in compiled) template[`${key}.$`] = compiled.path;
        else template[key] = compiled.literal;
      } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        template[key] = walk(value as Record<string, unknown>, [...at, key]);
      } else {
        template[key] = deferredValue(value, scope);
        deferred.push([...at, key]);
      }
    }
    return template;
  };
  return { template: walk(object, []), deferred };
}

/** Whether a value reads the output of a producer that reaches its action with the gate's release. */
export function readsReleased(value: unknown, scope: PathScope): boolean {
  return templateRefs(value).some((ref) => isReleased(ref, scope));
}

function isReleased(ref: TemplateRef, scope: PathScope): boolean {
  if (scope.loopVariables && (ref.root === 'item' || ref.root === 'index')) return false;
  return ref.root !== 'execution' && !scope.parameterTypes.has(ref.root) && scope.released?.has(ref.root) === true;
}

/** A value left as its template, with each reference Step Functions can resolve in `values` (as a path, or a constant). */
function deferredValue(value: unknown, scope: PathScope): DeferredValue {
  const values: Record<string, unknown> = {};
  templateRefs(value).forEach((ref, index) => {
    if (isReleased(ref, scope)) return;
    const resolved = resolveReference(ref, scope);
    if ('path' in resolved) values[`${deferredValueKey(index)}.$`] = resolved.path;
    else values[deferredValueKey(index)] = resolved.literal;
  });
  return { template: value, values };
}

function compileString(text: string, scope: PathScope): CompiledValue {
  const { refs } = parseTemplateString(text, '');
  if (refs.length === 0) return { literal: text };
  if (isSingleReference(text)) return resolveReference(refs[0]!, scope);
  return { path: formatCall(text, scope) };
}

/** `Hello {{name}}!` -> `States.Format('Hello {}!', $.params.name)`. */
function formatCall(text: string, scope: PathScope): string {
  const pieces: string[] = [];
  const args: string[] = [];
  let last = 0;
  for (const match of text.matchAll(/\{\{([^{}]*)\}\}/g)) {
    const ref = parseTemplateString(match[0], '').refs[0];
    pieces.push(escapeIntrinsicText(text.slice(last, match.index)));
    last = match.index + match[0].length;
    if (!ref) {
      pieces.push(escapeIntrinsicText(match[0]));
      continue;
    }
    const resolved = resolveReference(ref, scope);
    if ('literal' in resolved) {
      pieces.push(escapeIntrinsicText(String(resolved.literal)));
      continue;
    }
    pieces.push('{}');
    // States.Format takes strings, numbers, booleans and null; objects and arrays must be serialised first.
    const declared = scope.parameterTypes.get(ref.root);
    const structured = declared !== undefined && ref.path.length === 0 && (declared === 'object' || declared === 'array');
    args.push(structured ? `States.JsonToString(${resolved.path})` : resolved.path);
  }
  pieces.push(escapeIntrinsicText(text.slice(last)));
  return args.length === 0 ? `States.Format('${pieces.join('')}')` : `States.Format('${pieces.join('')}', ${args.join(', ')})`;
}

/**
 * A service_call endpoint as the action runner's `endpoint` and `endpoint_values`: ASL has no URL-encoding
 * intrinsic, so a templated segment is not rendered here (`/items/{{p}}` with `../../admin` would climb out of
 * the service's base path) but left as `{}` with its value beside it, by position, for the runner to
 * percent-encode (functions/workers/service-url.ts). Literal text keeps its meaning: `{` and `}` in it become
 * `%7B` and `%7D`, as the URL parser would write them. Compile-time constants are encoded here. An endpoint
 * without references stays as it is.
 */
export function compileEndpoint(text: string, scope: PathScope): { readonly endpoint: string; readonly values?: Record<string, string> } {
  if (parseTemplateString(text, '').refs.length === 0) return { endpoint: text };
  const literal = (piece: string) => piece.replace(/[{}]/g, (brace) => (brace === '{' ? '%7B' : '%7D'));
  let endpoint = '';
  const values: Record<string, string> = {};
  let last = 0;
  for (const match of text.matchAll(/\{\{([^{}]*)\}\}/g)) {
    endpoint += literal(text.slice(last, match.index));
    last = match.index + match[0].length;
    const ref = parseTemplateString(match[0], '').refs[0];
    const resolved = ref ? resolveReference(ref, scope) : undefined;
    if (!resolved) endpoint += literal(match[0]);
    else if ('literal' in resolved) endpoint += encodeURIComponent(String(resolved.literal));
    else {
      values[`${Object.keys(values).length}.$`] = resolved.path;
      endpoint += '{}';
    }
  }
  endpoint += literal(text.slice(last));
  return Object.keys(values).length === 0 ? { endpoint } : { endpoint, values };
}

/**
 * Payload templates cannot hold paths inside arrays, so an array with references is rebuilt from JSON text:
 * `States.StringToJson(States.Format('[{}, "b"]', States.JsonToString($.params.a)))` keeps every type.
 */
function compileArray(items: readonly unknown[], scope: PathScope): CompiledValue {
  let hasReference = false;
  visitStrings(items, (text) => {
    if (parseTemplateString(text, '').refs.length > 0) hasReference = true;
  });
  if (!hasReference) return { literal: items };
  const args: string[] = [];
  // Literal JSON text is escaped as it is produced, so only real placeholders stay as `{}`.
  const literal = (json: string) => escapeIntrinsicText(json);
  const render = (value: unknown): string => {
    if (typeof value === 'string' && parseTemplateString(value, '').refs.length > 0) {
      const compiled = compileString(value, scope);
      if ('literal' in compiled) return literal(JSON.stringify(compiled.literal));
      args.push(`States.JsonToString(${compiled.path})`);
      return '{}';
    }
    if (Array.isArray(value)) return `${literal('[')}${value.map(render).join(literal(','))}${literal(']')}`;
    if (value !== null && typeof value === 'object') {
      const fields = Object.entries(value).map(([key, child]) => `${literal(`${JSON.stringify(key)}:`)}${render(child)}`);
      return `${literal('{')}${fields.join(literal(','))}${literal('}')}`;
    }
    return literal(JSON.stringify(value));
  };
  const template = render(items);
  // Only compile-time constants (workflow id, version): the array is a constant too.
  if (args.length === 0) return { literal: items.map((item) => constantValue(item, scope)) };
  return { path: `States.StringToJson(States.Format('${template}', ${args.join(', ')}))` };
}

/** Intrinsic string literals escape `'`, `{`, `}` and `\` with a backslash. */
export function escapeIntrinsicText(text: string): string {
  return text.replace(/[\\'{}]/g, (character) => `\\${character}`);
}

/** A value whose templates all resolve to constants, with them substituted. */
function constantValue(value: unknown, scope: PathScope): unknown {
  if (typeof value === 'string') {
    const compiled = compileString(value, scope);
    return 'literal' in compiled ? compiled.literal : value;
  }
  if (Array.isArray(value)) return value.map((item) => constantValue(item, scope));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, constantValue(item, scope)]));
  return value;
}

function visitStrings(value: unknown, visit: (text: string) => void): void {
  if (typeof value === 'string') visit(value);
  else if (Array.isArray(value)) value.forEach((item) => visitStrings(item, visit));
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((item) => visitStrings(item, visit));
}
