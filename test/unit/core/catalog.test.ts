import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../core/errors.ts';
import { applyCustomizations, findTemplate, TEMPLATES, TemplateCustomizationsSchema } from '../../../core/templates/catalog.ts';
import { WorkflowDefinitionSchema, type WorkflowDefinition } from '../../../core/workflow/definition.ts';
import { transitiveDependencies, topologicalOrder } from '../../../core/workflow/graph.ts';
import { definitionIssues } from '../../../core/workflow/validate.ts';
import { parseDefinition } from './support/definitions.ts';
import { thrownBy } from './support/errors.ts';

const customize = (name: string, customizations: unknown): WorkflowDefinition =>
  parseDefinition(applyCustomizations(findTemplate(name), TemplateCustomizationsSchema.parse(customizations)));

const serviceOf = (definition: WorkflowDefinition, actionId: string): string | undefined => {
  const action = definition.actions.find((candidate) => candidate.action_id === actionId);
  return action?.action_type === 'service_call' ? action.config.service : undefined;
};

describe('template catalog', () => {
  it('holds the four required templates, once each', () => {
    const names = TEMPLATES.map((template) => template.name);
    expect(names).toEqual(expect.arrayContaining(['hello_world', 'document_analysis', 'pr_confidence', 'ingestion']));
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(TEMPLATES.map((template) => [template.name, template] as const))('%s parses with the workflow schema and has no definition issues', (_name, template) => {
    const parsed = WorkflowDefinitionSchema.safeParse(template.definition);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    if (parsed.success) expect(definitionIssues(parsed.data)).toEqual([]);
    expect(template.title.length).toBeGreaterThan(0);
    expect(template.description.length).toBeGreaterThan(0);
  });

  it('hello_world sends the message parameter as a notification', () => {
    const definition = parseDefinition(findTemplate('hello_world').definition);
    expect(definition.parameters).toEqual([{ name: 'message', type: 'string', description: 'Message to display', required: true }]);
    expect(definition.actions).toEqual([
      expect.objectContaining({ action_id: 'notify', action_type: 'notification', depends_on: [], config: expect.objectContaining({ message: '{{message}}', channels: ['log'] }) }),
    ]);
  });

  it('document_analysis and pr_confidence fetch first and analyse the fetched response', () => {
    const documents = parseDefinition(findTemplate('document_analysis').definition);
    expect(topologicalOrder(documents.actions)).toEqual(['fetch_doc', 'analyze_quality']);
    expect(JSON.stringify(documents.actions[1])).toContain('{{fetch_doc.response.content}}');
    const pr = parseDefinition(findTemplate('pr_confidence').definition);
    expect(pr.parameters.map((parameter) => [parameter.name, parameter.type, parameter.required])).toEqual([
      ['pr_number', 'integer', true],
      ['repository', 'string', true],
    ]);
    expect(topologicalOrder(pr.actions)).toEqual(['fetch_pr', 'analyze_confidence']);
  });

  it('ingestion runs its four ingest actions independently and analyses after all four', () => {
    const definition = parseDefinition(findTemplate('ingestion').definition);
    const ingest = ['ingest_github', 'ingest_jira', 'ingest_confluence', 'ingest_swagger'];
    const upstream = transitiveDependencies(definition.actions);
    for (const id of ingest) {
      const action = definition.actions.find((candidate) => candidate.action_id === id);
      expect(action?.depends_on).toEqual([]);
      expect(upstream.get(id)).toEqual(new Set());
    }
    const analysis = definition.actions.find((action) => action.action_id === 'analyze_consistency');
    expect([...(analysis?.depends_on ?? [])].sort()).toEqual([...ingest].sort());
    expect(upstream.get('analyze_consistency')).toEqual(new Set(ingest));
    expect(topologicalOrder(definition.actions).slice(0, 4).sort()).toEqual([...ingest].sort());
    const services = definition.actions.map((action) => (action.action_type === 'service_call' ? action.config.service : action.action_type));
    expect(services).toEqual(['source_agent', 'source_agent', 'source_agent', 'source_agent', 'consistency_engine', 'notification']);
  });

  it('findTemplate refuses an unknown name, listing the available ones', () => {
    const error = thrownBy(() => findTemplate('hello-world'));
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).details[0]?.field).toBe('template_name');
    for (const template of TEMPLATES) expect((error as NotFoundError).message).toContain(template.name);
  });
});

describe('reference service examples', () => {
  // The workflows from the reference service's documentation (/work/shared/reference/orchestrator-service.md),
  // as its API receives them.
  const examples: Record<string, unknown> = {
    'create workflow request': {
      name: 'Document Analysis Workflow',
      description: 'Analyze documents for quality and insights',
      parameters: [{ name: 'document_url', type: 'string', description: 'URL of document to analyze', required: true }],
      actions: [
        {
          action_id: 'analyze',
          action_type: 'service_call',
          name: 'Analyze Document',
          config: { service: 'analysis_service', endpoint: '/analyze', method: 'POST', parameters: { url: '{{document_url}}' } },
        },
      ],
    },
    'getting started': {
      name: 'Hello World',
      description: 'My first workflow',
      parameters: [{ name: 'message', type: 'string', required: true }],
      actions: [{ action_id: 'greet', action_type: 'notification', name: 'Send Greeting', config: { message: '{{message}}' } }],
    },
  };

  it.each(Object.entries(examples))('%s validates with no issues', (_name, example) => {
    expect(definitionIssues(parseDefinition(example))).toEqual([]);
  });
});

describe('template customizations', () => {
  it('overrides name, description, tags and status', () => {
    const definition = customize('hello_world', { name: '  Greeter  ', description: 'Says hello', tags: ['a', 'b', 'a'], status: 'draft' });
    expect(definition).toMatchObject({ name: 'Greeter', description: 'Says hello', tags: ['a', 'b'], status: 'draft' });
    expect(definitionIssues(definition)).toEqual([]);
  });

  it('keeps the template’s metadata when nothing is customised', () => {
    const template = findTemplate('pr_confidence');
    const definition = customize('pr_confidence', {});
    expect(definition).toEqual(parseDefinition(template.definition));
  });

  it('parameter_defaults sets the default and makes the parameter optional, leaving the others alone', () => {
    const definition = customize('ingestion', { parameter_defaults: { jira_project: 'OPS', swagger_url: 'https://example.com/openapi.json' } });
    const byName = new Map(definition.parameters.map((parameter) => [parameter.name, parameter]));
    expect(byName.get('jira_project')).toMatchObject({ default: 'OPS', required: false });
    expect(byName.get('swagger_url')).toMatchObject({ default: 'https://example.com/openapi.json', required: false });
    expect(byName.get('github_repository')).toMatchObject({ required: true });
    expect(byName.get('github_repository')?.default).toBeUndefined();
    expect(definitionIssues(definition)).toEqual([]);
  });

  it('refuses a default for a parameter the template does not have, with the field path', () => {
    const error = thrownBy(() => customize('hello_world', { parameter_defaults: { mesage: 'hi' } }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ field: 'customizations.parameter_defaults.mesage', message: "template 'hello_world' has no parameter 'mesage'" }]);
  });

  it('renames the services the template calls, and only those', () => {
    const definition = customize('document_analysis', { services: { analysis_service: 'my_analyzer' } });
    expect(serviceOf(definition, 'analyze_quality')).toBe('my_analyzer');
    expect(serviceOf(definition, 'fetch_doc')).toBe('source_agent');
    const ingestion = customize('ingestion', { services: { source_agent: 'agent_v2' } });
    expect(['ingest_github', 'ingest_jira', 'ingest_confluence', 'ingest_swagger'].map((id) => serviceOf(ingestion, id))).toEqual(['agent_v2', 'agent_v2', 'agent_v2', 'agent_v2']);
    expect(serviceOf(ingestion, 'analyze_consistency')).toBe('consistency_engine');
  });

  it('refuses a service name the template does not call, with the field path', () => {
    const error = thrownBy(() => customize('hello_world', { services: { source_agent: 'x' } }));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).details).toEqual([{ field: 'customizations.services.source_agent', message: "template 'hello_world' calls no service 'source_agent'" }]);
  });

  it('reports an unknown parameter and an unknown service together', () => {
    const error = thrownBy(() => customize('pr_confidence', { parameter_defaults: { pr: 1 }, services: { github: 'x' } }));
    expect((error as ValidationError).details.map((issue) => issue.field)).toEqual(['customizations.parameter_defaults.pr', 'customizations.services.github']);
  });

  it('leaves the catalog itself unchanged', () => {
    const before = structuredClone(TEMPLATES);
    customize('document_analysis', { name: 'x', tags: ['t'], parameter_defaults: { document_url: 'https://x' }, services: { analysis_service: 'y' } });
    customize('ingestion', { parameter_defaults: { correlation_id: 'c' }, services: { source_agent: 'z' } });
    expect(TEMPLATES).toEqual(before);
  });

  it('leaves a mistyped or out-of-enum default to definition validation, which names the parameter', () => {
    const mistyped = customize('pr_confidence', { parameter_defaults: { pr_number: 'forty-two' } });
    expect(definitionIssues(mistyped)).toEqual([{ field: 'parameters[0].default', message: 'default does not match type integer: expected an integer, got the string "forty-two"' }]);
    const outside = customize('document_analysis', { parameter_defaults: { analysis_type: 'deep' } });
    expect(definitionIssues(outside)).toEqual([{ field: 'parameters[1].default', message: 'default "deep" is not one of the enum values' }]);
  });

  it('refuses unknown customization keys and an empty service name', () => {
    const parsed = TemplateCustomizationsSchema.safeParse({ parameter_default: {}, services: { a: '' } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual(['', 'services.a']);
  });
});
