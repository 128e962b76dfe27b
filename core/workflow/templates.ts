/**
 * `{{template}}` references inside action configs. A reference names a parameter (`{{document_url}}`,
 * `{{options.depth}}`), an earlier action's output (`{{fetch_doc.response.content}}`,
 * `{{fetch_doc.status_code}}`) or the running execution (`{{execution.id}}`). The validator uses this module
 * to check references; the compiler will use it to turn them into ASL paths.
 */

export type PathSegment = string | number;

export interface TemplateRef {
  /** The text as written, braces included. */
  readonly raw: string;
  /** The first segment: a parameter name, an action id or `execution`. */
  readonly root: string;
  /** The segments after the root. */
  readonly path: readonly PathSegment[];
}

export interface TemplateOccurrence {
  readonly ref: TemplateRef;
  /** Where in the config the string holding the reference sits, e.g. `config.parameters.url`. */
  readonly field: string;
}

export interface TemplateSyntaxIssue {
  readonly field: string;
  readonly message: string;
}

export const EXECUTION_ROOT = 'execution';
export const EXECUTION_FIELDS = ['id', 'started_at', 'workflow_id', 'workflow_version'] as const;
export const ACTION_OUTPUT_FIELDS = ['response', 'status_code'] as const;

const TEMPLATE = /\{\{([^{}]*)\}\}/g;
const SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Parses `a.b[0].c` into `['a', 'b', 0, 'c']`; returns undefined when the expression is not a path. */
export function parsePath(expression: string): PathSegment[] | undefined {
  const segments: PathSegment[] = [];
  for (const part of expression.split('.')) {
    const match = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!match) return undefined;
    const [, name = '', indexes = ''] = match;
    if (/^\d+$/.test(name)) segments.push(Number(name));
    else if (SEGMENT.test(name)) segments.push(name);
    else return undefined;
    for (const index of indexes.matchAll(/\[(\d+)\]/g)) segments.push(Number(index[1]));
  }
  return segments.length > 0 && typeof segments[0] === 'string' ? segments : undefined;
}

/** Every reference in one string, plus syntax problems (unbalanced braces, expressions that are not paths). */
export function parseTemplateString(text: string, field: string): { refs: TemplateRef[]; issues: TemplateSyntaxIssue[] } {
  // Most strings of a workflow hold no template at all.
  if (!text.includes('{{') && !text.includes('}}')) return { refs: [], issues: [] };
  const refs: TemplateRef[] = [];
  const issues: TemplateSyntaxIssue[] = [];
  for (const match of text.matchAll(TEMPLATE)) {
    const expression = (match[1] ?? '').trim();
    const segments = parsePath(expression);
    if (!segments) {
      issues.push({ field, message: `template ${match[0]} is not a reference: use {{parameter}}, {{action_id.response.field}} or {{execution.id}}` });
      continue;
    }
    const [root, ...path] = segments;
    refs.push({ raw: match[0], root: String(root), path });
  }
  const leftover = text.replace(TEMPLATE, '');
  if (leftover.includes('{{') || leftover.includes('}}')) {
    issues.push({ field, message: `unbalanced template braces in ${JSON.stringify(truncate(text))}` });
  }
  return { refs, issues };
}

/** True when the whole string is exactly one reference: such a value keeps the referenced value's type. */
export function isSingleReference(text: string): boolean {
  const trimmed = text.trim();
  const matches = [...trimmed.matchAll(TEMPLATE)];
  return matches.length === 1 && matches[0]?.[0] === trimmed;
}

/** Walks a JSON value and reports every reference inside its strings (keys included). */
export function collectTemplates(value: unknown, field: string): { occurrences: TemplateOccurrence[]; issues: TemplateSyntaxIssue[] } {
  const occurrences: TemplateOccurrence[] = [];
  const issues: TemplateSyntaxIssue[] = [];
  const visit = (node: unknown, at: string): void => {
    if (typeof node === 'string') {
      const parsed = parseTemplateString(node, at);
      for (const ref of parsed.refs) occurrences.push({ ref, field: at });
      issues.push(...parsed.issues);
    } else if (Array.isArray(node)) {
      node.forEach((item, index) => visit(item, `${at}[${index}]`));
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        const childField = `${at}.${key}`;
        if (key.includes('{{')) visit(key, childField);
        visit(child, childField);
      }
    }
  };
  visit(value, field);
  return { occurrences, issues };
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
