import type { Parameter, ParameterType } from './definition.ts';

/** Why `value` is not a valid `type`, or undefined when it is. Shared by definition and execution checks. */
export function typeMismatch(type: ParameterType, value: unknown): string | undefined {
  const ok = (() => {
    switch (type) {
      case 'string':
        return typeof value === 'string';
      case 'integer':
        return typeof value === 'number' && Number.isSafeInteger(value);
      case 'number':
        return typeof value === 'number' && Number.isFinite(value);
      case 'boolean':
        return typeof value === 'boolean';
      case 'array':
        return Array.isArray(value);
      case 'object':
        return value !== null && typeof value === 'object' && !Array.isArray(value);
    }
  })();
  return ok ? undefined : `expected ${article(type)} ${type}, got ${describe(value)}`;
}

/** Problems with one parameter's declaration beyond its shape: default and enum must fit the type. */
export function parameterDeclarationIssues(parameter: Parameter): { key: 'default' | 'enum'; message: string }[] {
  const issues: { key: 'default' | 'enum'; message: string }[] = [];
  if (parameter.default !== undefined) {
    const mismatch = typeMismatch(parameter.type, parameter.default);
    if (mismatch) issues.push({ key: 'default', message: `default does not match type ${parameter.type}: ${mismatch}` });
  }
  if (parameter.enum) {
    parameter.enum.forEach((value, index) => {
      const mismatch = typeMismatch(parameter.type, value);
      if (mismatch) issues.push({ key: 'enum', message: `enum[${index}] does not match type ${parameter.type}: ${mismatch}` });
    });
    if (parameter.default !== undefined && !parameter.enum.some((value) => jsonEqual(value, parameter.default))) {
      issues.push({ key: 'default', message: `default ${JSON.stringify(parameter.default)} is not one of the enum values` });
    }
  }
  return issues;
}

/** Structural equality for JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  const aEntries = Object.entries(a as Record<string, unknown>);
  const bObject = b as Record<string, unknown>;
  return aEntries.length === Object.keys(bObject).length && aEntries.every(([key, value]) => Object.hasOwn(bObject, key) && jsonEqual(value, bObject[key]));
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? 'an' : 'a';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  return `${article(typeof value)} ${typeof value}`;
}
