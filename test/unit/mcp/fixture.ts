import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { LocalRuntime } from '../../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../../support/api.ts';

/**
 * What the MCP suites run against: the local runtime on loopback (its emulators, the real action runner) and a
 * loopback `payments` service that answers `/ok`, fails `/fail` with a 500, and holds `/hold` until released;
 * registered as `billing` (registerBilling), its OpenAPI document (`/openapi.json`) gives one service operation.
 */

export type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;

export interface McpFixture {
  readonly runtime: LocalRuntime;
  readonly call: Call;
  /** Paths the service was called with, in order. */
  readonly served: string[];
  /** Registers the service as `billing`, with its API document: GET /tools then lists `billing.createRefund`. */
  registerBilling(extra?: Record<string, unknown>, headers?: Record<string, string>): Promise<void>;
  /** Answers every held `/hold` call (200). */
  release(): void;
  /** Resolves once a call to `/hold` is being held. */
  holding(): Promise<void>;
  createWorkflow(definition: Record<string, unknown>, headers?: Record<string, string>): Promise<string>;
  close(): Promise<void>;
}

export const serviceCall = (id: string, endpoint: string, extra: Record<string, unknown> = {}) => ({
  action_id: id,
  action_type: 'service_call',
  config: { service: 'payments', endpoint, method: 'POST', parameters: {} },
  retry: { max_attempts: 1, interval_seconds: 1 },
  ...extra,
});

/** The API document of `billing` (the same loopback service, registered with `openapi_path`): one operation. */
const BILLING_DOCUMENT = {
  openapi: '3.1.0',
  info: { title: 'Billing', version: '1.0.0' },
  paths: {
    '/refunds': {
      post: {
        operationId: 'createRefund',
        summary: 'Refund a charge',
        requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { charge_id: { type: 'string' } }, required: ['charge_id'] } } } },
        responses: { '200': { description: 'the refund' } },
      },
    },
  },
};

export async function startMcpFixture(overrides: Parameters<typeof startTestApi>[0] = {}): Promise<McpFixture> {
  const held: ServerResponse[] = [];
  const waiters: (() => void)[] = [];
  const served: string[] = [];
  const service: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      served.push(path);
      const reply = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (path === '/hold') {
        held.push(response);
        waiters.splice(0).forEach((wake) => wake());
        return;
      }
      if (path === '/fail') return reply(500, { error: 'card declined upstream' });
      if (path === '/openapi.json') return reply(200, BILLING_DOCUMENT);
      reply(200, { ok: true, path });
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  const serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  const { runtime, call } = await startTestApi({ serviceUrls: { PAYMENTS_URL: serviceUrl }, log: () => undefined, ...overrides });
  const release = () => held.splice(0).forEach((response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"released":true}'));
  return {
    runtime,
    call,
    served,
    async registerBilling(extra = {}, headers = {}) {
      const registered = await call('POST', '/registry/register', { body: { name: 'billing', url: serviceUrl, openapi_path: '/openapi.json', ...extra }, headers });
      expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    },
    release,
    holding: () => (held.length > 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve))),
    async createWorkflow(definition, headers = {}) {
      const created = await call('POST', '/workflows', { body: definition, headers });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body.data.workflow_id as string;
    },
    async close() {
      release();
      await runtime.engine.idle();
      await runtime.close();
      service.closeAllConnections();
      await new Promise<void>((resolve) => service.close(() => resolve()));
    },
  };
}

/** Reads a run until `accept` says yes (or fails after `ms`). */
export async function runUntil(call: Call, executionId: string, accept: (run: { status: string }) => boolean, ms = 10_000): Promise<{ status: string }> {
  const deadline = Date.now() + ms;
  for (;;) {
    const run = (await call<{ status: string }>('GET', `/workflows/executions/${executionId}`)).body.data;
    if (accept(run) || Date.now() > deadline) return run;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
