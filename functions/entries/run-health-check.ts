import { awsHealthSweep } from '../aws-health-services.ts';
import { createHealthCheckHandlers } from '../http/health-handlers.ts';

export const handler = createHealthCheckHandlers({ healthSweep: awsHealthSweep() }).runHealthCheck;
