import type { z } from 'zod';
import { PayloadTooLargeError, ValidationError, type FieldIssue } from '../errors.ts';
import { ACTION_OUTPUT_FIELDS, collectTemplates, EXECUTION_FIELDS, EXECUTION_ROOT, type TemplateRef } from './templates.ts';
import { findCycles, transitiveDependencies } from './graph.ts';
import { parameterDeclarationIssues } from './parameters.ts';
import type { Action, DefinitionBody } from './definition.ts';
import { llmTemplatedConfig } from './llm.ts';

/**
 * Definitions are stored as one DynamoDB item (400 KB at most, attribute names and metadata included).
 * Leaving 50 KB for metadata keeps every accepted definition storable.
 */
export const MAX_DEFINITION_BYTES = 350 * 1024;

/** Formats a zod issue path the way users write it: `actions[2].config.method`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === 'number') return `${text}[${segment}]`;
    return text ? `${text}.${String(segment)}` : String(segment);
  }, '');
}

/**
 * Every problem of a failed parse, with its field and a message that names the rule it broke ("q must be at
 * most 200 characters", "status must be one of draft, active"). A message a schema gave for the check itself
 * is kept; zod's own English messages, and messages a check inherited from its schema's type message (zod
 * applies `z.string({ error })` to every check of that string: "q is required" for a 5000-character q), are
 * replaced by one built from the issue's limit, options or format.
 */
export function zodIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = formatPath(issue.path);
    const field = prefix && path ? `${prefix}.${path}` : prefix || path || '(body)';
    if (issue.code === 'unrecognized_keys') {
      return { field, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `'${key}'`).join(', ')}` };
    }
    return { field, message: statesTheRule(issue) ? issue.message : ruleMessage(issue, field === '(body)' ? 'the body' : field) };
  });
}

type ZodIssue = z.core.$ZodIssue;

/** How zod's English messages begin ("Too big: expected string to have <=200 characters", "Invalid option: ..."). */
const ZOD_DEFAULT_MESSAGE = /^(?:Invalid |Too big: |Too small: )/;
/** A type or presence message ("q is required", "url must be a string"): the schema's, not a limit's. */
const TYPE_MESSAGE = /(?:is required|must be an? (?:string|number|integer|whole number|boolean|array|object)(?: of \w+)?)$/;
/** What a size limit counts, by the kind of value (zod's `origin`). */
const SIZE_UNITS: Readonly<Record<string, string>> = { string: 'characters', array: 'items', set: 'items', map: 'entries', file: 'bytes' };

function mentions(message: string, value: unknown): boolean {
  const text = String(value).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?:^|[^\\d.])${text}(?:\\D|$)`).test(message);
}

/** Whether a message says what was wrong in terms of the rule broken (its limit, its options, its format). */
function statesTheRule(issue: ZodIssue): boolean {
  const { message } = issue;
  if (ZOD_DEFAULT_MESSAGE.test(message)) return false;
  switch (issue.code) {
    case 'too_big':
      return mentions(message, issue.maximum);
    case 'too_small':
      // "name is required" / "must not be empty" state a minimum of one.
      return mentions(message, issue.minimum) || (Number(issue.minimum) <= 1 && /required|empty|at least one/.test(message));
    case 'invalid_value':
      // zod reports a missing enum value as invalid_value too: "method is required" is the rule then.
      return issue.values.every((value) => message.includes(String(value))) || /is required$/.test(message);
    case 'not_multiple_of':
      return mentions(message, issue.divisor);
    case 'invalid_format':
      return !TYPE_MESSAGE.test(message);
    default:
      return true;
  }
}

/** A message built from the issue itself, naming the field and the rule. */
function ruleMessage(issue: ZodIssue, name: string): string {
  switch (issue.code) {
    case 'too_big': {
      const bound = issue.exact ? `exactly ${issue.maximum}` : issue.inclusive ? `at most ${issue.maximum}` : `less than ${issue.maximum}`;
      const unit = SIZE_UNITS[issue.origin];
      if (unit === undefined) return `${name} must be ${bound}`;
      return issue.origin === 'string' ? `${name} must be ${bound} ${unit}` : `${name} must have ${bound} ${unit}`;
    }
    case 'too_small': {
      const unit = SIZE_UNITS[issue.origin];
      if (unit !== undefined && issue.inclusive && !issue.exact && Number(issue.minimum) === 1) return `${name} must not be empty`;
      const bound = issue.exact ? `exactly ${issue.minimum}` : issue.inclusive ? `at least ${issue.minimum}` : `more than ${issue.minimum}`;
      if (unit === undefined) return `${name} must be ${bound}`;
      return issue.origin === 'string' ? `${name} must be ${bound} ${unit}` : `${name} must have ${bound} ${unit}`;
    }
    case 'invalid_value':
      return issue.values.length === 1 ? `${name} must be ${JSON.stringify(issue.values[0])}` : `${name} must be one of ${issue.values.map(String).join(', ')}`;
    case 'not_multiple_of':
      return `${name} must be a multiple of ${issue.divisor}`;
    case 'invalid_format':
      return formatMessage(issue, name);
    case 'invalid_type':
      return /received undefined$/.test(issue.message) ? `${name} is required` : `${name} must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    default:
      return issue.message;
  }
}

function formatMessage(issue: Extract<ZodIssue, { code: 'invalid_format' }>, name: string): string {
  const detail = issue as { format: string; pattern?: string; prefix?: string; suffix?: string; includes?: string };
  switch (detail.format) {
    case 'regex':
      return `${name} must match the pattern ${detail.pattern ?? ''}`.trimEnd();
    case 'starts_with':
      return `${name} must start with "${detail.prefix ?? ''}"`;
    case 'ends_with':
      return `${name} must end with "${detail.suffix ?? ''}"`;
    case 'includes':
      return `${name} must include "${detail.includes ?? ''}"`;
    case 'datetime':
      return `${name} must be an ISO 8601 date-time, like 2026-11-24T00:00:00Z`;
    case 'date':
      return `${name} must be an ISO 8601 date, like 2026-11-24`;
    case 'url':
      return `${name} must be an absolute URL`;
    default:
      return `${name} must be a valid ${detail.format}`;
  }
}

/**
 * Everything about a definition that needs the whole of it: duplicate ids, dependencies that name no action,
 * cycles, template references that name nothing the action can see, and parameter defaults and enums that do
 * not fit their types. Returns every problem found, in declaration order.
 */
export function definitionIssues(definition: DefinitionBody): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const { parameters, actions } = definition;

  const parameterNames = new Map<string, number>();
  parameters.forEach((parameter, index) => {
    if (parameterNames.has(parameter.name)) {
      issues.push({ field: `parameters[${index}].name`, message: `duplicate parameter name '${parameter.name}' (also parameters[${parameterNames.get(parameter.name)}])` });
    } else {
      parameterNames.set(parameter.name, index);
    }
    if (parameter.name === EXECUTION_ROOT) {
      issues.push({ field: `parameters[${index}].name`, message: `'${EXECUTION_ROOT}' is reserved for {{execution.*}} references` });
    }
    for (const issue of parameterDeclarationIssues(parameter)) issues.push({ field: `parameters[${index}].${issue.key}`, message: issue.message });
  });

  const actionIndex = new Map<string, number>();
  actions.forEach((action, index) => {
    if (actionIndex.has(action.action_id)) {
      issues.push({ field: `actions[${index}].action_id`, message: `duplicate action_id '${action.action_id}' (also actions[${actionIndex.get(action.action_id)}])` });
    } else {
      actionIndex.set(action.action_id, index);
    }
    if (parameterNames.has(action.action_id)) {
      issues.push({ field: `actions[${index}].action_id`, message: `action_id '${action.action_id}' is also a parameter name, so {{${action.action_id}}} would be ambiguous` });
    }
    if (action.action_id === EXECUTION_ROOT) {
      issues.push({ field: `actions[${index}].action_id`, message: `'${EXECUTION_ROOT}' is reserved for {{execution.*}} references` });
    }
  });

  actions.forEach((action, index) => {
    const seen = new Set<string>();
    action.depends_on.forEach((dep, depIndex) => {
      const field = `actions[${index}].depends_on[${depIndex}]`;
      if (seen.has(dep)) issues.push({ field, message: `'${dep}' is listed twice` });
      seen.add(dep);
      if (!actionIndex.has(dep)) issues.push({ field, message: `depends on '${dep}', which is not an action in this workflow` });
    });
  });

  const cycles = findCycles(actions);
  for (const cycle of cycles) {
    const first = cycle[0]!;
    issues.push({
      field: `actions[${actionIndex.get(first)}].depends_on`,
      message: `dependency cycle: ${cycle.join(' -> ')}`,
    });
  }

  // Upstream sets are only meaningful without cycles; with one, any action counts as upstream so that the
  // remaining reference problems are still reported alongside the cycle, without false alarms.
  const everyAction = new Set(actionIndex.keys());
  const upstream = cycles.length === 0 ? transitiveDependencies(actions) : undefined;
  const parameterTypes = new Map(parameters.map((parameter) => [parameter.name, parameter.type]));
  const actionTypes = new Map(actions.map((action) => [action.action_id, action.action_type]));
  const context = (root: string) => (parameterTypes.has(root) ? 'parameter' : actionTypes.has(root) ? 'action' : 'other');
  actions.forEach((action, index) => {
    const visible = upstream ? (upstream.get(action.action_id) ?? new Set<string>()) : everyAction;
    for (const scope of templateScopes(action, index)) {
      const { occurrences, issues: syntax } = collectTemplates(scope.value, scope.field);
      issues.push(...syntax);
      for (const { ref, field } of occurrences) {
        const problem = referenceProblem(ref, action.action_id, { visible, parameters: parameterTypes, actions: actionTypes, ...scope });
        if (problem) issues.push({ field, message: `${ref.raw} ${problem}` });
      }
    }
    // output_schema goes into the compiled definition as it is, where Step Functions would read such a key as a path.
    const literal = action.action_type === 'llm' && action.config.output_schema ? [{ value: action.config.output_schema, field: `actions[${index}].config.output_schema` }] : [];
    for (const scope of [...templateScopes(action, index), ...literal]) {
      for (const field of keysEndingInDollar(scope.value, scope.field)) {
        issues.push({ field, message: "keys must not end in '.$' (Step Functions reads such keys as paths)" });
      }
    }
    if (action.on_skipped_input === 'run') {
      for (const scope of templateScopes(action, index)) {
        for (const { ref, field } of collectTemplates(scope.value, scope.field).occurrences) {
          if (context(ref.root) === 'action' && ref.path.length > 1) {
            issues.push({ field, message: `${ref.raw} reads a field of '${ref.root}', whose output is null when it is skipped; with on_skipped_input run, use {{${ref.root}.response}} or {{${ref.root}.status_code}}` });
          }
        }
      }
    }
    if (action.on_failure === 'compensate' && !actions.some((other) => other.compensation)) {
      issues.push({ field: `actions[${index}].on_failure`, message: 'on_failure is compensate, but no action declares a compensation' });
    }
  });
  return issues;
}

interface TemplateScope {
  readonly value: unknown;
  readonly field: string;
  /** A compensation undoes its own action, so it may read that action's output. */
  readonly ownOutput?: boolean;
  /** Inside a foreach's inner action, `{{item}}` and `{{index}}` name the current element. */
  readonly loopVariables?: boolean;
}

/** Every place in an action where templates may appear, with what they may refer to there. */
function templateScopes(action: Action, index: number): TemplateScope[] {
  const at = `actions[${index}]`;
  const scopes: TemplateScope[] = [];
  if (action.action_type === 'foreach') {
    scopes.push({ value: action.config.items, field: `${at}.config.items` });
    scopes.push({ value: action.config.action.config, field: `${at}.config.action.config`, loopVariables: true });
  } else {
    // An llm action's output_schema is JSON Schema, never templated (`{{...}}` in a description is text).
    scopes.push({ value: action.action_type === 'llm' ? llmTemplatedConfig(action.config) : action.config, field: `${at}.config` });
  }
  if (action.condition) scopes.push({ value: action.condition, field: `${at}.condition` });
  if (action.compensation) scopes.push({ value: action.compensation.config, field: `${at}.compensation.config`, ownOutput: true });
  return scopes;
}

export const LOOP_VARIABLES = ['item', 'index'] as const;

function keysEndingInDollar(value: unknown, at: string): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => keysEndingInDollar(item, `${at}[${index}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [...(key.endsWith('.$') ? [`${at}.${key}`] : []), ...keysEndingInDollar(child, `${at}.${key}`)]);
}

interface ReferenceContext {
  readonly visible: ReadonlySet<string>;
  readonly parameters: ReadonlyMap<string, string>;
  readonly actions: ReadonlyMap<string, Action['action_type']>;
  readonly ownOutput?: boolean;
  readonly loopVariables?: boolean;
}

function referenceProblem(ref: TemplateRef, actionId: string, context: ReferenceContext): string | undefined {
  const { root, path } = ref;
  if (context.loopVariables && (LOOP_VARIABLES as readonly string[]).includes(root)) {
    return root === 'index' && path.length > 0 ? 'reads a field of index, which is a number and has none' : undefined;
  }
  const parameterType = context.parameters.get(root);
  if (parameterType !== undefined) {
    return path.length > 0 && parameterType !== 'object' && parameterType !== 'array'
      ? `reads a field of parameter '${root}', which is ${parameterType === 'integer' ? 'an' : 'a'} ${parameterType} and has none`
      : undefined;
  }
  if (root === EXECUTION_ROOT) {
    const field = path[0];
    return path.length === 1 && (EXECUTION_FIELDS as readonly unknown[]).includes(field)
      ? undefined
      : `is not an execution field; use one of ${EXECUTION_FIELDS.map((name) => `{{execution.${name}}}`).join(', ')}`;
  }
  const actionType = context.actions.get(root);
  if (actionType !== undefined) {
    const own = root === actionId && context.ownOutput;
    if (root === actionId && !own) return `refers to action '${root}' itself; an action can only use the outputs of actions it depends on`;
    if (!own && !context.visible.has(root)) return `refers to action '${root}', which '${actionId}' does not depend on (add '${root}' to its depends_on)`;
    if (actionType === 'wait') return `refers to wait action '${root}', which has no output`;
    const field = path[0];
    if (!(ACTION_OUTPUT_FIELDS as readonly unknown[]).includes(field)) {
      return `must name an output of '${root}': {{${root}.response}}, {{${root}.response.<field>}} or {{${root}.status_code}}`;
    }
    if (field === 'status_code' && path.length > 1) return `reads a field of status_code, which is a number and has none`;
    return undefined;
  }
  if (!context.loopVariables && (LOOP_VARIABLES as readonly string[]).includes(root)) {
    return `is only defined inside a foreach action's inner action`;
  }
  return `names neither a declared parameter nor an action: '${root}' is unknown`;
}

/** Refuses a definition that would not fit in one DynamoDB item, with the figures. */
export function assertDefinitionFits(definition: DefinitionBody): void {
  const bytes = utf8Length(JSON.stringify({ parameters: definition.parameters, actions: definition.actions }));
  if (bytes > MAX_DEFINITION_BYTES) {
    throw new PayloadTooLargeError(
      `workflow definition is ${bytes} bytes; the limit is ${MAX_DEFINITION_BYTES} bytes (DynamoDB's 400 KB item limit, less room for metadata)`,
      [{ field: 'actions', message: `definition is ${bytes} bytes, over the ${MAX_DEFINITION_BYTES}-byte limit` }],
    );
  }
}

/** Throws a ValidationError listing every problem, or returns quietly. */
export function assertValidDefinition(definition: DefinitionBody): void {
  const issues = definitionIssues(definition);
  if (issues.length > 0) throw new ValidationError(issues);
  assertDefinitionFits(definition);
}

const encoder = new TextEncoder();
export function utf8Length(text: string): number {
  return encoder.encode(text).length;
}
