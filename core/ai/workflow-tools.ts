import type { Parameter } from '../workflow/definition.ts';
import type { Workflow } from '../workflow/model.ts';

/**
 * Workflows as tools (issue 17): what an agent sees of a workflow it may run, in the `/tools` listing and the
 * MCP server alike. A tool's input is the run's `parameters`, described by a JSON Schema (draft 2020-12, the
 * dialect MCP uses) made from the workflow's parameter declarations.
 */

/** A JSON Schema, as plain data. */
export type JsonSchema = { readonly [keyword: string]: unknown };

/** What every tool description holds, whatever it runs. */
export interface ToolDescription {
  /** Unique in one listing; letters, digits, `_`, `-` and `.` only, at most 128 characters (MCP's rule). */
  readonly name: string;
  readonly kind: 'workflow' | 'service_operation';
  readonly title: string;
  readonly description: string;
  readonly input_schema: JsonSchema;
}

export interface WorkflowTool extends ToolDescription {
  readonly kind: 'workflow';
  readonly workflow_id: string;
  readonly workflow_version: number;
  readonly tags: readonly string[];
}

/** The characters MCP allows in a tool name, and its length limit. */
export const TOOL_NAME_LIMIT = 128;
const UNSAFE = /[^A-Za-z0-9_.-]+/g;

/** `Document analysis (v2)` -> `document_analysis_v2`: a name an agent can call, from any workflow name. */
export function toolNameSegment(text: string): string {
  const segment = text.trim().toLowerCase().replace(UNSAFE, '_').replace(/_+/g, '_').replace(/^[_.-]+|[_.-]+$/g, '');
  return segment === '' ? 'unnamed' : segment;
}

/**
 * The JSON Schema of a run's `parameters`: each declared parameter with its type, description, default and
 * allowed values; the required ones (without a default) required. Undeclared parameters are refused when the
 * workflow is strict, allowed otherwise (as the API does).
 */
export function parametersSchema(parameters: readonly Parameter[], strict: boolean): JsonSchema {
  const properties = Object.fromEntries(
    parameters.map((parameter) => [
      parameter.name,
      {
        type: parameter.type,
        ...(parameter.description === undefined ? {} : { description: parameter.description }),
        ...(parameter.default === undefined ? {} : { default: parameter.default }),
        ...(parameter.enum === undefined ? {} : { enum: [...parameter.enum] }),
      },
    ]),
  );
  const required = parameters.filter((parameter) => parameter.required && parameter.default === undefined).map((parameter) => parameter.name);
  return { type: 'object', properties, ...(required.length > 0 ? { required } : {}), additionalProperties: !strict };
}

/**
 * Each workflow as a tool, named `workflow.<name>`; two workflows whose names give the same segment are told
 * apart by the start of their ids, so every name in one listing is unique.
 */
export function workflowTools(workflows: readonly Pick<Workflow, 'workflow_id' | 'name' | 'description' | 'tags' | 'version' | 'parameters' | 'strict_parameters' | 'actions'>[]): WorkflowTool[] {
  const counts = new Map<string, number>();
  for (const workflow of workflows) counts.set(toolNameSegment(workflow.name), (counts.get(toolNameSegment(workflow.name)) ?? 0) + 1);
  return workflows.map((workflow) => {
    const segment = toolNameSegment(workflow.name);
    const unique = (counts.get(segment) ?? 0) > 1 ? `${segment}_${workflow.workflow_id.replace(UNSAFE, '').slice(0, 8)}` : segment;
    const name = `workflow.${unique}`.slice(0, TOOL_NAME_LIMIT);
    const summary = workflow.description.trim() || `Runs the workflow ${workflow.name}`;
    return {
      name,
      kind: 'workflow',
      title: workflow.name,
      description: `${summary} (workflow ${workflow.workflow_id}, version ${workflow.version}, ${workflow.actions.length} action${workflow.actions.length === 1 ? '' : 's'}). Starts a run with these parameters and answers the run's output or its error.`,
      input_schema: parametersSchema(workflow.parameters, workflow.strict_parameters),
      workflow_id: workflow.workflow_id,
      workflow_version: workflow.version,
      tags: [...workflow.tags],
    };
  });
}
