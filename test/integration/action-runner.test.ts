import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionErrorName, RETRYABLE_ACTION_ERRORS } from '../../core/errors.ts';
import { createActionRunner, serviceUrlFromEnvironment, serviceUrlVariable, type ActionRunnerDeps } from '../../functions/workers/action-runner.ts';
import type { LookupAll } from '../../adapters/http/guarded-agent.ts';
import { MAX_ERROR_MESSAGE_CHARS, ServiceCallError } from '../../functions/workers/service-call-errors.ts';
import type { ServiceCallPayload } from '../../functions/workers/service-call.ts';
import type { ResolverRegistry } from '../../functions/workers/service-resolver.ts';
import { fixedRegistry } from '../support/fixed-registry.ts';
import { testHttp } from '../support/outbound.ts';
import { failure } from '../support/service-call-failure.ts';

/** What the fake service saw of each request. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const seen: Seen[] = [];
let server: Server;
let baseUrl: string;
/** A loopback port nothing listens on. */
let closedPort: number;

const LARGE = 300 * 1024;

/** One fake service with a route per behaviour under test. */
function handle(request: IncomingMessage, response: ServerResponse, body: string): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    response.end(JSON.stringify(value));
  };
  const path = url.pathname.replace(/^\/base/, '');
  if (path === '/echo') return json(200, { method: request.method, query: [...url.searchParams], body: body === '' ? null : (JSON.parse(body) as unknown) });
  if (path === '/text') {
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    response.end('plain text, not JSON');
    return;
  }
  if (path === '/problem') return json(200, { type: 'about:blank' }, { 'content-type': 'application/problem+json' });
  if (path === '/not-json') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('this is not { json');
    return;
  }
  if (path === '/empty') {
    response.writeHead(204);
    response.end();
    return;
  }
  if (path === '/cookie') return json(200, { ok: true }, { 'set-cookie': 'session=secret', 'x-custom': 'kept' });
  const status = /^\/status\/(\d{3})$/.exec(path);
  if (status) return json(Number(status[1]), { error: `status ${status[1]}`, detail: 'x'.repeat(5000) }, status[1] === '429' ? { 'retry-after': '7' } : {});
  if (path === '/slow') {
    const timer = setTimeout(() => json(200, { late: true }), 5000);
    response.on('close', () => clearTimeout(timer));
    return;
  }
  if (path === '/slow-body') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.write('{"partial":');
    const timer = setTimeout(() => response.end('true}'), 5000);
    response.on('close', () => clearTimeout(timer));
    return;
  }
  if (path === '/reset') {
    request.socket.destroy();
    return;
  }
  if (path === '/large') {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(LARGE) });
    response.end(JSON.stringify({ data: 'é'.repeat((LARGE - 12) / 2) }).padEnd(LARGE, ' '));
    return;
  }
  if (path === '/large-chunked') {
    response.writeHead(200, { 'content-type': 'text/plain' });
    for (let sent = 0; sent < LARGE; sent += 16 * 1024) response.write('y'.repeat(Math.min(16 * 1024, LARGE - sent)));
    response.end();
    return;
  }
  if (path === '/escapes') {
    // 150 KB of control characters: each becomes six characters in JSON (\u0001).
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('\u0001'.repeat(150 * 1024));
    return;
  }
  if (path === '/redirect') {
    response.writeHead(302, { location: '/base/echo?from=redirect' });
    response.end();
    return;
  }
  if (path === '/redirect-see-other') {
    response.writeHead(303, { location: '/base/echo' });
    response.end();
    return;
  }
  if (path === '/redirect-metadata') {
    response.writeHead(307, { location: 'http://169.254.169.254/latest/meta-data/iam/' });
    response.end();
    return;
  }
  if (path === '/redirect-loop') {
    response.writeHead(302, { location: '/base/redirect-loop' });
    response.end();
    return;
  }
  if (path === '/redirect-file') {
    response.writeHead(302, { location: 'file:///etc/passwd' });
    response.end();
    return;
  }
  json(404, { error: `no route ${path}` });
}

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      handle(request, response, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`;
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  closedPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A runner that finds `svc` at the fake service and may call loopback, as the local runtime does. */
function runner(deps: Partial<ActionRunnerDeps> = {}) {
  return createActionRunner({ registry: fixedRegistry({ svc: baseUrl }), env: {}, http: testHttp(), ...deps });
}

function payload(overrides: Partial<ServiceCallPayload> = {}): ServiceCallPayload {
  return {
    action_id: 'fetch_doc',
    execution_id: 'exec-1',
    workflow_id: 'wf-1',
    workflow_version: 3,
    service: 'svc',
    endpoint: '/echo',
    method: 'GET',
    timeout_seconds: 5,
    ...overrides,
  };
}

const lastSeen = (): Seen => {
  const last = seen[seen.length - 1];
  if (!last) throw new Error('the service saw no request');
  return last;
};

describe('successful calls', () => {
  it('returns status, headers and the parsed JSON of a JSON response', async () => {
    const result = await runner()(payload());
    expect(result.status_code).toBe(200);
    expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(result.response).toEqual({ method: 'GET', query: [], body: null });
  });

  it('returns text for a response that is not JSON, and parses +json media types', async () => {
    expect((await runner()(payload({ endpoint: '/text' }))).response).toBe('plain text, not JSON');
    expect((await runner()(payload({ endpoint: '/problem' }))).response).toEqual({ type: 'about:blank' });
  });

  it('hands over the text when a response claims JSON but is not', async () => {
    expect((await runner()(payload({ endpoint: '/not-json' }))).response).toBe('this is not { json');
  });

  it('returns null for an empty body', async () => {
    expect(await runner()(payload({ endpoint: '/empty', method: 'DELETE' }))).toMatchObject({ status_code: 204, response: null });
  });

  it('encodes GET parameters as the query: arrays repeated, objects as JSON, null left out', async () => {
    const result = await runner()(payload({ parameters: { q: 'a b&c', page: 2, exact: true, tags: ['x', 'y'], filter: { status: 'open' }, none: null } }));
    expect(result.response).toEqual({
      method: 'GET',
      body: null,
      query: [['q', 'a b&c'], ['page', '2'], ['exact', 'true'], ['tags', 'x'], ['tags', 'y'], ['filter', '{"status":"open"}']],
    });
    expect(lastSeen().body).toBe('');
  });

  it('sends DELETE parameters as the query too', async () => {
    await runner()(payload({ method: 'DELETE', parameters: { id: 7 } }));
    expect(lastSeen()).toMatchObject({ method: 'DELETE', url: '/base/echo?id=7', body: '' });
  });

  it('sends POST, PUT and PATCH parameters as a JSON body that keeps every type', async () => {
    const parameters = { count: 42, ratio: 0.5, flag: false, nested: { list: [1, 'two', null] }, empty: null, text: 'ü' };
    for (const method of ['POST', 'PUT', 'PATCH'] as const) {
      const result = await runner()(payload({ method, parameters }));
      expect(result.response).toEqual({ method, query: [], body: parameters });
      expect(lastSeen().headers['content-type']).toBe('application/json');
      expect(Number.isInteger((JSON.parse(lastSeen().body) as { count: unknown }).count)).toBe(true);
    }
  });

  it('sends an empty JSON object when a POST has no parameters', async () => {
    expect((await runner()(payload({ method: 'POST' }))).response).toEqual({ method: 'POST', query: [], body: {} });
  });

  it('appends the endpoint to the base URL path, with or without slashes', async () => {
    const run = createActionRunner({ registry: fixedRegistry({ svc: `${baseUrl}/` }), env: {}, http: testHttp() });
    await run(payload({ endpoint: 'echo' }));
    expect(lastSeen().url).toBe('/base/echo');
  });

  it('sends the payload headers, a W3C traceparent carrying the execution trace id, and the correlation headers', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await runner()(payload({ trace_id: traceId, item_index: 4, headers: { 'X-Tenant': 'acme', Accept: 'application/vnd.acme+json' } }));
    const { headers } = lastSeen();
    expect(headers['x-tenant']).toBe('acme');
    expect(headers['accept']).toBe('application/vnd.acme+json');
    expect(headers['traceparent']).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    expect(headers['traceparent']).not.toMatch(/-0{16}-/);
    expect(headers['x-trace-id']).toBe(traceId);
    expect(headers['x-request-id']).toBe('exec-1:fetch_doc:4');
    expect(headers['x-workflow-execution-id']).toBe('exec-1');
  });

  it('starts a trace when the payload has none (or an invalid one), with a fresh span per call', async () => {
    const run = runner();
    await run(payload());
    const first = lastSeen().headers;
    await run(payload({ trace_id: 'not-a-trace-id' }));
    const second = lastSeen().headers;
    for (const headers of [first, second]) {
      expect(headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(String(headers['traceparent']).split('-')[1]).toBe(headers['x-trace-id']);
    }
    expect(first['x-trace-id']).not.toBe(second['x-trace-id']);
    expect(first['x-request-id']).toBe('exec-1:fetch_doc');
  });

  it('does not let the payload set framing headers or forge the trace headers', async () => {
    await runner()(payload({ method: 'POST', parameters: { a: 1 }, headers: { Host: 'evil.example', 'Content-Length': '1', traceparent: 'forged', 'X-Trace-Id': 'forged' } }));
    const { headers, body } = lastSeen();
    expect(headers['host']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(body).toBe('{"a":1}');
    expect(headers['traceparent']).not.toBe('forged');
    expect(headers['x-trace-id']).not.toBe('forged');
  });

  it('keeps cookies out of the result headers', async () => {
    const result = await runner()(payload({ endpoint: '/cookie' }));
    expect(result.headers['x-custom']).toBe('kept');
    expect(result.headers).not.toHaveProperty('set-cookie');
  });

  it('follows redirects on the same service, turning a 303 into a GET', async () => {
    expect((await runner()(payload({ endpoint: '/redirect' }))).response).toMatchObject({ query: [['from', 'redirect']] });
    const result = await runner()(payload({ endpoint: '/redirect-see-other', method: 'POST', parameters: { a: 1 } }));
    expect(result.response).toEqual({ method: 'GET', query: [], body: null });
  });
});

describe('resolving services', () => {
  it('falls back to <NAME>_URL from the configuration when the service is not registered', async () => {
    const run = createActionRunner({ registry: fixedRegistry(), env: { ANALYSIS_SERVICE_URL: baseUrl }, http: testHttp() });
    const result = await run(payload({ service: 'analysis_service' }));
    expect(result.status_code).toBe(200);
    expect(lastSeen().url).toBe('/base/echo');
  });

  it('prefers the registry to the configuration', async () => {
    const run = createActionRunner({ registry: fixedRegistry({ svc: baseUrl }), env: { SVC_URL: `http://127.0.0.1:${closedPort}` }, http: testHttp() });
    expect((await run(payload())).status_code).toBe(200);
  });

  it('names configuration variables by upper-casing and replacing other characters with _', () => {
    expect(serviceUrlVariable('analysis_service')).toBe('ANALYSIS_SERVICE_URL');
    expect(serviceUrlVariable('source-agent.v2')).toBe('SOURCE_AGENT_V2_URL');
    const lookup = serviceUrlFromEnvironment({ SOURCE_AGENT_URL: ' http://source ', BLANK_URL: '  ' });
    expect(lookup('source-agent')).toBe('http://source');
    expect(lookup('blank')).toBeUndefined();
    expect(lookup('missing')).toBeUndefined();
  });

  it('fails with ServiceNotFoundError naming the service and the variable when neither knows it', async () => {
    const run = createActionRunner({ registry: fixedRegistry(), env: {}, http: testHttp() });
    const { error, details } = await failure(run(payload({ service: 'ghost_service', parameters: { a: 1 } })));
    expect(error.name).toBe(ActionErrorName.ServiceNotFound);
    expect(error.retryable).toBe(false);
    expect(details.message).toMatch(/ghost_service/);
    expect(details.message).toMatch(/GHOST_SERVICE_URL/);
    expect(details.request).toMatchObject({ service: 'ghost_service', method: 'GET', url: null, parameters: { a: 1 } });
  });

  it('reports an unreadable registry as a retryable connection error', async () => {
    const broken: ResolverRegistry = { ...fixedRegistry(), instancesOf: () => Promise.reject(new Error('DynamoDB is unavailable')) };
    const { error } = await failure(createActionRunner({ registry: broken, env: { SVC_URL: baseUrl }, http: testHttp() })(payload()));
    expect(error.name).toBe(ActionErrorName.ServiceConnection);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/registry/);
  });
});

describe('failed calls', () => {
  it.each([
    [500, ActionErrorName.ServiceUnavailable, true],
    [503, ActionErrorName.ServiceUnavailable, true],
    [429, ActionErrorName.ServiceThrottled, true],
    [400, ActionErrorName.ServiceRejected, false],
    [404, ActionErrorName.ServiceRejected, false],
    [422, ActionErrorName.ServiceRejected, false],
  ])('maps %i to %s (retryable: %s)', async (status, name, retryable) => {
    const { error, details } = await failure(runner()(payload({ endpoint: `/status/${status}` })));
    expect(error.name).toBe(name);
    expect(error.retryable).toBe(retryable);
    expect(RETRYABLE_ACTION_ERRORS.includes(error.name)).toBe(retryable);
    expect(details.status_code).toBe(status);
    if (status === 429) expect(details.retry_after).toBe('7');
  });

  it('puts the request, secrets redacted, and the truncated response in the error message', async () => {
    const { error, details } = await failure(
      runner()(payload({ endpoint: '/status/502', method: 'POST', parameters: { document: 'doc-1', api_key: 'k-123', max_tokens: 5 }, headers: { Authorization: 'Bearer s3cret', 'X-Api-Key': 'k', 'X-Tenant': 'acme' } })),
    );
    expect(lastSeen().headers['authorization']).toBe('Bearer s3cret');
    expect(error.message).not.toMatch(/s3cret|k-123/);
    expect(details.message).toMatch(/svc answered 502/);
    expect(details.request).toMatchObject({
      service: 'svc',
      method: 'POST',
      url: `${baseUrl}/status/502`,
      headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', 'x-tenant': 'acme', 'x-request-id': 'exec-1:fetch_doc', 'content-type': 'application/json' },
      parameters: { document: 'doc-1', api_key: '[redacted]', max_tokens: 5 },
    });
    expect(details.response).toMatchObject({ truncated: true, preview: expect.stringMatching(/^\{"error":"status 502"/) });
    expect(error.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
  });

  it('redacts secret-looking query parameters in the reported URL', async () => {
    const { details } = await failure(runner()(payload({ endpoint: '/status/401', parameters: { access_token: 'tok', q: 'x' } })));
    expect(details.request.url).toBe(`${baseUrl}/status/401?access_token=%5Bredacted%5D&q=x`);
  });

  it('keeps the message within bounds when the request is huge', async () => {
    const { error, details } = await failure(runner()(payload({ endpoint: '/status/500', method: 'POST', parameters: { text: 'z'.repeat(100_000) } })));
    expect(error.message.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
    expect(details.request.parameters).toMatchObject({ truncated: true, size_bytes: expect.any(Number) });
  });

  it('times out with ServiceTimeoutError when the service does not answer in time', async () => {
    const started = performance.now();
    const { error, details } = await failure(runner()(payload({ endpoint: '/slow', timeout_seconds: 0.3 })));
    expect(error.name).toBe(ActionErrorName.ServiceTimeout);
    expect(error.retryable).toBe(true);
    expect(details.message).toMatch(/did not answer within 0.3 s/);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('times out while the body is still arriving', async () => {
    const { error } = await failure(runner()(payload({ endpoint: '/slow-body', timeout_seconds: 0.3 })));
    expect(error.name).toBe(ActionErrorName.ServiceTimeout);
  });

  it('maps a refused connection to ServiceConnectionError', async () => {
    const run = createActionRunner({ registry: fixedRegistry({ svc: `http://127.0.0.1:${closedPort}` }), env: {}, http: testHttp() });
    const { error, details } = await failure(run(payload()));
    expect(error.name).toBe(ActionErrorName.ServiceConnection);
    expect(error.retryable).toBe(true);
    expect(details.message).toMatch(/ECONNREFUSED/);
  });

  it('maps a connection reset to ServiceConnectionError', async () => {
    const { error } = await failure(runner()(payload({ endpoint: '/reset' })));
    expect(error.name).toBe(ActionErrorName.ServiceConnection);
  });

  it('maps a DNS failure to ServiceConnectionError', async () => {
    const lookup: LookupAll = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' }));
    const run = createActionRunner({ registry: fixedRegistry({ svc: 'http://nowhere.invalid' }), env: {}, http: testHttp({ lookup }) });
    const { error, details } = await failure(run(payload()));
    expect(error.name).toBe(ActionErrorName.ServiceConnection);
    expect(details.message).toMatch(/could not resolve nowhere.invalid: ENOTFOUND/);
  });

  it('rejects with the caller’s reason, not a service error, when the caller cancels', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('execution stopped')), 50);
    const started = performance.now();
    const rejection: unknown = await runner()(payload({ endpoint: '/slow' }), { signal: controller.signal }).catch((error: unknown) => error);
    expect(rejection).not.toBeInstanceOf(ServiceCallError);
    expect(rejection).toMatchObject({ message: 'execution stopped' });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('gives up after too many redirects', async () => {
    const { error } = await failure(runner({ maxRedirects: 3 })(payload({ endpoint: '/redirect-loop' })));
    expect(error.name).toBe(ActionErrorName.ServiceRejected);
    expect(error.message).toMatch(/more than 3 redirects/);
  });

  it('refuses an invalid header in the payload before calling', async () => {
    const before = seen.length;
    const { error } = await failure(runner()(payload({ headers: { 'X-Bad': 'line\r\nInjected: yes' } })));
    expect(error.name).toBe(ActionErrorName.ServiceRejected);
    expect(seen.length).toBe(before);
  });
});

describe('large responses', () => {
  it('replaces a body over the limit (declared length) with its size and a preview', async () => {
    const result = await runner({ previewBytes: 64 })(payload({ endpoint: '/large' }));
    expect(result.status_code).toBe(200);
    expect(result.response).toEqual({ truncated: true, size_bytes: LARGE, content_type: 'application/json', preview: expect.stringMatching(/^\{"data":"é+$/) });
    // 64 bytes: `{"data":"` is 9 bytes, then two-byte characters; the split one at the end is dropped.
    expect((result.response as { preview: string }).preview).toHaveLength(9 + 27);
  });

  it('counts a chunked body over the limit', async () => {
    const result = await runner()(payload({ endpoint: '/large-chunked' }));
    expect(result.response).toMatchObject({ truncated: true, size_bytes: LARGE, content_type: 'text/plain' });
    expect((result.response as { preview: string }).preview).toHaveLength(4096);
    expect(JSON.stringify(result).length).toBeLessThan(10_000);
  });

  it('applies the limit to the JSON the state will hold, not only to the bytes received', async () => {
    const result = await runner()(payload({ endpoint: '/escapes' }));
    expect(result.response).toMatchObject({ truncated: true, size_bytes: 150 * 1024 });
  });

  it('honours a configured limit', async () => {
    const result = await runner({ maxResponseBytes: 100 })(payload({ endpoint: '/echo', parameters: { padding: 'p'.repeat(200) } }));
    expect(result.response).toMatchObject({ truncated: true });
    expect((await runner({ maxResponseBytes: 100 })(payload())).response).toEqual({ method: 'GET', query: [], body: null });
  });
});
