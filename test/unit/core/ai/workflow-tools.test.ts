import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parametersSchema, toolNameSegment, workflowTools } from '../../../../core/ai/workflow-tools.ts';
import type { Parameter } from '../../../../core/workflow/definition.ts';

const parameters: Parameter[] = [
  { name: 'document_url', type: 'string', required: true, description: 'What to analyse' },
  { name: 'depth', type: 'integer', required: true, default: 2 },
  { name: 'mode', type: 'string', required: false, enum: ['fast', 'thorough'] },
  { name: 'options', type: 'object', required: false },
];
const workflow = (name: string, id: string, extra: Partial<{ description: string; strict_parameters: boolean }> = {}) => ({
  workflow_id: id,
  name,
  description: extra.description ?? '',
  tags: ['docs'],
  version: 3,
  parameters,
  strict_parameters: extra.strict_parameters ?? false,
  actions: [],
});

describe('workflows as tools', () => {
  it('describe a run\'s parameters as a JSON Schema that accepts what the API accepts and refuses the rest', () => {
    const validate = new Ajv2020({ strict: true }).compile(parametersSchema(parameters, true));
    expect(validate({ document_url: 'https://x', mode: 'fast', options: { a: 1 } })).toBe(true);
    expect(validate({ depth: 1 })).toBe(false); // document_url is required
    expect(validate({ document_url: 'x', mode: 'slow' })).toBe(false);
    expect(validate({ document_url: 'x', depth: 1.5 })).toBe(false);
    expect(validate({ document_url: 'x', extra: 1 })).toBe(false); // strict
    expect(new Ajv2020().compile(parametersSchema(parameters, false))({ document_url: 'x', extra: 1 })).toBe(true);
    expect(parametersSchema(parameters, false)).toMatchObject({ required: ['document_url'], properties: { depth: { type: 'integer', default: 2 }, document_url: { description: 'What to analyse' } } });
  });

  it('are named workflow.<name> with only the characters MCP allows, unique in a listing', () => {
    expect(toolNameSegment('  Document analysis (v2)! ')).toBe('document_analysis_v2');
    expect(toolNameSegment('***')).toBe('unnamed');
    const tools = workflowTools([workflow('Document analysis', 'aaaaaaaa-1111'), workflow('document  analysis', 'bbbbbbbb-2222'), workflow('Billing', 'cccc', { description: 'Charges a customer' })]);
    expect(tools.map((tool) => tool.name)).toEqual(['workflow.document_analysis_aaaaaaaa', 'workflow.document_analysis_bbbbbbbb', 'workflow.billing']);
    expect(tools.every((tool) => /^[A-Za-z0-9_.-]{1,128}$/.test(tool.name))).toBe(true);
    expect(tools[2]).toMatchObject({ kind: 'workflow', title: 'Billing', workflow_id: 'cccc', workflow_version: 3, tags: ['docs'] });
    expect(tools[2]!.description).toMatch(/^Charges a customer \(workflow cccc, version 3, 0 actions\)/);
  });
});
