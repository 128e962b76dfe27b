import { awsTracingServices } from '../aws-tracing.ts';
import { createTracingHandlers } from '../http/tracing-handlers.ts';

export const handler = createTracingHandlers(awsTracingServices()).getTrace;
