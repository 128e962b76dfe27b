import { describe, expect, it } from 'vitest';
import { resolveParameters } from '../../../../core/execution/parameters.ts';
import { ParameterSchema, type Parameter } from '../../../../core/workflow/definition.ts';

const declare = (input: Record<string, unknown>): Parameter => ParameterSchema.parse(input);

describe('resolving the parameters a run starts with', () => {
  const declared = [
    declare({ name: 'pr_number', type: 'integer', required: true }),
    declare({ name: 'repository', type: 'string', required: true }),
    declare({ name: 'depth', type: 'string', enum: ['basic', 'comprehensive'], default: 'comprehensive' }),
    declare({ name: 'options', type: 'object' }),
  ];

  it('keeps given values with their types, fills defaults, and sets optional ones left out to null', () => {
    expect(resolveParameters(declared, { pr_number: 42, repository: 'org/repo' })).toEqual({
      values: { pr_number: 42, repository: 'org/repo', depth: 'comprehensive', options: null },
      issues: [],
      warnings: [],
    });
  });

  it('keeps an undeclared parameter as given, as the reference service did, with a warning naming it', () => {
    const { values, issues, warnings } = resolveParameters(declared, { pr_number: 42, repository: 'org/repo', analysis_type: 'comprehensive' });
    expect(issues).toEqual([]);
    expect(values.analysis_type).toBe('comprehensive');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('analysis_type');
    expect(warnings[0]).toContain('strict_parameters');
  });

  it('with strict_parameters names every missing, mistyped, out-of-enum and undeclared parameter', () => {
    const { issues, warnings } = resolveParameters(declared, { pr_number: '42', depth: 'deep', colour: 'red' }, true);
    expect(warnings).toEqual([]);
    expect(issues.map((issue) => issue.field)).toEqual(['parameters.colour', 'parameters.pr_number', 'parameters.repository', 'parameters.depth']);
    expect(issues[1]?.message).toContain('integer');
    expect(issues[3]?.message).toContain('"basic", "comprehensive"');
  });

  it('refuses a fractional number for an integer and accepts it for a number', () => {
    const numbers = [declare({ name: 'n', type: 'integer', required: true }), declare({ name: 'x', type: 'number', required: true })];
    expect(resolveParameters(numbers, { n: 1.5, x: 1.5 }).issues.map((issue) => issue.field)).toEqual(['parameters.n']);
  });
});
