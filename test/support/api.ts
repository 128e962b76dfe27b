import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { startLocalRuntime, type LocalRuntime } from '../../local/runtime.ts';

export interface ApiReply<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T & { success: boolean; message: string; data: Record<string, unknown> & T; error_code?: string; details?: { field: string; message: string }[]; request_id: string };
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is, for malformed-input tests. */
  rawBody?: string;
  headers?: Record<string, string>;
}

/**
 * The local runtime on a random loopback port, backed by the run's emulators with tables, a dead-letter queue
 * and a payload bucket of its own (all named after its workflows table).
 */
export async function startTestApi(overrides: Partial<Parameters<typeof startLocalRuntime>[0]> = {}): Promise<{ runtime: LocalRuntime; call: <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>> }> {
  const runtime = await startLocalRuntime({
    port: 0,
    host: '127.0.0.1',
    dynamoEndpoint: inject('dynamoEndpoint'),
    sqsEndpoint: inject('fauxqsEndpoint'),
    s3Endpoint: inject('fauxqsEndpoint'),
    workflowsTableName: `api-${randomUUID()}`,
    region: 'us-east-1',
    serviceVersion: 'test',
    retryMilliseconds: 1,
    waitMilliseconds: 1,
    // The access log (a line per request) and info lines would bury the test report; warnings and errors show.
    logLevel: 'warn',
    ...overrides,
  });
  const call = async <T,>(method: string, path: string, options: CallOptions = {}): Promise<ApiReply<T>> => {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${runtime.url}${path}`, { method, headers, body });
    const text = await response.text();
    // The event stream answers text/event-stream: its text is the body's `data` (no envelope).
    const parsed = /json/.test(response.headers.get('content-type') ?? '') ? JSON.parse(text) : { success: response.ok, message: '', data: text };
    return { status: response.status, headers: response.headers, body: parsed as ApiReply<T>['body'] };
  };
  return { runtime, call };
}
