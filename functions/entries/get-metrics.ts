import { awsHandlerSecurity } from '../aws-security.ts';
import { awsEmfMetrics } from '../aws-emf.ts';
import { awsMetricsExposition } from '../aws-metrics.ts';
import { createMetricsHandlers } from '../http/metrics-handlers.ts';
import type { HandlerSecurity } from '../middleware/security.ts';
import { recordHttpRequest } from '../observability/http-metrics.ts';
import { combined } from '../observability/metric-recorder.ts';
import { NO_SPANS } from '../observability/span-recorder.ts';

// The route's environment is checked first (awsHandlerSecurity), so a missing variable is named with every other.
const base = awsHandlerSecurity();
const exposition = awsMetricsExposition();
// This function's own requests go to the registry its /metrics renders, and to CloudWatch as every route's do.
const security: HandlerSecurity = { ...base, observer: { spans: NO_SPANS, ...base.observer, httpRequest: recordHttpRequest(combined(exposition, awsEmfMetrics())) } };

export const handler = createMetricsHandlers({ metrics: exposition, security }).getMetrics;
