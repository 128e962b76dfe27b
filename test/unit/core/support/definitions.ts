import { WorkflowDefinitionSchema, type WorkflowDefinition } from '../../../../core/workflow/definition.ts';
import type { FieldIssue } from '../../../../core/errors.ts';
import { definitionIssues, zodIssues } from '../../../../core/workflow/validate.ts';

/** Small builders for definitions written the way users write them (JSON input, before defaults). */

export interface ActionInput {
  readonly action_id: string;
  readonly action_type: string;
  readonly config: Record<string, unknown>;
  readonly depends_on?: readonly string[];
  readonly [key: string]: unknown;
}

export function notification(actionId: string, message: string, dependsOn: readonly string[] = []): ActionInput {
  return { action_id: actionId, action_type: 'notification', config: { message }, depends_on: dependsOn };
}

export function serviceCall(actionId: string, parameters: Record<string, unknown> = {}, dependsOn: readonly string[] = []): ActionInput {
  return { action_id: actionId, action_type: 'service_call', config: { service: 'svc', endpoint: '/run', method: 'POST', parameters }, depends_on: dependsOn };
}

export function definitionInput(actions: readonly unknown[], parameters: readonly unknown[] = []): Record<string, unknown> {
  return { name: 'test workflow', parameters, actions };
}

/** Parses with the schema and fails loudly when the input is not structurally valid. */
export function parseDefinition(input: unknown): WorkflowDefinition {
  const parsed = WorkflowDefinitionSchema.safeParse(input);
  if (!parsed.success) throw new Error(`expected a structurally valid definition, got ${JSON.stringify(zodIssues(parsed.error))}`);
  return parsed.data;
}

/** Every problem a user would be told about: structural ones first, whole-definition ones when the shape is right. */
export function issuesOf(input: unknown): FieldIssue[] {
  const parsed = WorkflowDefinitionSchema.safeParse(input);
  return parsed.success ? definitionIssues(parsed.data) : zodIssues(parsed.error);
}
