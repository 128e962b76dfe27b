import { secured } from '../aws-security.ts';
import { awsHealthSweep } from '../aws-health-services.ts';
import { createHealthCheckHandlers } from '../http/health-handlers.ts';

export const handler = createHealthCheckHandlers(secured({ healthSweep: awsHealthSweep() })).runHealthCheck;
