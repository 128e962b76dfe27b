import type { z } from 'zod';
import { BadGatewayError } from '../../core/errors.ts';
import type { EcosystemService, JobName, Requester, StartedRun } from '../../core/ecosystem/service.ts';
import type { Principal } from '../../core/auth/model.ts';
import type { Source } from '../../core/ecosystem/sources.ts';
import { handlerFactory } from '../middleware/http-handler.ts';
import { routes } from '../routes.ts';
import type { ServiceProxy, ProxyCall } from '../ecosystem/service-proxy.ts';
import { EcosystemService as Services } from '../../core/ecosystem/system-workflows.ts';
import { idempotencyKey, runTrace } from './execution-handlers.ts';
import { LogAnalysis, ReportSummary } from './ecosystem-schemas.ts';
import type { Secured } from './services.ts';

export interface EcosystemHttpServices extends Secured {
  readonly ecosystem: EcosystemService;
  readonly serviceProxy: ServiceProxy;
  /** Where the demo's log analysis comes from: the log collector when LOG_COLLECTOR_URL is set, else reporting. */
  readonly logAnalysisService: string;
}

type Trace = { readonly trace_id: string; readonly span_id: string } | undefined;

function requester(caller: Principal, actor: string, trace: Trace): Requester {
  return { actor, tenant: caller.tenant, ...runTrace(trace) };
}

function started(run: StartedRun, extra: { sources?: Source[]; job?: string }) {
  const { execution } = run;
  return {
    execution_id: execution.execution_id,
    workflow_id: execution.workflow_id,
    status: execution.status,
    trace_id: execution.trace_id ?? '',
    correlation_id: run.correlation_id,
    ...extra,
    status_url: `/workflows/executions/${execution.execution_id}`,
  };
}

/** A service's answer read with the schema the contract gives it: another shape is the service's fault (502). */
function contract<T>(service: string, path: string, schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((issue) => ({ field: `${service}${path}:${issue.path.join('.') || '(body)'}`, message: issue.message }));
  throw new BadGatewayError(`${service} answered ${path} in a shape the contract does not have`, details);
}

/** Ingestion, jobs, the proxies and the demo bundle. No side effects until called. */
export function createEcosystemHandlers(services: EcosystemHttpServices) {
  // Read when called: each route's function composes only what it uses (a proxy never builds the engine).
  const handle = handlerFactory(services.security);
  const serviceProxy: ServiceProxy = (call, context) => services.serviceProxy(call, context);

  const forward = async (call: ProxyCall, input: { requestId: string; trace: Trace; caller: Principal; actor: string }) => {
    const answer = await serviceProxy(call, { requestId: input.requestId, ...(input.trace ? { trace: input.trace } : {}), caller: { subject: input.actor, tenant: input.caller.tenant } });
    return { message: `${call.service} answered ${answer.status}`, data: { service: call.service, status_code: answer.status, response: answer.body ?? null } };
  };

  const job = (name: JobName) =>
    handle(name === 'recalc-quality' ? routes.recalcQuality : routes.notifyConsolidation, async ({ body, headers, caller, actor, trace }) => {
      const { correlation_id: correlationId, ...parameters } = body;
      const key = idempotencyKey(headers['idempotency-key']);
      const run = await services.ecosystem.startJob(name, { ...(correlationId ? { correlationId } : {}), parameters, ...(key ? { idempotencyKey: key } : {}) }, requester(caller, actor, trace));
      return { message: `job ${name} started as run ${run.execution.execution_id}`, data: started(run, { job: name }), status: 202, headers: { location: `/workflows/executions/${run.execution.execution_id}` } };
    });

  return {
    ingest: handle(routes.ingest, async ({ body, headers, caller, actor, trace }) => {
      const key = idempotencyKey(headers['idempotency-key']);
      const run = await services.ecosystem.ingest([{ source: body.source, scope: body.scope }], { ...(body.correlation_id ? { correlationId: body.correlation_id } : {}), analyze: false, ...(key ? { idempotencyKey: key } : {}) }, requester(caller, actor, trace));
      return { message: `ingestion of ${body.source} started`, data: started(run, { sources: [body.source] }), status: 202, headers: { location: `/workflows/executions/${run.execution.execution_id}` } };
    }),

    runIngestion: handle(routes.runIngestion, async ({ body, headers, caller, actor, trace }) => {
      const key = idempotencyKey(headers['idempotency-key']);
      const run = await services.ecosystem.ingest(body.sources, { ...(body.correlation_id ? { correlationId: body.correlation_id } : {}), analyze: body.analyze, ...(key ? { idempotencyKey: key } : {}) }, requester(caller, actor, trace));
      const sources = [...new Set(body.sources.map((request) => request.source))];
      return {
        message: `ingestion of ${sources.join(', ')} started${body.analyze ? ', then the consistency analysis' : ''}`,
        data: started(run, { sources }),
        status: 202,
        headers: { location: `/workflows/executions/${run.execution.execution_id}` },
      };
    }),

    reportRequest: handle(routes.reportRequest, async ({ body, headers, ...input }) => {
      const { kind, ...fields } = body;
      const key = idempotencyKey(headers['idempotency-key']);
      return forward({ service: Services.reporting, method: 'POST', path: `/reports/${kind}`, parameters: fields, ...(key ? { idempotencyKey: key } : {}) }, input);
    }),

    summarizationSuggest: handle(routes.summarizationSuggest, async ({ body, headers, ...input }) => {
      const key = idempotencyKey(headers['idempotency-key']);
      return forward({ service: Services.secureAnalyzer, method: 'POST', path: '/suggest', parameters: body, ...(key ? { idempotencyKey: key } : {}) }, input);
    }),

    docstoreSave: handle(routes.docstoreSave, async ({ body, headers, ...input }) => {
      const key = idempotencyKey(headers['idempotency-key']);
      return forward({ service: Services.docStore, method: 'POST', path: '/documents', parameters: body, ...(key ? { idempotencyKey: key } : {}) }, input);
    }),

    demoBundle: handle(routes.demoBundle, async ({ body, requestId, trace, caller, actor }) => {
      const context = { requestId, ...(trace ? { trace } : {}), caller: { subject: actor, tenant: caller.tenant } };
      // Both reads at once: the bundle takes as long as the slower one.
      const [summary, logs] = await Promise.all([
        serviceProxy({ service: Services.reporting, method: 'GET', path: '/reports/summary' }, context),
        serviceProxy({ service: services.logAnalysisService, method: 'GET', path: '/logs/analysis', parameters: { limit: body.log_limit } }, context),
      ]);
      const logAnalysis = contract(services.logAnalysisService, '/logs/analysis', LogAnalysis, logs.body);
      return {
        message: 'demo bundle',
        data: {
          summary: contract(Services.reporting, '/reports/summary', ReportSummary, summary.body),
          // A collector that returns more than asked for is cut to the limit the caller gave.
          log_analysis: { ...logAnalysis, sample: logAnalysis.sample.slice(0, body.log_limit) },
        },
      };
    }),

    listJobs: handle(routes.listJobs, async ({ caller }) => {
      const jobs = await services.ecosystem.listJobs(caller.tenant);
      return { message: `${jobs.length} jobs`, data: { jobs: jobs.map((view) => ({ ...view, start: `/jobs/${view.name}` })) } };
    }),

    recalcQuality: job('recalc-quality'),
    notifyConsolidation: job('notify-consolidation'),
  };
}
