import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collectTemplates, isSingleReference, parsePath, parseTemplateString, type PathSegment } from '../../../core/workflow/templates.ts';

const NOT_A_REFERENCE = 'is not a reference: use {{parameter}}, {{action_id.response.field}} or {{execution.id}}';

describe('parsePath', () => {
  it.each([
    ['document_url', ['document_url']],
    ['options.depth', ['options', 'depth']],
    ['fetch_doc.response.content', ['fetch_doc', 'response', 'content']],
    ['fetch.response.items[0]', ['fetch', 'response', 'items', 0]],
    ['fetch.response.matrix[1][22].cell', ['fetch', 'response', 'matrix', 1, 22, 'cell']],
    ['list[3]', ['list', 3]],
    ['rows.0.name', ['rows', 0, 'name']],
    ['a-b.c_d._e', ['a-b', 'c_d', '_e']],
  ] as const)('parses %s', (expression, expected) => {
    expect(parsePath(expression)).toEqual(expected);
  });

  it.each([
    [''],
    ['0'],
    ['0.name'],
    ['[0]'],
    ['a..b'],
    ['a.'],
    ['.a'],
    ['a[x]'],
    ['a[-1]'],
    ['a[0]b'],
    ['a[0'],
    ['a]'],
    ['a b'],
    ['1st'],
    ['a.-b'],
    ['a + b'],
    ["a['b']"],
  ])('refuses %j', (expression) => {
    expect(parsePath(expression)).toBeUndefined();
  });

  const identifierArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,8}$/);
  const segmentsArb = fc.tuple(identifierArb, fc.array(fc.oneof(identifierArb, fc.nat({ max: 999 })), { maxLength: 6 }));

  it('round-trips any path written with dots for names and brackets for indexes', () => {
    fc.assert(
      fc.property(segmentsArb, ([root, rest]) => {
        const text = root + rest.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${segment}`)).join('');
        expect(parsePath(text)).toEqual([root, ...rest]);
      }),
      { numRuns: 200 },
    );
  });

  it('reads a numeric dotted segment as an index, like the bracketed form', () => {
    fc.assert(
      fc.property(identifierArb, fc.nat({ max: 999 }), (root, index) => {
        const expected: PathSegment[] = [root, index];
        expect(parsePath(`${root}.${index}`)).toEqual(expected);
        expect(parsePath(`${root}[${index}]`)).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });
});

describe('parseTemplateString', () => {
  it('finds one reference with its raw text, root and path', () => {
    expect(parseTemplateString('{{fetch.response.items[2].id}}', 'f')).toEqual({
      refs: [{ raw: '{{fetch.response.items[2].id}}', root: 'fetch', path: ['response', 'items', 2, 'id'] }],
      issues: [],
    });
  });

  it('ignores whitespace inside the braces but keeps it in the raw text', () => {
    expect(parseTemplateString('{{  options.depth\t}}', 'f')).toEqual({ refs: [{ raw: '{{  options.depth\t}}', root: 'options', path: ['depth'] }], issues: [] });
  });

  it('finds several references in one string, in order, between literal text', () => {
    const { refs, issues } = parseTemplateString('Hi {{user.name}}, run {{execution.id}} used {{ fetch.status_code }}.', 'f');
    expect(issues).toEqual([]);
    expect(refs.map((ref) => [ref.root, ...ref.path])).toEqual([
      ['user', 'name'],
      ['execution', 'id'],
      ['fetch', 'status_code'],
    ]);
  });

  it('finds nothing in text without braces, and accepts single braces as literal text', () => {
    expect(parseTemplateString('plain {json: "body"} text', 'f')).toEqual({ refs: [], issues: [] });
  });

  it.each([['{{a'], ['a}}'], ['{{a}'], ['{a}}'], ['{{a}} and {{b'], ['{{a{{b}}}}'], ['}}{{']])('reports unbalanced braces in %j at the given field', (text) => {
    const { issues } = parseTemplateString(text, 'config.message');
    expect(issues).toContainEqual({ field: 'config.message', message: `unbalanced template braces in ${JSON.stringify(text)}` });
  });

  it('truncates long text in the unbalanced-brace message', () => {
    const text = `{{${'x'.repeat(200)}`;
    const { issues } = parseTemplateString(text, 'f');
    expect(issues).toEqual([{ field: 'f', message: `unbalanced template braces in ${JSON.stringify(`${text.slice(0, 77)}...`)}` }]);
  });

  it.each([['{{}}'], ['{{ }}'], ['{{a + b}}'], ['{{1abc}}'], ['{{a.}}'], ['{{ fn(x) }}'], ['{{a b}}'], ['{{"quoted"}}']])('reports %j as not a reference', (text) => {
    expect(parseTemplateString(`before ${text} after`, 'f')).toEqual({ refs: [], issues: [{ field: 'f', message: `template ${text} ${NOT_A_REFERENCE}` }] });
  });

  it('keeps the good references of a string that also holds a bad one', () => {
    const { refs, issues } = parseTemplateString('{{good}} {{ bad one }} {{also.good}}', 'f');
    expect(refs.map((ref) => ref.raw)).toEqual(['{{good}}', '{{also.good}}']);
    expect(issues).toHaveLength(1);
  });

  it('finds exactly the references placed between arbitrary brace-free text', () => {
    const literalArb = fc.string().filter((text) => !text.includes('{') && !text.includes('}'));
    const refArb = fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}(\.[a-z_][a-z0-9_]{0,6}|\[[0-9]{1,3}\]){0,3}$/);
    fc.assert(
      fc.property(literalArb, fc.array(fc.tuple(refArb, literalArb), { maxLength: 5 }), (head, parts) => {
        const text = head + parts.map(([ref, literal]) => `{{${ref}}}${literal}`).join('');
        const { refs, issues } = parseTemplateString(text, 'f');
        expect(issues).toEqual([]);
        expect(refs.map((ref) => ref.raw)).toEqual(parts.map(([ref]) => `{{${ref}}}`));
        expect(refs.map((ref) => [ref.root, ...ref.path])).toEqual(parts.map(([ref]) => parsePath(ref)));
      }),
      { numRuns: 150 },
    );
  });
});

describe('isSingleReference', () => {
  it.each([
    ['{{a}}', true],
    ['{{ a.b[0] }}', true],
    ['  {{a}}  ', true],
    ['{{a}}{{b}}', false],
    ['x{{a}}', false],
    ['{{a}} x', false],
    ['{{a}} {{a}}', false],
    ['a', false],
    ['', false],
    ['{{a}', false],
  ] as const)('%j -> %s', (text, expected) => {
    expect(isSingleReference(text)).toBe(expected);
  });
});

describe('collectTemplates', () => {
  it('reports every reference with the path of the string holding it, through objects and arrays', () => {
    const config = {
      service: 'svc',
      parameters: {
        url: '{{document_url}}',
        nested: { list: ['plain', '{{a.response}} and {{b.status_code}}', [{ deep: '{{execution.id}}' }]] },
      },
      headers: { 'X-Id': '{{ id }}' },
      count: 3,
      flag: true,
      nothing: null,
    };
    const { occurrences, issues } = collectTemplates(config, 'actions[4].config');
    expect(issues).toEqual([]);
    expect(occurrences.map(({ ref, field }) => [field, ref.raw])).toEqual([
      ['actions[4].config.parameters.url', '{{document_url}}'],
      ['actions[4].config.parameters.nested.list[1]', '{{a.response}}'],
      ['actions[4].config.parameters.nested.list[1]', '{{b.status_code}}'],
      ['actions[4].config.parameters.nested.list[2][0].deep', '{{execution.id}}'],
      ['actions[4].config.headers.X-Id', '{{ id }}'],
    ]);
  });

  it('reports references in object keys, at the key’s own path', () => {
    const { occurrences } = collectTemplates({ body: { '{{key}}': 'value {{v}}' } }, 'config');
    expect(occurrences.map(({ ref, field }) => [field, ref.root])).toEqual([
      ['config.body.{{key}}', 'key'],
      ['config.body.{{key}}', 'v'],
    ]);
  });

  it('collects syntax problems from every string with their paths', () => {
    const { occurrences, issues } = collectTemplates({ a: ['{{ok}}', '{{'], b: { c: '{{ not ok }}' } }, 'config');
    expect(occurrences.map(({ field }) => field)).toEqual(['config.a[0]']);
    expect(issues).toEqual([
      { field: 'config.a[1]', message: 'unbalanced template braces in "{{"' },
      { field: 'config.b.c', message: `template {{ not ok }} ${NOT_A_REFERENCE}` },
    ]);
  });

  it('walks a top-level string or array', () => {
    expect(collectTemplates('{{x}}', 'root').occurrences.map(({ field }) => field)).toEqual(['root']);
    expect(collectTemplates(['a', '{{x}}'], 'root').occurrences.map(({ field }) => field)).toEqual(['root[1]']);
  });

  it('finds no reference in values whose text holds no {{', () => {
    fc.assert(
      fc.property(fc.jsonValue().filter((value) => !JSON.stringify(value).includes('{{')), (value) => {
        expect(collectTemplates(value, 'x').occurrences).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});
