import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { routes, type RouteSpec } from '../../../functions/routes.ts';
import { zodIssues } from '../../../core/workflow/validate.ts';
import { CreateWorkflowBody, FromTemplateBody, UpdateWorkflowBody } from '../../../functions/http/workflow-schemas.ts';
import { ExecuteBody } from '../../../functions/http/execution-schemas.ts';
import { RegisterServiceBody } from '../../../functions/http/registry-schemas.ts';
import { CreateApiKeyBody } from '../../../functions/http/auth-schemas.ts';

/**
 * Every length, range, option and format rule of the route table's path and query parameters, broken one at
 * a time: the message names the parameter and the rule (its limit, its options, its format), never a type
 * message the check inherited from its schema ("q is required" for a q that is too long) nor zod's own English.
 */

interface ParameterSchema {
  readonly type?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly unknown[];
  readonly pattern?: string;
  readonly format?: string;
}

interface Violation {
  readonly rule: string;
  readonly value: string;
  /** What the message must contain. */
  readonly names: readonly string[];
}

function violationsOf(schema: ParameterSchema): Violation[] {
  const violations: Violation[] = [];
  if (schema.maxLength !== undefined) violations.push({ rule: `maxLength ${schema.maxLength}`, value: 'a'.repeat(schema.maxLength + 1), names: [String(schema.maxLength)] });
  if (schema.minLength !== undefined && schema.minLength > 1) violations.push({ rule: `minLength ${schema.minLength}`, value: 'a'.repeat(schema.minLength - 1), names: [String(schema.minLength)] });
  if (schema.minLength === 1) violations.push({ rule: 'minLength 1', value: '', names: [] });
  if (schema.maximum !== undefined) violations.push({ rule: `maximum ${schema.maximum}`, value: BigInt(schema.maximum) + 1n > BigInt(Number.MAX_SAFE_INTEGER) ? '1e300' : String(schema.maximum + 1), names: [String(schema.maximum)] });
  if (schema.minimum !== undefined) violations.push({ rule: `minimum ${schema.minimum}`, value: String(schema.minimum - 1), names: [String(schema.minimum)] });
  if (schema.type === 'integer') violations.push({ rule: 'integer', value: '1.5', names: [] });
  if (schema.enum !== undefined) violations.push({ rule: 'enum', value: 'no-such-option', names: schema.enum.map(String) });
  if (schema.pattern !== undefined) violations.push({ rule: `pattern ${schema.pattern}`, value: '!!!', names: [] });
  if (schema.format === 'date-time') violations.push({ rule: 'date-time', value: 'yesterday', names: ['ISO'] });
  return violations;
}

const parameterParts = Object.entries(routes as Readonly<Record<string, RouteSpec>>).flatMap(([name, route]) =>
  [route.params, route.query].flatMap((part) => (part ? Object.entries(part.shape).map(([key, schema]) => ({ route: name, part, key, schema: schema as z.ZodType })) : [])),
);

const INHERITED_OR_DEFAULT = /^(?:Invalid |Too big|Too small)|(?:is required|must be a string|must be a number)$/;

describe('messages of path and query parameters', () => {
  it('covers every parameter of the route table', () => {
    expect(parameterParts.length).toBeGreaterThan(20);
  });

  it.each(parameterParts.map((entry) => [`${entry.route} ${entry.key}`, entry] as const))('%s: each rule broken is named, with the parameter', (_label, { part, key, schema }) => {
    const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as ParameterSchema;
    for (const violation of violationsOf(json)) {
      const parsed = part.safeParse({ [key]: violation.value });
      expect(parsed.success, `${key}=${violation.value.slice(0, 20)} (${violation.rule}) is refused`).toBe(false);
      if (parsed.success) continue;
      const messages = zodIssues(parsed.error).filter((issue) => issue.field === key).map((issue) => issue.message);
      expect(messages.length, `${key} ${violation.rule}: an issue at ${key}`).toBeGreaterThan(0);
      // An empty value may be called missing; nothing else may get a type or presence message.
      const empty = violation.rule === 'minLength 1';
      if (empty) expect(messages.some((message) => /is required|must not be empty/.test(message)), `${key} empty: ${messages.join(' | ')}`).toBe(true);
      for (const message of messages.filter((text) => !empty || !/is required|must not be empty/.test(text))) {
        expect(message, `${key} ${violation.rule}`).toContain(key);
        expect(message, `${key} ${violation.rule}`).not.toMatch(INHERITED_OR_DEFAULT);
      }
      for (const name of violation.names) expect(messages.join(' | '), `${key} ${violation.rule}`).toContain(name);
    }
  });
});

describe('messages of bodies', () => {
  const messagesOf = (schema: z.ZodType, value: unknown) => {
    const parsed = schema.safeParse(value);
    if (parsed.success) throw new Error('expected a refusal');
    return zodIssues(parsed.error);
  };
  const action = (config: Record<string, unknown>) => ({ action_id: 'a', action_type: 'service_call', config: { service: 'svc', endpoint: '/x', method: 'GET', ...config } });

  it('names the limit of an over-long string, even where the schema has a type message of its own', () => {
    expect(messagesOf(CreateWorkflowBody, { name: 'n'.repeat(201), actions: [action({})] })).toEqual([{ field: 'name', message: 'name must be at most 200 characters' }]);
    expect(messagesOf(CreateWorkflowBody, { name: 'n', actions: [action({ service: 's'.repeat(129) })] })).toEqual([
      { field: 'actions[0].config.service', message: 'actions[0].config.service must be at most 128 characters' },
    ]);
    expect(messagesOf(CreateWorkflowBody, { name: 'n', description: 'd'.repeat(4001), actions: [action({})] })).toEqual([{ field: 'description', message: 'description must be at most 4000 characters' }]);
    expect(messagesOf(FromTemplateBody, { template_name: 't'.repeat(129) })).toEqual([{ field: 'template_name', message: 'template_name must be at most 128 characters' }]);
  });

  it('names the bound of an out-of-range number and the options of an enum', () => {
    expect(messagesOf(CreateWorkflowBody, { name: 'n', actions: [{ ...action({}), retry: { max_attempts: 21 } }] })).toEqual([{ field: 'actions[0].retry.max_attempts', message: 'actions[0].retry.max_attempts must be at most 20' }]);
    expect(messagesOf(ExecuteBody, { version: 0 })).toEqual([{ field: 'version', message: 'version must be at least 1' }]);
    expect(messagesOf(UpdateWorkflowBody, { name: 'x', expected_version: 'one' })).toEqual([{ field: 'expected_version', message: 'expected_version must be a number' }]);
    expect(messagesOf(CreateApiKeyBody, { name: 'k', role: 'root' })).toEqual([{ field: 'role', message: 'role must be one of viewer, operator, admin' }]);
    expect(messagesOf(CreateWorkflowBody, { name: 'n', actions: [{ ...action({}), on_failure: 'explode' }] })).toEqual([{ field: 'actions[0].on_failure', message: 'actions[0].on_failure must be one of fail, continue, compensate' }]);
  });

  it('names the too-long url, name and version of a registration, and says what a url must look like', () => {
    expect(messagesOf(RegisterServiceBody, { name: 'a'.repeat(129), url: `http://h/${'p'.repeat(2048)}`, version: 'v'.repeat(65) })).toEqual(
      expect.arrayContaining([
        { field: 'name', message: 'name must be at most 128 characters' },
        { field: 'url', message: 'url must be at most 2048 characters' },
        { field: 'version', message: 'version must be at most 64 characters' },
      ]),
    );
    expect(messagesOf(RegisterServiceBody, { name: 'a', url: '0' })).toEqual([{ field: 'url', message: 'url must be an absolute http or https URL, like https://analysis.internal:8443' }]);
  });

  it('still says a missing or mistyped field is required or of the wrong type', () => {
    expect(messagesOf(RegisterServiceBody, { url: 5 })).toEqual([
      { field: 'name', message: 'name is required' },
      { field: 'url', message: 'url must be a string' },
    ]);
  });
});
