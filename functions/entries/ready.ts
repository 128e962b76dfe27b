import { secured } from '../aws-security.ts';
import { awsReadiness } from '../aws-system-health.ts';
import { createReadinessHandlers } from '../http/health-handlers.ts';

export const handler = createReadinessHandlers(secured({ readiness: awsReadiness() })).ready;
