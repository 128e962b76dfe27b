import { describe, expect, it } from 'vitest';
import { definitionInput, issuesOf, parseDefinition, serviceCall } from '../support/definitions.ts';

/** The `llm` action type as users write it: its config, and the errors that name the field at fault. */

const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const llm = (config: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ action_id: 'ask', action_type: 'llm', config: { model: MODEL, ...config }, ...extra });
const fieldsOf = (input: unknown) => issuesOf(input).map((issue) => issue.field);

describe('llm action definitions', () => {
  it('accepts a prompt, fills in max_tokens, and keeps system, temperature and output_schema', () => {
    const parsed = parseDefinition(definitionInput([llm({ system: 'Be brief.', prompt: 'Hi', temperature: 0.5, output_schema: { type: 'object' } })]));
    expect(parsed.actions[0]).toEqual({ action_id: 'ask', action_type: 'llm', depends_on: [], config: { model: MODEL, system: 'Be brief.', prompt: 'Hi', temperature: 0.5, max_tokens: 1024, output_schema: { type: 'object' } } });
    expect(issuesOf(definitionInput([llm({ messages: [{ role: 'system', content: 'x' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: 'Bye' }] })]))).toEqual([]);
  });

  it('needs exactly one of prompt and messages, naming the field', () => {
    expect(issuesOf(definitionInput([llm({})]))).toEqual([{ field: 'actions[0].config.prompt', message: 'an llm action needs prompt or messages' }]);
    expect(issuesOf(definitionInput([llm({ prompt: 'a', messages: [{ role: 'user', content: 'b' }] })]))).toEqual([{ field: 'actions[0].config.messages', message: 'an llm action takes prompt or messages, not both' }]);
  });

  it('names each bad field: model, role, content, temperature, max_tokens, unknown keys', () => {
    expect(fieldsOf(definitionInput([{ action_id: 'ask', action_type: 'llm', config: { prompt: 'x' } }]))).toEqual(['actions[0].config.model']);
    expect(fieldsOf(definitionInput([llm({ model: 'gpt 4 {{x}}', prompt: 'x' })]))).toEqual(['actions[0].config.model']);
    const issues = issuesOf(definitionInput([llm({ messages: [{ role: 'robot', content: 'x' }, { role: 'user' }], temperature: 3, max_tokens: 0, top_p: 1 })]));
    expect(issues.map((issue) => issue.field).sort()).toEqual(['actions[0].config', 'actions[0].config.max_tokens', 'actions[0].config.messages[0].role', 'actions[0].config.messages[1].content', 'actions[0].config.temperature'].sort());
    expect(issues.find((issue) => issue.field === 'actions[0].config.messages[0].role')?.message).toBe('role must be one of system, user, assistant');
    expect(issues.find((issue) => issue.field === 'actions[0].config')?.message).toBe("unknown field 'top_p'");
  });

  it('needs a user message first, and with output_schema last', () => {
    expect(issuesOf(definitionInput([llm({ messages: [{ role: 'system', content: 's' }] })]))).toEqual([{ field: 'actions[0].config.messages', message: 'messages need at least one user message (system messages only set the system text)' }]);
    expect(fieldsOf(definitionInput([llm({ messages: [{ role: 'assistant', content: 'a' }, { role: 'user', content: 'b' }] })]))).toEqual(['actions[0].config.messages[0].role']);
    const prefilled = [{ role: 'user', content: 'a' }, { role: 'assistant', content: '{' }];
    expect(issuesOf(definitionInput([llm({ messages: prefilled })]))).toEqual([]);
    expect(fieldsOf(definitionInput([llm({ messages: prefilled, output_schema: { type: 'object' } })]))).toEqual(['actions[0].config.messages[1].role']);
  });

  it('refuses an output_schema that is not a valid JSON Schema, at actions[i].config.output_schema', () => {
    const cases: [unknown, RegExp][] = [
      [{ type: 5 }, /output_schema is not a valid JSON Schema: output_schema\/type must be/],
      [{ type: 'object', require: ['a'] }, /unknown keyword: "require"/],
      [{ $ref: '#/$defs/missing' }, /can't resolve reference #\/\$defs\/missing/],
      [{ $schema: 'http://json-schema.org/draft-07/schema#' }, /must be https:\/\/json-schema.org\/draft\/2020-12\/schema/],
      ['not a schema', /output_schema must be a JSON Schema object/],
    ];
    for (const [schema, message] of cases) {
      const issues = issuesOf(definitionInput([serviceCall('first'), llm({ prompt: 'x', output_schema: schema })]));
      expect(issues.length, JSON.stringify(schema)).toBeGreaterThan(0);
      for (const issue of issues) expect(issue.field, JSON.stringify(schema)).toBe('actions[1].config.output_schema');
      expect(issues.map((issue) => issue.message).join(' | ')).toMatch(message);
    }
  });

  it('checks templates in prompt, system and messages, but never inside output_schema', () => {
    const input = definitionInput(
      [serviceCall('fetch'), llm({ system: '{{tone}}', messages: [{ role: 'user', content: 'About {{fetch.response.title}} and {{nowhere}}' }], output_schema: { type: 'object', description: 'use {{anything}} here' } }, { depends_on: ['fetch'] })],
      [{ name: 'tone', type: 'string' }],
    );
    expect(issuesOf(input)).toEqual([{ field: 'actions[1].config.messages[0].content', message: "{{nowhere}} names neither a declared parameter nor an action: 'nowhere' is unknown" }]);
    expect(fieldsOf(definitionInput([llm({ prompt: '{{later.response.text}}' }), llm({ prompt: 'x' }, { action_id: 'later' })]))).toEqual(['actions[0].config.prompt']);
  });

  it("refuses output_schema keys that end in '.$' (Step Functions would read them as paths)", () => {
    expect(issuesOf(definitionInput([llm({ prompt: 'x', output_schema: { type: 'object', properties: { 'price.$': { type: 'number' } } } })]))).toEqual([
      { field: 'actions[0].config.output_schema.properties.price.$', message: "keys must not end in '.$' (Step Functions reads such keys as paths)" },
    ]);
  });
});
