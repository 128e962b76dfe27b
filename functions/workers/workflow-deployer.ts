import * as z from 'zod';
import { EVENT_SOURCES, type EventType } from '../../core/events/envelope.ts';
import type { Workflow } from '../../core/workflow/model.ts';
import { sharedLog } from '../observability/logger.ts';

/**
 * The workflow deployer: when a workflow version is published (created, or updated with new parameters,
 * actions or execution mode), the bus sends it here, and it becomes a published Step Functions state machine
 * version with the workflow's `live` alias moved to it. Deploying is idempotent (the engine fingerprints what
 * it publishes), so a redelivered event, or a run that started first and deployed the version itself,
 * changes nothing. A failure throws: EventBridge retries the event, then keeps it in a dead-letter queue; the
 * version is deployed on its first run in any case.
 */

/** The event type the deployer handles (its rule in infra/stacks/runtime-stack.ts matches it). */
export const VERSION_PUBLISHED = 'orchestrator.workflow.version_published' satisfies EventType;

/** The EventBridge event around the envelope (ADR 0013): the envelope is its detail. */
const VersionPublished = z.object({
  source: z.literal(EVENT_SOURCES.workflows),
  'detail-type': z.literal(VERSION_PUBLISHED),
  detail: z.object({ data: z.object({ workflow_id: z.string().min(1), version: z.number().int().positive() }) }),
});
export type VersionPublishedEvent = z.input<typeof VersionPublished>;

export interface WorkflowDeployerDeps {
  readonly loadWorkflow: (workflowId: string, version: number) => Promise<Workflow | undefined>;
  /** StepFunctionsWorkflowEngine.deploy: returns the published state machine version's ARN. */
  readonly deploy: (workflow: Workflow) => Promise<string>;
  readonly log?: (line: Record<string, unknown>) => void;
}

export type DeploymentOutcome =
  | { readonly workflow_id: string; readonly version: number; readonly deployed: true; readonly state_machine_version_arn: string }
  | { readonly workflow_id: string; readonly version: number; readonly deployed: false; readonly reason: string };

export function createWorkflowDeployer({ loadWorkflow, deploy, log = sharedLog }: WorkflowDeployerDeps): (event: VersionPublishedEvent) => Promise<DeploymentOutcome> {
  return async (raw) => {
    const parsed = VersionPublished.safeParse(raw);
    if (!parsed.success) throw new Error(`not a '${VERSION_PUBLISHED}' event: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    const { workflow_id: workflowId, version } = parsed.data.detail.data;
    const workflow = await loadWorkflow(workflowId, version);
    // Deleted since (or a version that never was): there is nothing to deploy, and retrying will not change that.
    const outcome: DeploymentOutcome = workflow
      ? { workflow_id: workflowId, version, deployed: true, state_machine_version_arn: await deploy(workflow) }
      : { workflow_id: workflowId, version, deployed: false, reason: 'the workflow or this version no longer exists' };
    log({ message: 'workflow version deployment', ...outcome });
    return outcome;
  };
}
