import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { routes } from '../../functions/routes.ts';
import { startTestApi } from '../support/api.ts';

let runtime: LocalRuntime;

beforeAll(async () => {
  ({ runtime } = await startTestApi());
});
afterAll(() => runtime.close());

const send = (method: string, path: string) => fetch(`${runtime.url}${path}`, { method });

describe('methods on the local server', () => {
  it('never takes a fixed path word for an id: a wrong method on it is 405 with that resource\'s methods', async () => {
    const cases: Array<[string, string, string]> = [
      ['PUT', '/workflows/health', 'GET, HEAD, OPTIONS'],
      ['DELETE', '/workflows/templates', 'GET, HEAD, OPTIONS'],
      ['GET', '/registry/health-check', 'POST, OPTIONS'],
      ['DELETE', '/registry/register', 'POST, OPTIONS'],
      ['POST', '/workflows/statistics', 'GET, HEAD, OPTIONS'],
    ];
    for (const [method, path, allow] of cases) {
      const reply = await send(method, path);
      expect(reply.status, `${method} ${path}`).toBe(405);
      expect(reply.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(((await reply.json()) as { error_code: string }).error_code).toBe('METHOD_NOT_ALLOWED');
    }
  });

  it('answers OPTIONS with the resource\'s own methods, for fixed words and ids alike', async () => {
    const templates = await send('OPTIONS', '/workflows/templates');
    expect(templates.status).toBe(204);
    expect(templates.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    const workflow = await send('OPTIONS', '/workflows/3f2a0c4e-0000-4000-8000-000000000000');
    expect(workflow.headers.get('allow')).toBe('GET, PUT, DELETE, HEAD, OPTIONS');
  });

  it('answers HEAD like GET, without the body', async () => {
    const get = await send('GET', '/health');
    const head = await send('HEAD', '/health');
    expect(head.status).toBe(get.status);
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await head.text()).toBe('');
    expect((await send('HEAD', '/workflows/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  });

  it('still routes every method of the route table to its route', async () => {
    for (const route of Object.values(routes)) {
      const path = route.path.replace(/\{(\w+)\}/g, 'x0');
      const reply = await send(route.method, path);
      const text = await reply.text();
      // The event stream answers text/event-stream: the handler's own answer, not an error.
      const { error_code } = (/json/.test(reply.headers.get('content-type') ?? '') ? JSON.parse(text) : {}) as { error_code?: string };
      // The handler answered (an absent id is its own 404 NOT_FOUND), not the router.
      expect(error_code, `${route.method} ${route.path}`).not.toBe('ROUTE_NOT_FOUND');
      expect(error_code, `${route.method} ${route.path}`).not.toBe('METHOD_NOT_ALLOWED');
    }
  });
});

describe('the OpenAPI document describes what the server does', () => {
  it('documents GET /openapi.json as the raw document it returns, not inside the envelope', async () => {
    const document = (await (await send('GET', '/openapi.json')).json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, unknown> } }> }> }>> };
    expect(document.openapi).toBe('3.1.0');
    const own = document.paths['/openapi.json']!['get']!.responses['200']!.content!['application/json']!.schema;
    expect(own.properties?.['success']).toBeUndefined();
    const listing = document.paths['/workflows']!['get']!.responses['200']!.content!['application/json']!.schema;
    expect(listing.properties?.['success']).toEqual({ const: true });
  });

  it('documents 431, which the server answers for an over-long URL', async () => {
    const document = (await (await send('GET', '/openapi.json')).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(Object.keys(document.paths['/workflows']!['get']!.responses)).toContain('431');
    expect((await send('GET', `/workflows?q=${'x'.repeat(20_000)}`)).status).toBe(431);
  });
});

describe('query parameters', () => {
  it('refuses one the route does not declare, naming it and what the route takes', async () => {
    const typo = (await (await send('GET', '/workflows?stauts=active')).json()) as { error_code: string; details: { field: string; message: string }[] };
    expect(typo.error_code).toBe('VALIDATION_ERROR');
    expect(typo.details).toEqual([{ field: 'stauts', message: expect.stringMatching(/^unknown query parameter; this route takes page, page_size, status/) }]);
    const none = (await (await send('GET', '/health?verbose=1')).json()) as { details: { field: string; message: string }[] };
    expect(none.details).toEqual([{ field: 'verbose', message: 'unknown query parameter; this route takes none' }]);
    expect((await send('GET', '/workflows?status=active&page_size=5')).status).toBe(200);
  });
});
