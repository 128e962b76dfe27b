import type { WorkflowDefinitionInput } from '../../core/workflow/definition.ts';
import { WorkflowDefinitionSchema } from '../../core/workflow/definition.ts';
import type { Workflow } from '../../core/workflow/model.ts';

/** The reference's Document Analysis workflow, as a user would POST it. */
export function documentAnalysis(overrides: Partial<WorkflowDefinitionInput> = {}): WorkflowDefinitionInput {
  return {
    name: 'Document Quality Analysis',
    description: 'Analyze document for quality and insights',
    parameters: [{ name: 'document_url', type: 'string', description: 'Document URL to analyze', required: true }],
    actions: [
      {
        action_id: 'fetch_doc',
        action_type: 'service_call',
        name: 'Fetch Document',
        config: { service: 'source_agent', endpoint: '/fetch', method: 'POST', parameters: { url: '{{document_url}}' } },
      },
      {
        action_id: 'analyze_quality',
        action_type: 'service_call',
        name: 'Analyze Quality',
        config: { service: 'analysis_service', endpoint: '/analyze', method: 'POST', parameters: { content: '{{fetch_doc.response.content}}' } },
        depends_on: ['fetch_doc'],
      },
    ],
    ...overrides,
  };
}

/** A stored workflow built from a definition, for store-level tests. */
export function storedWorkflow(id: string, overrides: Partial<Workflow> = {}, definition = documentAnalysis()): Workflow {
  const parsed = WorkflowDefinitionSchema.parse(definition);
  const at = overrides.created_at ?? '2026-11-01T00:00:00.000Z';
  return {
    workflow_id: id,
    ...parsed,
    tenant: 'default',
    version: 1,
    revision: 1,
    created_by: 'alice',
    created_at: at,
    updated_by: 'alice',
    updated_at: at,
    version_created_by: 'alice',
    version_created_at: at,
    ...overrides,
  };
}
