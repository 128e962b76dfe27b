import type { ResponseOf } from '../../../client/index.ts';

/** The API's shapes the console shows, named once (all from the route table, through the client's types). */
export type WhoAmI = ResponseOf<'whoAmI'>;
export type Role = 'viewer' | 'operator' | 'admin';
export type Workflow = ResponseOf<'getWorkflow'>;
export type WorkflowAction = Workflow['actions'][number];
export type WorkflowParameter = Workflow['parameters'][number];
export type WorkflowSummary = ResponseOf<'listWorkflows'>['workflows'][number];
export type WorkflowVersion = ResponseOf<'listWorkflowVersions'>['versions'][number];
export type Template = ResponseOf<'listTemplates'>['templates'][number];
export type StateMachine = ResponseOf<'getStateMachine'>;
export type Execution = ResponseOf<'getExecution'>;
export type ExecutionStatus = Execution['status'];
export type ActionProgress = Execution['actions'][number];
export type ActionStatus = ActionProgress['status'];
export type Service = ResponseOf<'listServices'>['services'][number];
export type ServiceInstance = Service['instances'][number];
export type QueueStats = ResponseOf<'deadLetterStats'>['queues'][number];
export type DeadLetter = ResponseOf<'listDeadLetters'>['messages'][number];
export type EventEnvelope = ResponseOf<'getEventHistory'>['events'][number];
export type Trace = ResponseOf<'getTrace'>;

/** Run statuses after which nothing changes unless someone retries the run. */
export const FINISHED_RUN_STATUSES: readonly ExecutionStatus[] = ['completed', 'failed', 'cancelled', 'timed_out'];
export const RUN_STATUSES: readonly ExecutionStatus[] = ['pending', 'running', 'paused', 'completed', 'failed', 'cancelled', 'timed_out'];
export const WORKFLOW_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;

export const isFinished = (status: ExecutionStatus): boolean => FINISHED_RUN_STATUSES.includes(status);
