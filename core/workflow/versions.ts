import type { WorkflowStore } from '../ports.ts';
import { atVersion, type Workflow } from './model.ts';

/**
 * A workflow at `version` (default: the current one), or undefined when the workflow or that version does
 * not exist. One read for the current version, two for an older one.
 */
export async function loadWorkflowAt(store: Pick<WorkflowStore, 'get' | 'getVersion'>, workflowId: string, version?: number): Promise<Workflow | undefined> {
  const current = await store.get(workflowId);
  if (!current || version === undefined || version === current.version) return current;
  const snapshot = version >= 1 && version < current.version ? await store.getVersion(workflowId, version) : undefined;
  return snapshot && atVersion(current, snapshot);
}
