import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError, ValidationError } from '../../../core/errors.ts';
import { ACTION_TYPES, WorkflowDefinitionSchema } from '../../../core/workflow/definition.ts';
import { jsonEqual, typeMismatch } from '../../../core/workflow/parameters.ts';
import { assertDefinitionFits, assertValidDefinition, definitionIssues, formatPath, MAX_DEFINITION_BYTES, zodIssues } from '../../../core/workflow/validate.ts';
import { definitionInput, issuesOf, notification, parseDefinition, serviceCall } from './support/definitions.ts';
import { thrownBy } from './support/errors.ts';
import { callInWorker } from './support/in-worker.ts';

const ok = (message = 'done') => notification('only', message);

describe('structure (zod schema)', () => {
  it('accepts a minimal workflow and fills in the documented defaults', () => {
    const parsed = parseDefinition(definitionInput([{ action_id: 'a', action_type: 'notification', config: { message: 'hi' } }]));
    expect(parsed).toEqual({
      name: 'test workflow',
      description: '',
      tags: [],
      status: 'active',
      execution_mode: 'standard',
      parameters: [],
      strict_parameters: false,
      actions: [{ action_id: 'a', action_type: 'notification', depends_on: [], config: { message: 'hi', severity: 'info', channels: ['log'] } }],
    });
    expect(definitionIssues(parsed)).toEqual([]);
  });

  it('refuses an unknown action_type at actions[i].action_type and lists the known types', () => {
    const issues = issuesOf(definitionInput([ok(), { action_id: 'b', action_type: 'lambda', config: {} }]));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.field).toBe('actions[1].action_type');
    expect(issues[0]?.message).toContain('"lambda"');
    expect(ACTION_TYPES).toEqual(['service_call', 'notification', 'wait', 'transform', 'foreach', 'sub_workflow', 'llm']);
    for (const type of ACTION_TYPES) expect(issues[0]?.message).toContain(type);
  });

  it('refuses an action with no action_type at all, listing the known types', () => {
    const issues = issuesOf(definitionInput([{ action_id: 'a', config: { message: 'x' } }]));
    expect(issues.map((issue) => issue.field)).toEqual(['actions[0].action_type']);
    expect(issues[0]?.message).toMatch(/expected one of service_call, notification/);
  });

  it('reports each missing service_call field (service, endpoint, method) at its own path', () => {
    const issues = issuesOf(definitionInput([{ action_id: 'call', action_type: 'service_call', config: {} }]));
    expect(issues.map((issue) => issue.field)).toEqual(['actions[0].config.service', 'actions[0].config.endpoint', 'actions[0].config.method']);
    expect(issues.map((issue) => issue.message)).toEqual(['service is required', 'endpoint is required', 'method is required']);
    for (const issue of issues) expect(issue.message.length).toBeGreaterThan(0);
  });

  it('names the empty service and endpoint as required, and an endpoint that is not a path', () => {
    const issues = issuesOf(definitionInput([{ action_id: 'call', action_type: 'service_call', config: { service: '', endpoint: 'fetch', method: 'POST' } }]));
    expect(issues).toEqual([
      { field: 'actions[0].config.service', message: 'service is required' },
      { field: 'actions[0].config.endpoint', message: 'endpoint must be a path starting with /' },
    ]);
  });

  it('refuses an unknown HTTP method but accepts a lower-case known one, normalised to upper case', () => {
    const bad = issuesOf(definitionInput([{ action_id: 'call', action_type: 'service_call', config: { service: 's', endpoint: '/x', method: 'FETCH' } }]));
    expect(bad).toEqual([{ field: 'actions[0].config.method', message: 'method must be one of GET, POST, PUT, PATCH, DELETE' }]);
    const good = parseDefinition(definitionInput([{ action_id: 'call', action_type: 'service_call', config: { service: 's', endpoint: '/x', method: 'patch' } }]));
    const action = good.actions[0];
    expect(action?.action_type === 'service_call' ? action.config.method : undefined).toBe('PATCH');
  });

  it('refuses a notification without a message at actions[i].config.message', () => {
    const issues = issuesOf(definitionInput([ok(), { action_id: 'n', action_type: 'notification', config: { title: 'no body' } }]));
    expect(issues.map((issue) => issue.field)).toEqual(['actions[1].config.message']);
    const empty = issuesOf(definitionInput([{ action_id: 'n', action_type: 'notification', config: { message: '' } }]));
    expect(empty).toEqual([{ field: 'actions[0].config.message', message: 'message is required' }]);
  });

  it("reports a misspelt key such as 'depend_on' on the action instead of ignoring it", () => {
    const issues = issuesOf(definitionInput([ok(), { action_id: 'b', action_type: 'notification', config: { message: 'x' }, depend_on: ['only'] }]));
    expect(issues).toEqual([{ field: 'actions[1]', message: "unknown field 'depend_on'" }]);
  });

  it('reports unknown keys in configs, parameters and at the top level, naming every key', () => {
    const issues = issuesOf({
      ...definitionInput([{ action_id: 'a', action_type: 'notification', config: { message: 'x', mesage: 'typo' } }], [{ name: 'p', type: 'string', requird: true }]),
      owner: 'me',
      team: 'x',
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        { field: 'actions[0].config', message: "unknown field 'mesage'" },
        { field: 'parameters[0]', message: "unknown field 'requird'" },
        { field: '(body)', message: "unknown fields 'owner', 'team'" },
      ]),
    );
    expect(issues).toHaveLength(3);
  });

  it('refuses a workflow without actions and one whose body is not an object', () => {
    expect(issuesOf(definitionInput([]))).toEqual([{ field: 'actions', message: 'a workflow needs at least one action' }]);
    expect(issuesOf('not a workflow').map((issue) => issue.field)).toEqual(['(body)']);
    expect(issuesOf({ actions: [ok()] }).map((issue) => issue.field)).toEqual(['name']);
  });

  it('refuses action ids and parameter names that are not identifiers, at their paths', () => {
    const issues = issuesOf(definitionInput([notification('1st', 'x'), notification('a'.repeat(65), 'x'), notification('a'.repeat(64), 'x')], [{ name: 'has space', type: 'string' }]));
    expect(issues.map((issue) => issue.field)).toEqual(['parameters[0].name', 'actions[0].action_id', 'actions[1].action_id']);
    expect(issues[1]?.message).toMatch(/^action_id must start with a letter or underscore/);
  });

  it('refuses an unknown parameter type, listing the types', () => {
    const issues = issuesOf(definitionInput([ok()], [{ name: 'p', type: 'float' }]));
    expect(issues).toEqual([{ field: 'parameters[0].type', message: 'type must be one of string, integer, number, boolean, array, object' }]);
  });

  it('refuses depends_on that is not a list of strings', () => {
    expect(issuesOf(definitionInput([notification('a', 'x'), { ...notification('b', 'x'), depends_on: 'a' }])).map((issue) => issue.field)).toEqual(['actions[1].depends_on']);
    expect(issuesOf(definitionInput([notification('a', 'x'), { ...notification('b', 'x'), depends_on: [1] }]))).toEqual([
      { field: 'actions[1].depends_on[0]', message: 'depends_on entries must be action ids' },
    ]);
  });

  it('formats zod paths the way users write them, with an optional prefix', () => {
    expect(formatPath(['actions', 2, 'config', 'method'])).toBe('actions[2].config.method');
    expect(formatPath([0, 'a'])).toBe('[0].a');
    expect(formatPath([])).toBe('');
    const parsed = WorkflowDefinitionSchema.safeParse(definitionInput([{ action_id: 'a', action_type: 'notification', config: {} }]));
    expect(parsed.success).toBe(false);
    if (!parsed.success) {
      expect(zodIssues(parsed.error, 'customizations').map((issue) => issue.field)).toEqual(['customizations.actions[0].config.message']);
    }
    const wrong = WorkflowDefinitionSchema.safeParse(7);
    if (!wrong.success) expect(zodIssues(wrong.error, 'body').map((issue) => issue.field)).toEqual(['body']);
    expect(wrong.success).toBe(false);
  });
});

describe('identities and dependencies', () => {
  it('reports a duplicate action_id at the second occurrence, naming the first', () => {
    const issues = issuesOf(definitionInput([notification('fetch', 'a'), notification('other', 'b'), notification('fetch', 'c')]));
    expect(issues).toEqual([{ field: 'actions[2].action_id', message: "duplicate action_id 'fetch' (also actions[0])" }]);
  });

  // BUG: with duplicate ids, findCycles keys its edge map by id (the last declaration wins) and so misses the
  // loop through an earlier declaration; definitionIssues then runs transitiveDependencies, whose
  // topologicalOrder re-queues the duplicated id forever (graph.ts, the `ready` loop has no visited guard).
  // The call never returns and grows memory until the heap is exhausted: a denial of service on create/update.
  // Run in a worker with a small heap and a deadline so that the hang fails fast.
  const validateUrl = new URL('../../../core/workflow/validate.ts', import.meta.url);

  it('reports a duplicate action_id promptly even when one declaration depends on itself', async () => {
    const definition = parseDefinition(definitionInput([serviceCall('c', {}, ['c']), serviceCall('c')]));
    const result = await callInWorker(validateUrl, 'definitionIssues', definition, 5000);
    expect(result).toEqual({ outcome: 'returned', value: expect.arrayContaining([{ field: 'actions[1].action_id', message: "duplicate action_id 'c' (also actions[0])" }]) });
  });

  it('reports a duplicate action_id promptly when the duplicate hides a 2-cycle', async () => {
    const definition = parseDefinition(definitionInput([serviceCall('a', {}, ['b']), serviceCall('b', {}, ['a']), serviceCall('a')]));
    const result = await callInWorker(validateUrl, 'definitionIssues', definition, 5000);
    expect(result).toEqual({ outcome: 'returned', value: expect.arrayContaining([{ field: 'actions[2].action_id', message: "duplicate action_id 'a' (also actions[0])" }]) });
  });

  it('reports duplicate action ids that do not depend on each other, in a worker too (control for the tests above)', async () => {
    const definition = parseDefinition(definitionInput([serviceCall('a'), serviceCall('b', {}, ['a']), serviceCall('a')]));
    const result = await callInWorker(validateUrl, 'definitionIssues', definition, 5000);
    expect(result).toEqual({ outcome: 'returned', value: [{ field: 'actions[2].action_id', message: "duplicate action_id 'a' (also actions[0])" }] });
  });

  it('reports a duplicate parameter name at the second occurrence, naming the first', () => {
    const issues = issuesOf(definitionInput([ok()], [{ name: 'p', type: 'string' }, { name: 'p', type: 'integer' }]));
    expect(issues).toEqual([{ field: 'parameters[1].name', message: "duplicate parameter name 'p' (also parameters[0])" }]);
  });

  it('reports depends_on naming a missing action at that entry, naming the missing action', () => {
    const issues = issuesOf(definitionInput([notification('a', 'x'), notification('b', 'x', ['a', 'ghost'])]));
    expect(issues).toEqual([{ field: 'actions[1].depends_on[1]', message: "depends on 'ghost', which is not an action in this workflow" }]);
  });

  it('reports an action listed twice in one depends_on', () => {
    const issues = issuesOf(definitionInput([notification('a', 'x'), notification('b', 'x', ['a', 'a'])]));
    expect(issues).toEqual([{ field: 'actions[1].depends_on[1]', message: "'a' is listed twice" }]);
  });

  it('reports a self-dependency as a cycle naming the action', () => {
    const issues = issuesOf(definitionInput([ok(), notification('loop', 'x', ['loop'])]));
    expect(issues).toEqual([{ field: 'actions[1].depends_on', message: 'dependency cycle: loop -> loop' }]);
  });

  it('reports a 2-cycle once, naming both actions', () => {
    const issues = issuesOf(definitionInput([notification('start', 'x'), notification('b', 'x', ['a', 'start']), notification('a', 'x', ['b'])]));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toBe('dependency cycle: a -> b -> a');
    expect(issues[0]?.field).toBe('actions[2].depends_on');
  });

  it('reports a 3-cycle once, naming every action in dependency order', () => {
    const issues = issuesOf(definitionInput([notification('x', 'x', ['y']), notification('y', 'x', ['z']), notification('z', 'x', ['x']), notification('free', 'x', ['x'])]));
    expect(issues).toEqual([{ field: 'actions[0].depends_on', message: 'dependency cycle: x -> y -> z -> x' }]);
  });

  it('reports each of two independent cycles separately', () => {
    const issues = issuesOf(definitionInput([notification('a', 'x', ['b']), notification('b', 'x', ['a']), notification('c', 'x', ['c'])]));
    expect(issues.map((issue) => issue.message).sort()).toEqual(['dependency cycle: a -> b -> a', 'dependency cycle: c -> c']);
  });
});

describe('template references', () => {
  const params = [
    { name: 'url', type: 'string' },
    { name: 'options', type: 'object' },
  ];

  it('accepts parameters, upstream outputs, nested response fields, status codes and execution fields', () => {
    const issues = issuesOf(
      definitionInput(
        [
          serviceCall('fetch', { url: '{{url}}', depth: '{{ options.depth }}' }),
          serviceCall('analyze', { body: '{{fetch.response}}', title: '{{fetch.response.a.b}}', first: '{{fetch.response.items[0].id}}', code: '{{fetch.status_code}}' }, ['fetch']),
          notification('notify', 'run {{execution.id}} of {{execution.workflow_id}} v{{execution.workflow_version}} at {{execution.started_at}}: {{analyze.response.score}}', ['analyze']),
        ],
        params,
      ),
    );
    expect(issues).toEqual([]);
  });

  it('accepts a reference to an action reachable only transitively', () => {
    const issues = issuesOf(definitionInput([serviceCall('a'), serviceCall('b', {}, ['a']), serviceCall('c', { from_a: '{{a.response.value}}' }, ['b'])]));
    expect(issues).toEqual([]);
  });

  it('refuses a reference to an undeclared name at the exact config path, naming it', () => {
    const issues = issuesOf(definitionInput([serviceCall('fetch', { nested: { list: ['ok', '{{document_url}}'] } })], params));
    expect(issues).toEqual([
      { field: 'actions[0].config.parameters.nested.list[1]', message: "{{document_url}} names neither a declared parameter nor an action: 'document_url' is unknown" },
    ]);
  });

  it('refuses a reference to an existing action that is not upstream, naming both actions', () => {
    const issues = issuesOf(definitionInput([serviceCall('a'), serviceCall('b', { x: '{{a.response}}' })]));
    expect(issues).toEqual([
      { field: 'actions[1].config.parameters.x', message: "{{a.response}} refers to action 'a', which 'b' does not depend on (add 'a' to its depends_on)" },
    ]);
  });

  it('refuses a reference to a downstream action (the reverse direction of depends_on)', () => {
    const issues = issuesOf(definitionInput([serviceCall('a', { x: '{{b.response}}' }), serviceCall('b', {}, ['a'])]));
    expect(issues.map((issue) => issue.field)).toEqual(['actions[0].config.parameters.x']);
    expect(issues[0]?.message).toContain("'a' does not depend on");
  });

  it('refuses a reference from an action to its own output', () => {
    const issues = issuesOf(definitionInput([notification('a', '{{a.status_code}}')]));
    expect(issues).toEqual([{ field: 'actions[0].config.message', message: "{{a.status_code}} refers to action 'a' itself; an action can only use the outputs of actions it depends on" }]);
  });

  it('refuses an action reference that does not name response or status_code', () => {
    const issues = issuesOf(definitionInput([serviceCall('a'), notification('b', '{{a}} and {{a.body}} and {{a.status_code.value}}', ['a'])]));
    expect(issues.map((issue) => issue.field)).toEqual(['actions[1].config.message', 'actions[1].config.message', 'actions[1].config.message']);
    expect(issues[0]?.message).toBe("{{a}} must name an output of 'a': {{a.response}}, {{a.response.<field>}} or {{a.status_code}}");
    expect(issues[1]?.message).toMatch(/^\{\{a\.body\}\} must name an output of 'a'/);
    expect(issues[2]?.message).toBe('{{a.status_code.value}} reads a field of status_code, which is a number and has none');
  });

  it('refuses a field path into a parameter that is a string, number or boolean, and allows one into an object', () => {
    const issues = issuesOf(
      definitionInput(
        [notification('n', '{{text.length}} {{count[0]}} {{options.depth}} {{items[1]}}')],
        [
          { name: 'text', type: 'string' },
          { name: 'count', type: 'integer' },
          { name: 'options', type: 'object' },
          { name: 'items', type: 'array' },
        ],
      ),
    );
    expect(issues).toEqual([
      { field: 'actions[0].config.message', message: "{{text.length}} reads a field of parameter 'text', which is a string and has none" },
      { field: 'actions[0].config.message', message: "{{count[0]}} reads a field of parameter 'count', which is an integer and has none" },
    ]);
  });

  it('still reports broken references when the definition also has a cycle', () => {
    const issues = issuesOf(definitionInput([serviceCall('a', { q: '{{nowhere}}' }, ['b']), serviceCall('b', {}, ['a'])]));
    expect(issues.map((issue) => issue.message)).toEqual(['dependency cycle: a -> b -> a', "{{nowhere}} names neither a declared parameter nor an action: 'nowhere' is unknown"]);
  });

  it('refuses execution fields that do not exist, listing the ones that do', () => {
    const issues = issuesOf(definitionInput([notification('a', '{{execution.nope}} {{execution}} {{execution.id.more}}')]));
    expect(issues.map((issue) => issue.message.split(' ')[0])).toEqual(['{{execution.nope}}', '{{execution}}', '{{execution.id.more}}']);
    for (const issue of issues) {
      expect(issue.field).toBe('actions[0].config.message');
      expect(issue.message).toContain('{{execution.id}}, {{execution.started_at}}, {{execution.workflow_id}}, {{execution.workflow_version}}');
    }
  });

  it('checks references in every config string: headers, titles, recipients and object keys', () => {
    const issues = issuesOf(
      definitionInput([
        { action_id: 'call', action_type: 'service_call', config: { service: 's', endpoint: '/x', method: 'GET', headers: { 'X-Token': '{{token}}' }, parameters: { '{{key}}': 1 } } },
        { action_id: 'note', action_type: 'notification', config: { message: 'm', title: '{{title}}', recipients: ['ops', '{{who}}'] } },
      ]),
    );
    expect(issues.map((issue) => [issue.field, issue.message.split(' ')[0]])).toEqual([
      ['actions[0].config.parameters.{{key}}', '{{key}}'],
      ['actions[0].config.headers.X-Token', '{{token}}'],
      ['actions[1].config.title', '{{title}}'],
      ['actions[1].config.recipients[1]', '{{who}}'],
    ]);
  });

  it('reports template syntax problems at the field holding the string', () => {
    const issues = issuesOf(definitionInput([notification('a', 'hello {{ not a path }}'), notification('b', 'open {{ brace')]));
    expect(issues).toEqual([
      { field: 'actions[0].config.message', message: 'template {{ not a path }} is not a reference: use {{parameter}}, {{action_id.response.field}} or {{execution.id}}' },
      { field: 'actions[1].config.message', message: 'unbalanced template braces in "open {{ brace"' },
    ]);
  });
});

describe('reserved and clashing names', () => {
  it("refuses a parameter named 'execution'", () => {
    const issues = issuesOf(definitionInput([ok()], [{ name: 'execution', type: 'string' }]));
    expect(issues).toEqual([{ field: 'parameters[0].name', message: "'execution' is reserved for {{execution.*}} references" }]);
  });

  it("refuses an action named 'execution'", () => {
    const issues = issuesOf(definitionInput([ok(), notification('execution', 'x')]));
    expect(issues).toEqual([{ field: 'actions[1].action_id', message: "'execution' is reserved for {{execution.*}} references" }]);
  });

  it('refuses an action_id that is also a parameter name, since the reference would be ambiguous', () => {
    const issues = issuesOf(definitionInput([notification('fetch', 'x')], [{ name: 'fetch', type: 'string' }]));
    expect(issues).toEqual([{ field: 'actions[0].action_id', message: "action_id 'fetch' is also a parameter name, so {{fetch}} would be ambiguous" }]);
  });
});

describe('parameter defaults and enums', () => {
  const param = (declaration: Record<string, unknown>) => issuesOf(definitionInput([ok()], [{ name: 'p', ...declaration }]));

  it.each([
    ['string', 5, 'expected a string, got the integer 5'],
    ['integer', 1.5, 'expected an integer, got the number 1.5'],
    ['integer', '3', 'expected an integer, got the string "3"'],
    ['number', '1', 'expected a number, got the string "1"'],
    ['boolean', 'true', 'expected a boolean, got the string "true"'],
    ['boolean', 0, 'expected a boolean, got the integer 0'],
    ['array', { a: 1 }, 'expected an array, got an object'],
    ['object', [1], 'expected an object, got an array'],
    ['object', null, 'expected an object, got null'],
    ['string', null, 'expected a string, got null'],
  ] as const)('refuses a %s parameter whose default is %j', (type, value, expected) => {
    expect(param({ type, default: value })).toEqual([{ field: 'parameters[0].default', message: `default does not match type ${type}: ${expected}` }]);
  });

  it.each([
    ['string', ''],
    ['integer', -7],
    ['integer', 0],
    ['number', 2.5],
    ['number', 3],
    ['boolean', false],
    ['array', []],
    ['object', {}],
  ] as const)('accepts a %s parameter whose default is %j', (type, value) => {
    expect(param({ type, default: value })).toEqual([]);
  });

  it('refuses an integer beyond the safe range', () => {
    expect(param({ type: 'integer', default: 2 ** 53 })).toHaveLength(1);
    expect(param({ type: 'integer', default: 2 ** 53 - 1 })).toEqual([]);
  });

  it('reports each enum value that does not match the type, by index', () => {
    expect(param({ type: 'integer', enum: [1, 'two', 3, 4.5] })).toEqual([
      { field: 'parameters[0].enum', message: 'enum[1] does not match type integer: expected an integer, got the string "two"' },
      { field: 'parameters[0].enum', message: 'enum[3] does not match type integer: expected an integer, got the number 4.5' },
    ]);
  });

  it('refuses a default that is not one of the enum values', () => {
    expect(param({ type: 'string', enum: ['basic', 'comprehensive'], default: 'deep' })).toEqual([
      { field: 'parameters[0].default', message: 'default "deep" is not one of the enum values' },
    ]);
  });

  it('accepts a default equal to an enum value, comparing objects structurally and ignoring key order', () => {
    expect(param({ type: 'string', enum: ['basic', 'comprehensive'], default: 'basic' })).toEqual([]);
    expect(param({ type: 'object', enum: [{ a: 1, b: [1, 2] }], default: { b: [1, 2], a: 1 } })).toEqual([]);
    expect(param({ type: 'object', enum: [{ a: 1, b: [1, 2] }], default: { a: 1, b: [2, 1] } })).toHaveLength(1);
  });

  it('refuses an empty enum', () => {
    expect(param({ type: 'string', enum: [] })).toEqual([{ field: 'parameters[0].enum', message: 'enum must list at least one value' }]);
  });

  it('reports both a mistyped default and its absence from the enum', () => {
    const issues = param({ type: 'integer', enum: [1, 2], default: 'one' });
    expect(issues).toEqual([
      { field: 'parameters[0].default', message: 'default does not match type integer: expected an integer, got the string "one"' },
      { field: 'parameters[0].default', message: 'default "one" is not one of the enum values' },
    ]);
  });
});

describe('parameter value helpers', () => {
  /** JSON text with object keys sorted, so that equal values have equal text. */
  const canonical = (value: unknown): string =>
    JSON.stringify(value, (_key, inner: unknown) =>
      inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : inner,
    );
  const hasProtoKey = (value: unknown): boolean => JSON.stringify(value).includes('"__proto__"');

  it('jsonEqual agrees with comparing canonical JSON, in both directions', () => {
    // Values with a "__proto__" key have their own test below.
    const valueArb = fc.jsonValue({ maxDepth: 3 }).filter((value) => !hasProtoKey(value));
    fc.assert(
      fc.property(valueArb, valueArb, (a, b) => {
        const expected = canonical(a) === canonical(b);
        expect(jsonEqual(a, b)).toBe(expected);
        expect(jsonEqual(b, a)).toBe(expected);
        expect(jsonEqual(a, structuredClone(a))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('jsonEqual holds between a value and a copy with every object’s keys reversed', () => {
    const reversed = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reversed)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).reverse().map(([key, inner]) => [key, reversed(inner)]))
          : value;
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 3 }).filter((value) => !hasProtoKey(value)),
        (value) => {
          expect(jsonEqual(value, reversed(value))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('jsonEqual ignores key order and distinguishes arrays from objects and null from objects', () => {
    expect(jsonEqual({ a: 1, b: { c: [1, { d: 2 }] } }, { b: { c: [1, { d: 2 }] }, a: 1 })).toBe(true);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual({}, [])).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
    expect(jsonEqual({ a: null }, { b: null })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
  });

  // BUG (core/workflow/parameters.ts, jsonEqual): keys are looked up with `key in bObject`, which also sees
  // inherited properties. For a JSON object with an own "__proto__" key (as JSON.parse produces), `'__proto__' in b`
  // is true for every object and b.__proto__ is Object.prototype, which has no own enumerable keys, so it
  // "equals" {}: jsonEqual(JSON.parse('{"__proto__":{}}'), { y: 5 }) is true while the reverse is false.
  it('jsonEqual tells an object with an own "__proto__" key from a different object', () => {
    const withProto: unknown = JSON.parse('{"__proto__":{}}');
    expect(jsonEqual(withProto, { y: 5 })).toBe(false);
  });

  it('typeMismatch refuses non-finite numbers and unsafe integers', () => {
    expect(typeMismatch('number', Number.NaN)).toBe('expected a number, got the number NaN');
    expect(typeMismatch('number', Number.POSITIVE_INFINITY)).toBe('expected a number, got the number Infinity');
    expect(typeMismatch('integer', Number.MAX_SAFE_INTEGER)).toBeUndefined();
    expect(typeMismatch('integer', Number.MAX_SAFE_INTEGER + 1)).toBeDefined();
  });
});

describe('all problems at once', () => {
  it('collects every whole-definition problem of one definition, in declaration order', () => {
    const issues = issuesOf(
      definitionInput(
        [
          serviceCall('fetch', { url: '{{document_url}}' }),
          serviceCall('fetch', {}),
          serviceCall('analyze', { body: '{{fetch.response}}', other: '{{report.response}}' }, ['missing']),
          notification('report', 'done', ['analyze']),
        ],
        [
          { name: 'limit', type: 'integer', default: 'ten' },
          { name: 'limit', type: 'integer' },
        ],
      ),
    );
    expect(issues).toEqual([
      { field: 'parameters[0].default', message: 'default does not match type integer: expected an integer, got the string "ten"' },
      { field: 'parameters[1].name', message: "duplicate parameter name 'limit' (also parameters[0])" },
      { field: 'actions[1].action_id', message: "duplicate action_id 'fetch' (also actions[0])" },
      { field: 'actions[2].depends_on[0]', message: "depends on 'missing', which is not an action in this workflow" },
      { field: 'actions[0].config.parameters.url', message: "{{document_url}} names neither a declared parameter nor an action: 'document_url' is unknown" },
      { field: 'actions[2].config.parameters.body', message: "{{fetch.response}} refers to action 'fetch', which 'analyze' does not depend on (add 'fetch' to its depends_on)" },
      { field: 'actions[2].config.parameters.other', message: "{{report.response}} refers to action 'report', which 'analyze' does not depend on (add 'report' to its depends_on)" },
    ]);
  });

  it('collects every structural problem of one definition at once', () => {
    const issues = issuesOf({
      name: '',
      actions: [
        { action_id: 'a', action_type: 'service_call', config: { service: 's', endpoint: '/x' } },
        { action_id: 'b', action_type: 'email', config: {} },
        { action_id: 'c', action_type: 'notification', config: {}, depend_on: [] },
      ],
    });
    expect(issues.map((issue) => issue.field).sort()).toEqual(['actions[0].config.method', 'actions[1].action_type', 'actions[2]', 'actions[2].config.message', 'name'].sort());
  });

  it('assertValidDefinition throws one ValidationError carrying every issue, summarised in the message', () => {
    const definition = parseDefinition(definitionInput([notification('a', '{{x}}'), notification('a', '{{y}}')]));
    const error = thrownBy(() => assertValidDefinition(definition));
    expect(error).toBeInstanceOf(ValidationError);
    const details = (error as ValidationError).details;
    expect(details).toEqual(definitionIssues(definition));
    expect(details).toHaveLength(3);
    expect((error as ValidationError).message).toBe(`${details[0]?.field}: ${details[0]?.message} (and 2 more problems)`);
  });

  it('assertValidDefinition returns quietly for a valid definition', () => {
    expect(() => assertValidDefinition(parseDefinition(definitionInput([ok()])))).not.toThrow();
  });
});

describe('size limit', () => {
  /** A valid definition whose serialised body is exactly `bytes` long, padded with `filler`. */
  function definitionOfSize(bytes: number, filler = 'x') {
    const base = parseDefinition(definitionInput([serviceCall('big', { blob: '' })]));
    const baseBytes = Buffer.byteLength(JSON.stringify({ parameters: base.parameters, actions: base.actions }), 'utf8');
    const fillerBytes = Buffer.byteLength(filler, 'utf8');
    const padding = bytes - baseBytes;
    if (padding % fillerBytes !== 0) throw new Error(`cannot reach ${bytes} bytes with ${JSON.stringify(filler)}`);
    const definition = parseDefinition(definitionInput([serviceCall('big', { blob: filler.repeat(padding / fillerBytes) })]));
    expect(Buffer.byteLength(JSON.stringify({ parameters: definition.parameters, actions: definition.actions }), 'utf8')).toBe(bytes);
    return definition;
  }

  it('is 350 KiB', () => {
    expect(MAX_DEFINITION_BYTES).toBe(350 * 1024);
  });

  it('accepts a definition of exactly the limit, and one just under', () => {
    expect(() => assertDefinitionFits(definitionOfSize(MAX_DEFINITION_BYTES))).not.toThrow();
    expect(() => assertValidDefinition(definitionOfSize(MAX_DEFINITION_BYTES - 1))).not.toThrow();
  });

  it('refuses a definition one byte over the limit with PayloadTooLargeError naming the byte count', () => {
    const over = MAX_DEFINITION_BYTES + 1;
    const error = thrownBy(() => assertValidDefinition(definitionOfSize(over)));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect((error as PayloadTooLargeError).message).toContain(`${over} bytes`);
    expect((error as PayloadTooLargeError).message).toContain(`${MAX_DEFINITION_BYTES} bytes`);
    expect((error as PayloadTooLargeError).details).toEqual([{ field: 'actions', message: `definition is ${over} bytes, over the ${MAX_DEFINITION_BYTES}-byte limit` }]);
  });

  it('counts UTF-8 bytes, not characters', () => {
    // Two bytes per character: under the limit in characters, over it in bytes.
    const definition = definitionOfSize(MAX_DEFINITION_BYTES + 2, 'é');
    expect(JSON.stringify({ parameters: definition.parameters, actions: definition.actions }).length).toBeLessThan(MAX_DEFINITION_BYTES);
    expect(thrownBy(() => assertDefinitionFits(definition))).toBeInstanceOf(PayloadTooLargeError);
  });

  it('reports validation problems before the size', () => {
    const definition = parseDefinition(definitionInput([serviceCall('big', { blob: 'x'.repeat(MAX_DEFINITION_BYTES), bad: '{{nope}}' })]));
    expect(thrownBy(() => assertValidDefinition(definition))).toBeInstanceOf(ValidationError);
  });
});
