import { describe, expect, it } from 'vitest';
import { SYSTEM_WORKFLOW_NAMES, systemWorkflowDefinition, systemWorkflowId } from '../../../core/ecosystem/system-workflows.ts';
import { ingestionParameters, SourceRequestSchema } from '../../../core/ecosystem/sources.ts';
import { definitionIssues } from '../../../core/workflow/validate.ts';
import { compileWorkflow } from '../../../statemachines/compile.ts';
import { resolveParameters } from '../../../core/execution/parameters.ts';
import { storedWorkflow } from '../../support/workflows.ts';
import { JOBS, JOB_NAMES } from '../../../core/ecosystem/service.ts';
import { parseScheduleExpression } from '../../../core/schedules/expression.ts';

describe('system workflows', () => {
  it.each(SYSTEM_WORKFLOW_NAMES)('%s validates and compiles to a state machine', (name) => {
    const definition = systemWorkflowDefinition(name);
    expect(definitionIssues(definition)).toEqual([]);
    const compiled = compileWorkflow(storedWorkflow(systemWorkflowId(name), {}, definition));
    expect(Object.keys(compiled.definition.States).length).toBeGreaterThan(0);
  });

  it('gets one id per tenant, the default tenant without a suffix', () => {
    expect(systemWorkflowId('ingestion')).toBe('system-ingestion');
    expect(systemWorkflowId('recalc_quality', 'acme')).toBe('system-recalc-quality--acme');
  });

  it('turns a list of sources into one list of scopes per source that the ingestion workflow accepts', () => {
    const sources = [
      { source: 'github', scope: { repo: 'a/b' } },
      { source: 'github', scope: { repo: 'a/c' } },
      { source: 'swagger', scope: { url: 'https://x.example/openapi.json' } },
    ].map((request) => SourceRequestSchema.parse(request));
    const parameters = ingestionParameters(sources, 'c-1', true);
    expect(parameters).toEqual({ correlation_id: 'c-1', analyze: true, requested_sources: ['github', 'swagger'], github: [{ repo: 'a/b' }, { repo: 'a/c' }], swagger: [{ url: 'https://x.example/openapi.json' }] });
    const definition = systemWorkflowDefinition('ingestion');
    const { issues, values } = resolveParameters(definition.parameters, parameters, definition.strict_parameters);
    expect(issues).toEqual([]);
    // Sources not asked for are null: their foreach is skipped by its condition.
    expect(values.jira).toBeNull();
  });

  it("gives every job a default schedule EventBridge rules accept", () => {
    for (const job of JOB_NAMES) {
      const parsed = parseScheduleExpression(JOBS[job].defaultSchedule);
      expect('expression' in parsed && parsed.expression.kind).toBe('cron');
    }
  });
});
