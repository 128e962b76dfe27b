import { describe, expect, it } from 'vitest';
import { renderDeferredValues, templateRefs, TemplateValueError } from '../../../../core/execution/deferred-values.ts';

/** A gated call's deferred values, rendered from its release (ADR 0016) as Step Functions would have rendered them. */
describe('renderDeferredValues', () => {
  const outputs = { build: { outcome: 'completed', status_code: 200, response: { image: 'app:1', size: 3, tags: ['a', 'b'], meta: { ok: true }, empty: null } } };

  it('keeps the type of a value that is one reference, and renders text as States.Format does', () => {
    const call = {
      service: 'svc',
      parameters: {
        size: { template: '{{build.response.size}}', values: {} },
        tags: { template: '{{ build.response.tags }}', values: {} },
        text: { template: '{{p}}/{{build.response.image}} n={{build.response.size}} {{build.response.empty}} {{build.response.meta}} {{bad expression}}', values: { r0: 'P' } },
        list: { template: ['{{build.response.tags[1]}}', 2, { in: '{{p}}-{{build.status_code}}' }], values: { r1: 'Q' } },
        fixed: 'untouched {{build.response.image}}',
      },
    };
    const rendered = renderDeferredValues(call, [['parameters', 'size'], ['parameters', 'tags'], ['parameters', 'text'], ['parameters', 'list']], outputs);
    expect(rendered).toEqual({
      service: 'svc',
      parameters: { size: 3, tags: ['a', 'b'], text: 'P/app:1 n=3 null {"ok":true} {{bad expression}}', list: ['b', 2, { in: 'Q-200' }], fixed: 'untouched {{build.response.image}}' },
    });
    // The call it was given is left as it was.
    expect(call.parameters.size).toEqual({ template: '{{build.response.size}}', values: {} });
  });

  it('fails with TemplateValueError when the release lacks what a value reads, or nothing is deferred where it says', () => {
    const call = { parameters: { v: { template: '{{build.response.missing}}', values: {} }, w: { template: '{{test.response}}', values: {} } } };
    expect(() => renderDeferredValues(call, [['parameters', 'v']], outputs)).toThrow(new TemplateValueError('{{build.response.missing}}: the output of build has no response.missing'));
    expect(() => renderDeferredValues(call, [['parameters', 'w']], outputs)).toThrow('test is not among the outputs the gate released');
    expect(() => renderDeferredValues(call, [['parameters', 'x']], outputs)).toThrow('no deferred value at parameters.x');
  });

  it('numbers references in the order they are rendered', () => {
    expect(templateRefs({ a: '{{x}} {{y.z}}', b: ['{{w[0]}}'] }).map((ref) => ref.raw)).toEqual(['{{x}}', '{{y.z}}', '{{w[0]}}']);
  });
});
