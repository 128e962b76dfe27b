import type { Tracer } from '@aws-lambda-powertools/tracer';

/** A subsegment of the invocation's X-Ray segment: its name and the annotations X-Ray can search by. */
export interface XraySubsegment {
  readonly name: string;
  readonly annotations: Readonly<Record<string, string | number | boolean | undefined>>;
}

export interface XraySettings {
  /** ORCHESTRATOR_TRACING_ENABLED. */
  readonly enabled: boolean;
  /** AWS_XRAY_DAEMON_ADDRESS: set by Lambda only when the function has active tracing. */
  readonly daemonAddress: string | undefined;
  readonly serviceName: string;
}

/**
 * The Powertools Tracer (X-Ray), loaded at the first invocation and only where it can send anything: tracing
 * on and the daemon's address set (active tracing). Its SDK is about 125 KB: a function without active
 * tracing, and every cold start before the first call, never evaluates it.
 */
export function lazyXrayTracer(settings: XraySettings): () => Promise<Tracer | undefined> {
  let loading: Promise<Tracer | undefined> | undefined;
  return () => {
    if (!settings.enabled || settings.daemonAddress === undefined) return Promise.resolve(undefined);
    loading ??= import('@aws-lambda-powertools/tracer').then(({ Tracer }) => new Tracer({ serviceName: settings.serviceName, captureHTTPsRequests: false })).catch(() => undefined);
    return loading;
  };
}

/**
 * The handler, each invocation it describes recorded as a subsegment of Lambda's segment with searchable
 * annotations (the run, the action, the service, the orchestrator's W3C trace id: the link between an X-Ray
 * trace and `GET /infrastructure/tracing/trace/{trace_id}`), the error attached when it throws. X-Ray never
 * changes the outcome: a tracer that fails is skipped.
 */
export function withXraySubsegment<E, R>(handler: (event: E) => Promise<R>, describe: (event: E) => XraySubsegment | undefined, tracer: () => Promise<Tracer | undefined>): (event: E) => Promise<R> {
  return async (event) => {
    const active = await tracer();
    const description = active === undefined ? undefined : describe(event);
    const segment = description === undefined ? undefined : active?.getSegment();
    if (active === undefined || description === undefined || segment === undefined) return handler(event);
    const subsegment = segment.addNewSubsegment(description.name);
    active.setSegment(subsegment);
    for (const [key, value] of Object.entries(description.annotations)) if (value !== undefined) active.putAnnotation(key, value);
    try {
      return await handler(event);
    } catch (error) {
      if (error instanceof Error) active.addErrorAsMetadata(error);
      throw error;
    } finally {
      subsegment.close();
      active.setSegment(segment);
    }
  };
}
