import { describe, expect, it } from 'vitest';
import { HeadItemSchema, parseItem, SummaryItemSchema, VersionItemSchema } from '../../../../../adapters/aws/dynamo/workflow-items.ts';
import { CorruptItemError } from '../../../../../core/errors.ts';
import { summarize, versionOf, type Workflow } from '../../../../../core/workflow/model.ts';
import { storedWorkflow } from '../../../../support/workflows.ts';

/** A HEAD item as the workflows table holds it (workflow-table.ts): summary attributes, the definition as JSON text. */
function headItem(workflow: Workflow): Record<string, unknown> {
  return {
    pk: `WF#${workflow.workflow_id}`,
    sk: 'HEAD',
    ...summarize(workflow),
    definition: JSON.stringify({ execution_mode: workflow.execution_mode, parameters: workflow.parameters, actions: workflow.actions }),
    version_created_by: workflow.version_created_by,
    version_created_at: workflow.version_created_at,
    gsi_all_pk: 'WORKFLOW',
    gsi_all_sk: `${workflow.created_at}#${workflow.workflow_id}`,
  };
}

function corruption(read: () => unknown): CorruptItemError {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(CorruptItemError);
    return error as CorruptItemError;
  }
  throw new Error('the item parsed; expected a CorruptItemError');
}

describe('workflow table items', () => {
  const workflow = storedWorkflow('wf-1', { tags: ['a'], tenant: 'acme' });

  it('read back into the workflow, its version and its summary exactly, keys and index attributes left out', () => {
    const item = headItem(workflow);
    expect(parseItem(HeadItemSchema, item, 'workflow')).toEqual(workflow);
    expect(parseItem(SummaryItemSchema, item, 'workflow summary')).toEqual(summarize(workflow));
    const version = versionOf(workflow);
    const versionItem = { pk: 'WF#wf-1', sk: 'V#0000000001', workflow_id: 'wf-1', version: 1, name: version.name, definition: JSON.stringify({ execution_mode: 'standard', parameters: version.parameters, actions: version.actions }), created_by: version.created_by, created_at: version.created_at };
    expect(parseItem(VersionItemSchema, versionItem, 'workflow version')).toEqual(version);
  });

  it('written before tags, tenants, action type counts and execution modes existed, read with their defaults', () => {
    const { tags: _tags, tenant: _tenant, action_types: _types, ...old } = headItem(workflow);
    const item = { ...old, definition: JSON.stringify({ parameters: workflow.parameters, actions: workflow.actions }) };
    expect(parseItem(HeadItemSchema, item, 'workflow')).toEqual({ ...workflow, tags: [], tenant: 'default', execution_mode: 'standard' });
    expect(parseItem(SummaryItemSchema, item, 'workflow summary')).toMatchObject({ tags: [], tenant: 'default', action_types: {} });
  });

  it('with a definition that is not JSON: one error naming the item and the attribute', () => {
    const error = corruption(() => parseItem(HeadItemSchema, { ...headItem(workflow), definition: '{"actions": [' }, 'workflow'));
    expect(error.message).toMatch(/^stored workflow item \(pk "WF#wf-1", sk "HEAD"\) is corrupt: definition: not valid JSON: /);
    expect(error.details).toHaveLength(1);
  });

  it('with a definition of the wrong shape: the path inside the JSON attribute', () => {
    const [first, ...rest] = workflow.actions;
    const { action_id: _id, ...nameless } = first!;
    const definition = JSON.stringify({ execution_mode: 'sideways', parameters: workflow.parameters, actions: [nameless, ...rest] });
    const error = corruption(() => parseItem(HeadItemSchema, { ...headItem(workflow), definition }, 'workflow'));
    expect(error.details.map((issue) => issue.field)).toEqual(['definition.execution_mode', 'definition.actions[0].action_id']);
  });

  it('with a summary attribute of the wrong type, missing, or an unknown action type counted', () => {
    const { name: _name, ...nameless } = headItem(workflow);
    const item = { ...nameless, revision: '3', action_types: { service_call: 2, teleport: 1 } };
    const error = corruption(() => parseItem(SummaryItemSchema, item, 'workflow summary'));
    expect(error.message).toContain('stored workflow summary item (pk "WF#wf-1", sk "HEAD") is corrupt: ');
    expect(error.details.map((issue) => issue.field)).toEqual(['name', 'revision', 'action_types']);
  });

  it('with a version item missing its definition', () => {
    const error = corruption(() => parseItem(VersionItemSchema, { pk: 'WF#wf-1', sk: 'V#0000000002', workflow_id: 'wf-1', version: 2, name: 'n', created_by: 'a', created_at: 't' }, 'workflow version'));
    expect(error.message).toContain('(pk "WF#wf-1", sk "V#0000000002") is corrupt: definition: ');
  });
});
