import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionErrorName } from '../../core/errors.ts';
import { createActionRunner } from '../../functions/workers/action-runner.ts';
import type { ServiceCallPayload } from '../../functions/workers/service-call.ts';
import { fixedRegistry } from '../support/fixed-registry.ts';
import { testHttp } from '../support/outbound.ts';
import { failure } from '../support/service-call-failure.ts';

/** A service registered at http://svc/api/v1 never gets a call outside /api/v1, whatever a template renders. */

const paths: string[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    paths.push(request.url ?? '');
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: request.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const run = (endpoint: string, values?: Record<string, unknown>) => {
  const payload: ServiceCallPayload = { action_id: 'a', execution_id: 'e', workflow_id: 'w', workflow_version: 1, service: 'svc', endpoint, method: 'GET', timeout_seconds: 5, ...(values ? { endpoint_values: values } : {}) };
  return createActionRunner({ registry: fixedRegistry({ svc: base }), env: {}, http: testHttp() })(payload);
};

describe('templated path segments', () => {
  it('percent-encode a value, so ../../admin/secret is one segment under the base path', async () => {
    expect((await run('/items/{}', { '0': '../../admin/secret' })).response).toEqual({ path: '/api/v1/items/..%2F..%2Fadmin%2Fsecret' });
    expect((await run('/items/{}/tags/{}', { '0': 'a b?c#d', '1': 42 })).response).toEqual({ path: '/api/v1/items/a%20b%3Fc%23d/tags/42' });
  });

  it('refuse a value that is a dot segment, and values that do not match the placeholders', async () => {
    const before = paths.length;
    for (const value of ['..', '.']) expect((await failure(run('/items/{}', { '0': value }))).error.name).toBe(ActionErrorName.ForbiddenAddress);
    expect((await failure(run('/items/{}/{}', { '0': 'x' }))).error.name).toBe(ActionErrorName.ServiceRejected);
    expect(paths.length).toBe(before);
  });
});

describe('the base path check (defence in depth)', () => {
  it('refuses an endpoint rendered before it reached the runner that climbs out of the base path, before calling', async () => {
    const before = paths.length;
    for (const endpoint of ['/items/../../admin/secret', '/items/%2e%2e/%2E%2E/admin/secret', '/../v2/items']) {
      const { error, details } = await failure(run(endpoint));
      expect(error.name, endpoint).toBe(ActionErrorName.ForbiddenAddress);
      expect(details.message).toMatch(/leaves the service's base path \/api\/v1/);
    }
    expect(paths.length).toBe(before);
  });

  it('still allows dot segments that stay under it', async () => {
    expect((await run('/items/../other')).response).toEqual({ path: '/api/v1/other' });
  });
});
