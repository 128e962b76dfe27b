import * as z from 'zod';
import { ValidationError, NotFoundError, type FieldIssue } from '../errors.ts';
import { JsonValue, MetadataFields, type WorkflowDefinitionInput } from '../workflow/definition.ts';

/** Pre-built workflows from the reference service's examples. Each must pass validation (tests check). */
export interface WorkflowTemplate {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly category: string;
  readonly definition: WorkflowDefinitionInput;
}

export const TEMPLATES: readonly WorkflowTemplate[] = [
  {
    name: 'hello_world',
    title: 'Hello World',
    description: 'Sends one notification with the message you pass in.',
    category: 'getting_started',
    definition: {
      name: 'Hello World Workflow',
      description: 'A simple notification workflow',
      tags: ['example', 'notification'],
      parameters: [{ name: 'message', type: 'string', description: 'Message to display', required: true }],
      actions: [
        {
          action_id: 'notify',
          action_type: 'notification',
          name: 'Send Notification',
          description: 'Send completion notification',
          config: { message: '{{message}}', channels: ['log'] },
        },
      ],
    },
  },
  {
    name: 'document_analysis',
    title: 'Document Quality Analysis',
    description: 'Fetches a document through the source agent and analyzes its quality.',
    category: 'analysis',
    definition: {
      name: 'Document Quality Analysis',
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
          config: { service: 'source_agent', endpoint: '/fetch', method: 'POST', parameters: { url: '{{document_url}}' } },
        },
        {
          action_id: 'analyze_quality',
          action_type: 'service_call',
          name: 'Analyze Quality',
          config: {
            service: 'analysis_service',
            endpoint: '/analyze',
            method: 'POST',
            parameters: { content: '{{fetch_doc.response.content}}', analysis_type: '{{analysis_type}}' },
          },
          depends_on: ['fetch_doc'],
        },
      ],
    },
  },
  {
    name: 'pr_confidence',
    title: 'PR Confidence Analysis',
    description: 'Fetches a pull request and scores how well it meets its requirements.',
    category: 'analysis',
    definition: {
      name: 'PR Confidence Analysis',
      description: 'Analyze PR confidence against requirements',
      tags: ['analysis', 'github', 'pull-requests'],
      parameters: [
        { name: 'pr_number', type: 'integer', description: 'Pull request number', required: true },
        { name: 'repository', type: 'string', description: 'Repository as owner/name', required: true },
      ],
      actions: [
        {
          action_id: 'fetch_pr',
          action_type: 'service_call',
          name: 'Fetch PR Data',
          config: {
            service: 'source_agent',
            endpoint: '/github/pr',
            method: 'GET',
            parameters: { pr_number: '{{pr_number}}', repository: '{{repository}}' },
          },
        },
        {
          action_id: 'analyze_confidence',
          action_type: 'service_call',
          name: 'Analyze Confidence',
          config: {
            service: 'analysis_service',
            endpoint: '/calculate_confidence',
            method: 'POST',
            parameters: { pr_data: '{{fetch_pr.response}}' },
          },
          depends_on: ['fetch_pr'],
        },
      ],
    },
  },
  {
    name: 'ingestion',
    title: 'Multi-source Ingestion',
    description: 'Ingests GitHub, Jira, Confluence and Swagger sources in parallel, then runs a consistency analysis over all four.',
    category: 'ingestion',
    definition: {
      name: 'Multi-source Ingestion',
      description: 'Ingest GitHub, Jira, Confluence and Swagger in parallel and analyze their consistency',
      tags: ['ingestion', 'github', 'jira', 'confluence', 'swagger'],
      parameters: [
        { name: 'github_repository', type: 'string', description: 'GitHub repository (owner/name)', required: true },
        { name: 'jira_project', type: 'string', description: 'Jira project key', required: true },
        { name: 'confluence_space', type: 'string', description: 'Confluence space key', required: true },
        { name: 'swagger_url', type: 'string', description: 'URL of the OpenAPI/Swagger document', required: true },
        { name: 'correlation_id', type: 'string', description: 'Id that ties the ingested documents together', required: false, default: '' },
      ],
      actions: [
        {
          action_id: 'ingest_github',
          action_type: 'service_call',
          name: 'Ingest GitHub',
          config: { service: 'source_agent', endpoint: '/ingest/github', method: 'POST', parameters: { repository: '{{github_repository}}', correlation_id: '{{correlation_id}}' } },
        },
        {
          action_id: 'ingest_jira',
          action_type: 'service_call',
          name: 'Ingest Jira',
          config: { service: 'source_agent', endpoint: '/ingest/jira', method: 'POST', parameters: { project: '{{jira_project}}', correlation_id: '{{correlation_id}}' } },
        },
        {
          action_id: 'ingest_confluence',
          action_type: 'service_call',
          name: 'Ingest Confluence',
          config: { service: 'source_agent', endpoint: '/ingest/confluence', method: 'POST', parameters: { space: '{{confluence_space}}', correlation_id: '{{correlation_id}}' } },
        },
        {
          action_id: 'ingest_swagger',
          action_type: 'service_call',
          name: 'Ingest Swagger',
          config: { service: 'source_agent', endpoint: '/ingest/swagger', method: 'POST', parameters: { url: '{{swagger_url}}', correlation_id: '{{correlation_id}}' } },
        },
        {
          action_id: 'analyze_consistency',
          action_type: 'service_call',
          name: 'Analyze Consistency',
          config: {
            service: 'consistency_engine',
            endpoint: '/analyze',
            method: 'POST',
            parameters: {
              github: '{{ingest_github.response}}',
              jira: '{{ingest_jira.response}}',
              confluence: '{{ingest_confluence.response}}',
              swagger: '{{ingest_swagger.response}}',
            },
          },
          depends_on: ['ingest_github', 'ingest_jira', 'ingest_confluence', 'ingest_swagger'],
        },
        {
          action_id: 'notify_complete',
          action_type: 'notification',
          name: 'Notify Completion',
          config: {
            message: 'Ingestion of {{github_repository}}, {{jira_project}}, {{confluence_space}} and {{swagger_url}} finished (consistency analysis status {{analyze_consistency.status_code}})',
            channels: ['log', 'event'],
          },
          depends_on: ['analyze_consistency'],
        },
      ],
    },
  },
];

export const TemplateCustomizationsSchema = z.strictObject({
  name: MetadataFields.name.optional(),
  description: MetadataFields.description.optional(),
  tags: MetadataFields.tags.optional(),
  status: MetadataFields.status.optional(),
  /** New defaults for the template's parameters, by name; a parameter given a default is no longer required. */
  parameter_defaults: z.record(z.string(), JsonValue).optional(),
  /** Renames the services the template calls, e.g. `{ "analysis_service": "my_analyzer" }`. */
  services: z.record(z.string(), z.string().min(1).max(128)).optional(),
});
export type TemplateCustomizations = z.output<typeof TemplateCustomizationsSchema>;

export function findTemplate(name: string): WorkflowTemplate {
  const template = TEMPLATES.find((candidate) => candidate.name === name);
  if (!template) {
    throw new NotFoundError(`template '${name}' not found; available: ${TEMPLATES.map((t) => t.name).join(', ')}`, [
      { field: 'template_name', message: `unknown template '${name}'; available: ${TEMPLATES.map((t) => t.name).join(', ')}` },
    ]);
  }
  return template;
}

/**
 * The template's definition with the customizations applied. Names that match nothing in the template are
 * refused rather than ignored, so a typo never yields a workflow the user did not ask for.
 */
export function applyCustomizations(template: WorkflowTemplate, customizations: TemplateCustomizations): WorkflowDefinitionInput {
  const issues: FieldIssue[] = [];
  const base = structuredClone(template.definition);
  const parameters = (base.parameters ?? []).map((parameter) => {
    const defaults = customizations.parameter_defaults;
    if (!defaults || !(parameter.name in defaults)) return parameter;
    return { ...parameter, default: defaults[parameter.name], required: false };
  });
  for (const name of Object.keys(customizations.parameter_defaults ?? {})) {
    if (!parameters.some((parameter) => parameter.name === name)) {
      issues.push({ field: `customizations.parameter_defaults.${name}`, message: `template '${template.name}' has no parameter '${name}'` });
    }
  }
  const renames = customizations.services ?? {};
  const calledServices = new Set<string>();
  const actions = base.actions.map((action) => {
    if (action.action_type !== 'service_call') return action;
    calledServices.add(action.config.service);
    const service = renames[action.config.service];
    return service ? { ...action, config: { ...action.config, service } } : action;
  });
  for (const name of Object.keys(renames)) {
    if (!calledServices.has(name)) issues.push({ field: `customizations.services.${name}`, message: `template '${template.name}' calls no service '${name}'` });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    ...base,
    name: customizations.name ?? base.name,
    description: customizations.description ?? base.description,
    tags: customizations.tags ?? base.tags,
    status: customizations.status ?? base.status,
    parameters,
    actions,
  };
}
