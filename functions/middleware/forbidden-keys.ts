import type { FieldIssue } from '../../core/errors.ts';

/** What the JSON body parser refuses (prototype pollution), as each refused key's issue says it. */
export const FORBIDDEN_KEY_RULE = 'keys __proto__ and constructor.prototype are not allowed';

/**
 * Every key of a parsed JSON value that the API's body parser refuses, with its path (`actions[0].config.__proto__`).
 * JSON.parse makes `__proto__` an own data property, never the prototype, so walking a parsed value pollutes nothing.
 * The HTTP edge names them in its 400, and the CLI checks definitions offline with the same walk.
 */
export function forbiddenKeyIssues(value: unknown): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) {
      node.forEach((item, index) => walk(item, `${path}[${index}]`));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const key of Object.keys(node)) {
      const child: unknown = (node as Record<string, unknown>)[key];
      const at = path ? `${path}.${key}` : key;
      if (key === '__proto__') issues.push({ field: at, message: FORBIDDEN_KEY_RULE });
      else if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) issues.push({ field: `${at}.prototype`, message: FORBIDDEN_KEY_RULE });
      walk(child, at);
    }
  };
  walk(value, '');
  return issues;
}
