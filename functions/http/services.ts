import type { WorkflowStore } from '../../core/ports.ts';
import type { WorkflowService } from '../../core/workflow/service.ts';

/** What HTTP handlers need; each composition root (AWS Lambda, local server, tests) builds one. */
export interface HttpServices {
  readonly workflows: WorkflowService;
  readonly workflowStore: WorkflowStore;
  /** Reported by health endpoints. */
  readonly serviceVersion: string;
}
