import type { WorkflowDefinitionInput, WorkflowStatus } from '../core/workflow/definition.ts';

/**
 * The reference service's Document Analysis example: fetch a document through the source agent, analyze
 * it, notify. Realistic size and shape matter here: item size decides how many Query pages a listing needs.
 */
export const DOCUMENT_ANALYSIS: WorkflowDefinitionInput = {
  name: 'Document Analysis Workflow',
  description: 'Analyze document for quality and insights',
  tags: ['analysis', 'documents'],
  parameters: [
    { name: 'document_url', type: 'string', description: 'Document URL to analyze', required: true },
    {
      name: 'analysis_type',
      type: 'string',
      description: 'How deep the analysis goes',
      required: false,
      default: 'comprehensive',
      enum: ['basic', 'comprehensive'],
    },
  ],
  actions: [
    {
      action_id: 'fetch_doc',
      action_type: 'service_call',
      name: 'Fetch Document',
      description: 'Retrieve the document content',
      config: { service: 'source_agent', endpoint: '/fetch', method: 'POST', parameters: { url: '{{document_url}}' } },
    },
    {
      action_id: 'analyze_quality',
      action_type: 'service_call',
      name: 'Analyze Quality',
      description: 'Score readability, structure and completeness',
      config: {
        service: 'analysis_service',
        endpoint: '/analyze',
        method: 'POST',
        parameters: { content: '{{fetch_doc.response.content}}', analysis_type: '{{analysis_type}}' },
      },
      depends_on: ['fetch_doc'],
    },
    {
      action_id: 'notify',
      action_type: 'notification',
      name: 'Send Notification',
      description: 'Tell the requester the analysis is ready',
      config: { message: 'Analysis of {{document_url}} complete', channels: ['log', 'event'] },
      depends_on: ['analyze_quality'],
    },
  ],
};

/** The definition change used to create a new version: one more step at the end. */
export const EXTRA_SUMMARY_ACTION = {
  action_id: 'summarize',
  action_type: 'service_call',
  name: 'Summarize Findings',
  config: { service: 'analysis_service', endpoint: '/summarize', method: 'POST', parameters: { analysis: '{{analyze_quality.response}}' } },
  depends_on: ['analyze_quality'],
} as const;

export const CREATORS = ['alice', 'bob', 'carol', 'dave'] as const;
const STATUSES: readonly WorkflowStatus[] = ['active', 'active', 'draft', 'paused', 'archived'];
const SUBJECTS = ['Contract', 'Invoice', 'Research Paper', 'Release Notes', 'Support Ticket', 'Design Doc', 'Policy'] as const;

/** The n-th workflow of a seeded population: Document Analysis variations spread over creators and statuses. */
export function seededWorkflow(index: number): { definition: WorkflowDefinitionInput; creator: string } {
  const subject = SUBJECTS[index % SUBJECTS.length]!;
  return {
    creator: CREATORS[index % CREATORS.length]!,
    definition: {
      ...DOCUMENT_ANALYSIS,
      name: `${subject} Analysis ${index + 1}`,
      description: `Analyze ${subject.toLowerCase()} documents for quality and insights (batch ${Math.floor(index / 50) + 1})`,
      tags: ['analysis', 'documents', subject.toLowerCase().replace(/ /g, '-')],
      status: STATUSES[index % STATUSES.length]!,
    },
  };
}
