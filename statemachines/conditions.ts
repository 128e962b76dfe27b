import type { Condition } from '../core/workflow/definition.ts';
import { parseTemplateString } from '../core/workflow/templates.ts';
import type { JsonObject } from './asl.ts';
import { resolveReference, type PathScope } from './paths.ts';

/** Action conditions as Choice rules. */

const COMPARISONS: Record<string, { string: string; number: string; boolean?: string }> = {
  equals: { string: 'StringEquals', number: 'NumericEquals', boolean: 'BooleanEquals' },
  greater_than: { string: 'StringGreaterThan', number: 'NumericGreaterThan' },
  greater_than_or_equal: { string: 'StringGreaterThanEquals', number: 'NumericGreaterThanEquals' },
  less_than: { string: 'StringLessThan', number: 'NumericLessThan' },
  less_than_or_equal: { string: 'StringLessThanEquals', number: 'NumericLessThanEquals' },
};

/** A condition as a Choice rule (without its Next) over the values it reads in state data. */
export function conditionRule(condition: Condition, scope: PathScope): JsonObject {
  if ('all' in condition) return { And: condition.all.map((rule) => conditionRule(rule, scope)) };
  if ('any' in condition) return { Or: condition.any.map((rule) => conditionRule(rule, scope)) };
  if ('not' in condition) return { Not: conditionRule(condition.not, scope) };
  const ref = parseTemplateString(condition.ref, '').refs[0];
  if (!ref) throw new Error(`condition ref ${condition.ref} is not a reference`);
  const variable = resolveReference(ref, scope);
  if (!('path' in variable)) {
    // A constant (workflow id or version): compare at compile time.
    return constantRule(condition, variable.literal);
  }
  const path = variable.path;
  // `false` is written as Not(... true): the same rule in Step Functions, and the local interpreter
  // (aws-local-stepfunctions 3) evaluates `IsNull: false` and `IsPresent: false` as never holding.
  if (condition.is_present !== undefined) return condition.is_present ? { Variable: path, IsPresent: true } : { Not: { Variable: path, IsPresent: true } };
  if (condition.is_null !== undefined) return condition.is_null ? { Variable: path, IsNull: true } : { Not: { Variable: path, IsNull: true } };
  if (condition.not_equals !== undefined) return { Not: comparison(path, 'equals', condition.not_equals) };
  for (const operator of Object.keys(COMPARISONS)) {
    const value = (condition as Record<string, unknown>)[operator];
    if (value !== undefined) return comparison(path, operator, value);
  }
  throw new Error('condition has no operator');
}

function comparison(path: string, operator: string, value: unknown): JsonObject {
  const kinds = COMPARISONS[operator]!;
  const kind = typeof value === 'number' ? kinds.number : typeof value === 'boolean' ? kinds.boolean : kinds.string;
  if (!kind) throw new Error(`${operator} cannot compare booleans`);
  return { Variable: path, [kind]: value };
}

/** Conditions on compile-time constants (workflow id and version) are decided now: a rule that always or never holds. */
function constantRule(condition: Condition, value: unknown): JsonObject {
  const rule = condition as Record<string, unknown>;
  const compare = (expected: unknown, test: (a: number | string, b: number | string) => boolean) =>
    (typeof value === 'number' && typeof expected === 'number') || (typeof value === 'string' && typeof expected === 'string') ? test(value, expected) : false;
  let holds = false;
  if (rule.is_present !== undefined) holds = rule.is_present === true;
  else if (rule.is_null !== undefined) holds = rule.is_null === (value === null);
  else if (rule.equals !== undefined) holds = rule.equals === value;
  else if (rule.not_equals !== undefined) holds = rule.not_equals !== value;
  else if (rule.greater_than !== undefined) holds = compare(rule.greater_than, (a, b) => a > b);
  else if (rule.greater_than_or_equal !== undefined) holds = compare(rule.greater_than_or_equal, (a, b) => a >= b);
  else if (rule.less_than !== undefined) holds = compare(rule.less_than, (a, b) => a < b);
  else if (rule.less_than_or_equal !== undefined) holds = compare(rule.less_than_or_equal, (a, b) => a <= b);
  return { Variable: '$.params', IsPresent: holds };
}
