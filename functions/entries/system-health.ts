import { secured } from '../aws-security.ts';
import { awsSystemHealth } from '../aws-system-health.ts';
import { readLambdaConfig } from '../config.ts';
import { createSystemHealthHandlers } from '../http/health-handlers.ts';

export const handler = createSystemHealthHandlers(secured({ systemHealth: awsSystemHealth(), serviceVersion: readLambdaConfig().SERVICE_VERSION })).systemHealth;
