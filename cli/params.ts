import { resolveParameters } from '../core/execution/parameters.ts';
import type { Parameter } from '../core/workflow/definition.ts';
import { UsageError, type Problem } from './errors.ts';

/** `--param key=value`, collected in order (commander calls this once per flag). */
export function collectParam(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}

/**
 * The parameters of a run from `--param name=value` flags, each value read as its declared type: numbers and
 * booleans as such, objects and arrays as JSON, strings as given. Every problem (a flag without `=`, a name
 * the workflow does not declare, a value that is not of its type, a required parameter left out, a value
 * outside its enum) is reported at once as a UsageError, before anything is sent; the declaration checks are
 * the API's own (resolveParameters), with undeclared names refused as strict_parameters would.
 */
export function parseParams(flags: readonly string[], declared: readonly Parameter[]): Record<string, unknown> {
  const problems: Problem[] = [];
  const given: Record<string, unknown> = {};
  const types = new Map(declared.map((parameter) => [parameter.name, parameter.type]));
  for (const flag of flags) {
    const equals = flag.indexOf('=');
    if (equals <= 0) {
      problems.push({ field: `--param ${flag}`, message: 'expected name=value' });
      continue;
    }
    const name = flag.slice(0, equals);
    const text = flag.slice(equals + 1);
    const type = types.get(name);
    if (type === undefined) {
      const known = [...types.keys()];
      problems.push({ field: `parameters.${name}`, message: `'${name}' is not a parameter of this workflow; declared: ${known.length > 0 ? known.join(', ') : 'none'}` });
      continue;
    }
    const value = typedValue(type, text);
    if ('problem' in value) problems.push({ field: `parameters.${name}`, message: value.problem });
    // A later flag for the same name replaces an earlier one, so an alias can be overridden.
    else given[name] = value.value;
  }
  const unconverted = new Set(problems.map((problem) => problem.field));
  const { issues } = resolveParameters(declared, given, true);
  // A value that could not be converted is not "missing": its own problem says what is wrong.
  problems.push(...issues.filter((issue) => !unconverted.has(issue.field)));
  if (problems.length > 0) throw new UsageError(`invalid --param: ${problems.length} problem${problems.length === 1 ? '' : 's'}`, problems);
  return given;
}

function typedValue(type: Parameter['type'], text: string): { value: unknown } | { problem: string } {
  switch (type) {
    case 'string':
      return { value: text };
    case 'integer':
    case 'number': {
      const number = text.trim() === '' ? Number.NaN : Number(text);
      if (!Number.isFinite(number)) return { problem: `expected ${type === 'integer' ? 'an integer' : 'a number'}, got ${JSON.stringify(text)}` };
      if (type === 'integer' && !Number.isSafeInteger(number)) return { problem: `expected an integer, got ${JSON.stringify(text)}` };
      return { value: number };
    }
    case 'boolean':
      if (text === 'true' || text === 'false') return { value: text === 'true' };
      return { problem: `expected true or false, got ${JSON.stringify(text)}` };
    case 'object':
    case 'array': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return { problem: `expected ${type === 'object' ? 'a JSON object' : 'a JSON array'}, got ${JSON.stringify(text)} (not JSON)` };
      }
      const isArray = Array.isArray(value);
      const fits = type === 'array' ? isArray : value !== null && typeof value === 'object' && !isArray;
      return fits ? { value } : { problem: `expected ${type === 'object' ? 'a JSON object' : 'a JSON array'}, got ${JSON.stringify(text)}` };
    }
  }
}
