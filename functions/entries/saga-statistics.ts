import { secured } from '../aws-security.ts';
import { awsExecutionServices } from '../aws-services.ts';
import { createExecutionHandlers } from '../http/execution-handlers.ts';

export const handler = createExecutionHandlers(secured(awsExecutionServices())).sagaStatistics;
