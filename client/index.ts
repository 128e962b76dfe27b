import type { z } from 'zod';
import type { routes } from '../functions/routes.ts';
import { ROUTE_MAP, type RouteName } from './route-map.ts';

/**
 * The orchestrator's TypeScript client, typed by the route table (functions/routes.ts): a route's path
 * parameters, query and body are what its schemas accept, and its answer is what its response schema gives.
 * Only types come from the route table; at run time the client carries client/route-map.ts (generated from
 * it), so a browser bundle has no schemas in it. Runs wherever `fetch` does (Node 18+, browsers).
 *
 *   const client = createClient({ baseUrl: 'http://localhost:3000', token });
 *   const { workflow_id } = await client.call('createWorkflow', { body: definition });
 */

export { ROUTE_MAP, type RouteName } from './route-map.ts';

type Routes = typeof routes;
type SchemaOf<R extends RouteName, K extends 'params' | 'query' | 'body'> = Routes[R] extends { readonly [P in K]: infer S extends z.ZodType } ? S : undefined;
type QueryValue = string | number | boolean | readonly (string | number)[] | undefined;

/** What a route takes: `params` (path parameters) and `body` when it has them, `query` always optional. */
export type RequestOf<R extends RouteName> = (SchemaOf<R, 'params'> extends z.ZodType ? { readonly params: z.input<SchemaOf<R, 'params'>> } : { readonly params?: undefined }) &
  (SchemaOf<R, 'body'> extends z.ZodType ? { readonly body: z.input<SchemaOf<R, 'body'>> } : { readonly body?: undefined }) & {
    readonly query?: SchemaOf<R, 'query'> extends z.ZodType ? Partial<Record<keyof z.input<SchemaOf<R, 'query'>>, QueryValue>> : undefined;
    /** Extra headers for this call (`Idempotency-Key`, `If-Match`...). */
    readonly headers?: Readonly<Record<string, string>>;
  };

/** What a successful call gives: the envelope's `data` (or the document itself, for raw routes). */
export type ResponseOf<R extends RouteName> = z.output<Routes[R]['response']>;

/** Routes that take nothing required, which `call` accepts without a request. */
type OptionalRequest<R extends RouteName> = SchemaOf<R, 'params'> extends z.ZodType ? never : SchemaOf<R, 'body'> extends z.ZodType ? never : R;

export interface ClientOptions {
  /** The API's base URL (`http://localhost:3000`, or the deployed stage's URL). */
  readonly baseUrl: string;
  /** A bearer token (JWT), sent as `Authorization: Bearer`. */
  readonly token?: string;
  /** A managed API key, sent as `x-api-key`. */
  readonly apiKey?: string;
  readonly fetch?: typeof fetch;
  /** Headers sent with every call. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A refused or failed call: the HTTP status and the error envelope's code, message and field details. */
export class OrchestratorApiError extends Error {
  override readonly name = 'OrchestratorApiError';
  readonly status: number;
  readonly code: string;
  readonly details: readonly { readonly field: string; readonly message: string }[];
  readonly requestId: string | undefined;

  constructor(status: number, code: string, message: string, details: readonly { field: string; message: string }[] = [], requestId?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }
}

/** One Server-Sent Event of a stream route. */
export interface StreamEvent {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

export interface OrchestratorClient {
  call<R extends OptionalRequest<RouteName>>(route: R, request?: RequestOf<R>): Promise<ResponseOf<R>>;
  call<R extends RouteName>(route: R, request: RequestOf<R>): Promise<ResponseOf<R>>;
  /** The URL a call goes to. */
  url<R extends RouteName>(route: R, request?: Pick<RequestOf<R>, 'params' | 'query'>): string;
  /** The events of a `text/event-stream` route, as they arrive, until the answer ends or `signal` aborts. */
  stream<R extends RouteName>(route: R, request?: Pick<RequestOf<R>, 'params' | 'query'> & { readonly lastEventId?: string; readonly signal?: AbortSignal }): AsyncGenerator<StreamEvent>;
}

export function createClient(options: ClientOptions): OrchestratorClient {
  const send = options.fetch ?? fetch;
  const base = options.baseUrl.replace(/\/+$/, '');
  const authHeaders = (): Record<string, string> => ({
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(options.apiKey ? { 'x-api-key': options.apiKey } : {}),
    ...options.headers,
  });

  const url = (route: RouteName, request?: { readonly params?: unknown; readonly query?: unknown }): string => {
    const spec = ROUTE_MAP[route];
    const params = (request?.params ?? {}) as Record<string, unknown>;
    const path = spec.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined || value === null || value === '') throw new TypeError(`${route} needs the path parameter ${name}`);
      return encodeURIComponent(String(value));
    });
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries((request?.query ?? {}) as Record<string, QueryValue>)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) value.forEach((item) => search.append(name, String(item)));
      else search.append(name, String(value));
    }
    const query = search.toString();
    return `${base}${path}${query ? `?${query}` : ''}`;
  };

  const call = async (route: RouteName, request: { readonly params?: unknown; readonly query?: unknown; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> } = {}): Promise<unknown> => {
    const spec: { readonly method: string; readonly rawResponse?: boolean; readonly mediaType?: string } = ROUTE_MAP[route];
    const hasBody = request.body !== undefined;
    const response = await send(url(route, request), {
      method: spec.method,
      headers: { accept: spec.mediaType ?? 'application/json', ...(hasBody ? { 'content-type': 'application/json' } : {}), ...authHeaders(), ...request.headers },
      ...(hasBody ? { body: JSON.stringify(request.body) } : {}),
    });
    const text = await response.text();
    if (!response.ok) throw apiError(response.status, text, response.headers.get('x-request-id') ?? undefined);
    if (spec.mediaType) return text;
    const parsed = parseJson(text);
    if (spec.rawResponse) return parsed;
    return (parsed as { data?: unknown } | undefined)?.data;
  };

  async function* stream(route: RouteName, request: { readonly params?: unknown; readonly query?: unknown; readonly lastEventId?: string; readonly signal?: AbortSignal } = {}): AsyncGenerator<StreamEvent> {
    const response = await send(url(route, request), {
      headers: { accept: 'text/event-stream', ...(request.lastEventId ? { 'last-event-id': request.lastEventId } : {}), ...authHeaders() },
      ...(request.signal ? { signal: request.signal } : {}),
    });
    if (!response.ok) throw apiError(response.status, await response.text(), response.headers.get('x-request-id') ?? undefined);
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = parseEventBlock(block);
          if (event) yield event;
        }
      }
    } catch (error) {
      if (request.signal?.aborted) return;
      throw error;
    } finally {
      reader.releaseLock();
    }
  }

  return { call: call as OrchestratorClient['call'], url: url as OrchestratorClient['url'], stream: stream as OrchestratorClient['stream'] };
}

/** One SSE block: `id:`, `event:` and `data:` lines (data lines joined); comments and `retry:` alone are no event. */
export function parseEventBlock(block: string): StreamEvent | undefined {
  let id: string | undefined;
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 ? undefined : { id, event, data: data.join('\n') };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new OrchestratorApiError(502, 'BAD_RESPONSE', `the answer is not JSON: ${text.slice(0, 200)}`);
  }
}

function apiError(status: number, text: string, requestId: string | undefined): OrchestratorApiError {
  let body: { message?: unknown; error_code?: unknown; details?: unknown; request_id?: unknown } | undefined;
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = undefined;
  }
  const details = Array.isArray(body?.details) ? (body.details as { field: string; message: string }[]) : [];
  return new OrchestratorApiError(
    status,
    typeof body?.error_code === 'string' ? body.error_code : `HTTP_${status}`,
    typeof body?.message === 'string' ? body.message : text.slice(0, 200) || `HTTP ${status}`,
    details,
    typeof body?.request_id === 'string' ? body.request_id : requestId,
  );
}
