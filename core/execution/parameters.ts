import type { FieldIssue } from '../errors.ts';
import type { Parameter } from '../workflow/definition.ts';
import { jsonEqual, typeMismatch } from '../workflow/parameters.ts';

/**
 * The parameters a run starts with: every declared one present (given, its default, or null when optional),
 * each of its declared type and within its enum. Undeclared names are kept as given, as the reference service
 * did, and named in `warnings` (so a typo is visible); with `strict` (the workflow's `strict_parameters`) they
 * are refused instead. Returns every problem with its field (`parameters.<name>`).
 */
export function resolveParameters(
  declared: readonly Parameter[],
  given: Readonly<Record<string, unknown>>,
  strict = false,
): { values: Record<string, unknown>; issues: FieldIssue[]; warnings: string[] } {
  const values: Record<string, unknown> = {};
  const issues: FieldIssue[] = [];
  const warnings: string[] = [];
  const names = new Set(declared.map((parameter) => parameter.name));
  const undeclared = Object.keys(given).filter((name) => !names.has(name));
  const declaredList = [...names].join(', ') || 'none';
  for (const name of undeclared) {
    if (strict) issues.push({ field: `parameters.${name}`, message: `'${name}' is not a parameter of this workflow (strict_parameters); declared: ${declaredList}` });
    else values[name] = given[name];
  }
  if (!strict && undeclared.length > 0) {
    warnings.push(`parameters not declared by the workflow, kept on the run: ${undeclared.join(', ')} (declared: ${declaredList}; set strict_parameters to refuse them)`);
  }
  for (const parameter of declared) {
    const field = `parameters.${parameter.name}`;
    const provided = Object.hasOwn(given, parameter.name) && given[parameter.name] !== undefined;
    if (!provided) {
      if (parameter.default !== undefined) values[parameter.name] = parameter.default;
      else if (parameter.required) issues.push({ field, message: `'${parameter.name}' is required (${parameter.type})` });
      else values[parameter.name] = null;
      continue;
    }
    const value = given[parameter.name];
    const mismatch = typeMismatch(parameter.type, value);
    if (mismatch) {
      issues.push({ field, message: mismatch });
      continue;
    }
    if (parameter.enum && !parameter.enum.some((allowed) => jsonEqual(allowed, value))) {
      issues.push({ field, message: `must be one of ${parameter.enum.map((allowed) => JSON.stringify(allowed)).join(', ')}` });
      continue;
    }
    values[parameter.name] = value;
  }
  return { values, issues, warnings };
}
