import type { ExecutionService } from '../../core/execution/service.ts';
import type { ServiceRegistry, WorkflowStore } from '../../core/ports.ts';
import type { RegistryService } from '../../core/registry/service.ts';
import type { WorkflowService } from '../../core/workflow/service.ts';

/** What HTTP handlers need; each composition root (AWS Lambda, local server, tests) builds one. */
export interface HttpServices {
  readonly workflows: WorkflowService;
  readonly workflowStore: WorkflowStore;
  readonly executions: ExecutionService;
  /** The service registry port: the action runner resolves service names through it. */
  readonly registry: ServiceRegistry;
  readonly registryService: RegistryService;
  /** Reported by health endpoints. */
  readonly serviceVersion: string;
}
