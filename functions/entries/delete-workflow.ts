import { awsScheduleService } from '../aws-ecosystem.ts';
import { awsServices } from '../aws-services.ts';
import { createWorkflowHandlers } from '../http/workflow-handlers.ts';

// The workflow's schedules go with it (the route declares `schedules: 'manage'`).
const services = awsServices();
export const handler = createWorkflowHandlers(Object.create(services, { schedules: { value: awsScheduleService(), enumerable: true } }) as typeof services).deleteWorkflow;
