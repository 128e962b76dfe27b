import { sharedDocumentClient } from '../adapters/aws/dynamo/client.ts';
import { DynamoSpanStore } from '../adapters/aws/dynamo/dynamo-span-store.ts';
import { createTracingService, type TracingService } from '../core/observability/tracing-service.ts';
import { systemClock } from '../core/system.ts';
import { awsHandlerSecurity } from './aws-security.ts';
import { cursorCodecOf, readLambdaConfig, required, type LambdaConfig } from './config.ts';
import { jsonLogger } from './middleware/http-handler.ts';
import type { TracingHttpServices } from './http/tracing-handlers.ts';

/**
 * The span store on its table (SPANS_TABLE_NAME, kept ORCHESTRATOR_SPAN_RETENTION_DAYS). `withCursors` for the
 * readers only: the functions that record spans write and never list, and need no cursor key.
 */
export function awsSpanStore(config: LambdaConfig = readLambdaConfig(), withCursors = true): DynamoSpanStore {
  return new DynamoSpanStore(sharedDocumentClient(), required(config.SPANS_TABLE_NAME, 'SPANS_TABLE_NAME'), {
    retentionDays: config.ORCHESTRATOR_SPAN_RETENTION_DAYS,
    log: jsonLogger,
    ...(withCursors ? { cursors: cursorCodecOf(config) } : {}),
  });
}

/**
 * The tracing routes' services in AWS (`tables: { spans: 'read' }`), built at init so that a function missing
 * SPANS_TABLE_NAME or the cursor key fails at cold start rather than on its first request.
 */
export function awsTracingServices(): TracingHttpServices {
  // First: the route's whole environment is checked (and every problem named) before any one part is required.
  const security = awsHandlerSecurity();
  const config = readLambdaConfig();
  const tracing: TracingService = createTracingService({ spans: awsSpanStore(config), clock: systemClock });
  return { security, tracing };
}
