import { awsServices } from '../aws-services.ts';
import { createWorkflowHandlers } from '../http/workflow-handlers.ts';

export const handler = createWorkflowHandlers(awsServices()).getStateMachine;
