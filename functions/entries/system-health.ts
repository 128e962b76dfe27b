import { awsSystemHealth } from '../aws-health-services.ts';
import { readLambdaConfig } from '../config.ts';
import { createSystemHealthHandlers } from '../http/health-handlers.ts';

export const handler = createSystemHealthHandlers({ systemHealth: awsSystemHealth(), serviceVersion: readLambdaConfig().SERVICE_VERSION }).systemHealth;
