import { isSingleReference, parseTemplateString, type TemplateRef } from '../workflow/templates.ts';

/**
 * Request values of a gated call that read outputs of producers which ran in other branches (ADR 0016). A
 * `<W>: gate` state would put those outputs in state data (`$.released`) before the call; a gated call has no
 * such state, so those values are rendered once its gate is released, from the release's outputs.
 *
 * The compiler leaves each such value as its template (`template`, the value as written in the workflow) with
 * every reference Step Functions can resolve when the state is entered (parameters, execution fields, results
 * in state data) resolved into `values`, by position: the i-th reference of the template is `values.r<i>`
 * when Step Functions resolved it, or a released producer's output otherwise. `gate_wait.deferred` lists where
 * in the call they are, so nothing else of the request is read as a template.
 */
export interface DeferredValue {
  readonly template: unknown;
  readonly values: Readonly<Record<string, unknown>>;
}

/** A deferred value's reference that the release cannot resolve: the action fails with this (its Catch applies). */
export class TemplateValueError extends Error {
  override readonly name = 'TemplateValueError';
}

/** The key of a template's `index`-th reference in `values`. */
export function deferredValueKey(index: number): string {
  return `r${index}`;
}

/** Every reference of a template value, in the order it is rendered: strings in arrays by index, in objects by key order. */
export function templateRefs(value: unknown): TemplateRef[] {
  if (typeof value === 'string') return parseTemplateString(value, '').refs;
  if (Array.isArray(value)) return value.flatMap(templateRefs);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(templateRefs);
  return [];
}

/**
 * The call with each deferred value rendered: a value that is exactly one reference keeps the referenced
 * value's type; text around references is rendered as States.Format renders it (strings as they are, other
 * values as JSON).
 */
export function renderDeferredValues(call: Readonly<Record<string, unknown>>, at: readonly (readonly string[])[], outputs: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const rendered = structuredClone(call) as Record<string, unknown>;
  for (const pointer of at) {
    const key = pointer.at(-1);
    let parent: unknown = rendered;
    for (const segment of pointer.slice(0, -1)) parent = isObject(parent) ? parent[segment] : undefined;
    if (key === undefined || !isObject(parent) || !isDeferredValue(parent[key])) throw new TemplateValueError(`the gated call has no deferred value at ${pointer.join('.')}`);
    parent[key] = renderValue(parent[key], outputs);
  }
  return rendered;
}

function renderValue(deferred: DeferredValue, outputs: Readonly<Record<string, unknown>>): unknown {
  let next = 0;
  const valueOf = (ref: TemplateRef): unknown => {
    const key = deferredValueKey(next++);
    if (Object.hasOwn(deferred.values, key)) return deferred.values[key];
    return releasedValue(ref, outputs);
  };
  const render = (node: unknown): unknown => {
    if (typeof node === 'string') return renderString(node, valueOf);
    if (Array.isArray(node)) return node.map(render);
    if (isObject(node)) return Object.fromEntries(Object.entries(node).map(([name, child]) => [name, render(child)]));
    return node;
  };
  return render(deferred.template);
}

function renderString(text: string, valueOf: (ref: TemplateRef) => unknown): unknown {
  const { refs } = parseTemplateString(text, '');
  if (refs.length === 0) return text;
  if (isSingleReference(text)) return valueOf(refs[0]!);
  return text.replace(/\{\{([^{}]*)\}\}/g, (match) => {
    const ref = parseTemplateString(match, '').refs[0];
    if (!ref) return match;
    const value = valueOf(ref);
    return typeof value === 'string' ? value : JSON.stringify(value);
  });
}

/** A released producer's output at the reference's path (its recorded result: `{ outcome, status_code, response }`). */
function releasedValue(ref: TemplateRef, outputs: Readonly<Record<string, unknown>>): unknown {
  if (!Object.hasOwn(outputs, ref.root)) throw new TemplateValueError(`${ref.raw}: ${ref.root} is not among the outputs the gate released`);
  let value: unknown = outputs[ref.root];
  for (const segment of ref.path) {
    if (Array.isArray(value) && typeof segment === 'number') value = value[segment];
    else value = isObject(value) && Object.hasOwn(value, String(segment)) ? value[String(segment)] : undefined;
    if (value === undefined) throw new TemplateValueError(`${ref.raw}: the output of ${ref.root} has no ${ref.path.join('.')}`);
  }
  return value;
}

function isDeferredValue(value: unknown): value is DeferredValue {
  return isObject(value) && 'template' in value && isObject(value.values);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
