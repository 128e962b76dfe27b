import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { configureSharedLog } from '../../functions/observability/logger.ts';
import { createDocumentClient } from '../../adapters/aws/dynamo/client.ts';
import { DynamoExecutionStore } from '../../adapters/aws/dynamo/dynamo-execution-store.ts';
import { EXECUTION_TABLE } from '../../adapters/aws/dynamo/execution-table.ts';
import { ActionErrorName } from '../../core/errors.ts';
import type { Execution } from '../../core/execution/model.ts';
import { createActionRunner, type ActionRunner } from '../../functions/workers/action-runner.ts';
import type { ServiceCallPayload } from '../../functions/workers/service-call.ts';
import { ensureTable } from '../../local/tables.ts';
import { fixedRegistry } from '../support/fixed-registry.ts';
import { serviceCallPayload, testHttp } from '../support/outbound.ts';

/**
 * In AWS nothing but the runner sees a service call while it happens: each attempt's start and end are
 * recorded on the execution (the real DynamoDB adapter on the emulator), around real HTTP calls on loopback.
 */

let server: Server;
let baseUrl: string;
/** Set by a test to observe the stored progress while the service is handling the request. */
let duringCall: (() => Promise<void>) | undefined;

beforeAll(async () => {
  server = createServer((request, response) => {
    void (async () => {
      await duringCall?.();
      const status = request.url === '/fails' ? 503 : request.url === '/rejects' ? 400 : 200;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ path: request.url }));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('action runner: attempts recorded as progress', () => {
  let store: DynamoExecutionStore;
  let run: ActionRunner;
  let tick = 0;

  beforeEach(async () => {
    duringCall = undefined;
    const client = createDocumentClient({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const tableName = `runner-progress-${randomUUID()}`;
    await ensureTable(client, EXECUTION_TABLE, tableName);
    store = new DynamoExecutionStore(client, tableName);
    const clock = { now: () => new Date(Date.UTC(2026, 10, 25, 10, 0, ++tick)).toISOString() };
    run = createActionRunner({ registry: fixedRegistry(), env: { SVC_URL: baseUrl }, http: testHttp(), progress: { attempts: store, clock } });
    await store.create(execution());
  });

  function execution(): Execution {
    return {
      execution_id: 'exec-1',
      workflow_id: 'docs',
      workflow_version: 1,
      status: 'running',
      parameters: {},
      trace_id: 'b'.repeat(32),
      started_by: 'alice',
      tenant: 'default', created_at: '2026-11-25T09:00:00.000Z',
      actions: ['fetch', 'other'].map((id) => ({ action_id: id, action_type: 'service_call', status: 'pending' as const, attempts: 0 })),
    };
  }

  const payload = (endpoint: string, extra: Partial<ServiceCallPayload> = {}): ServiceCallPayload => serviceCallPayload(endpoint, { action_id: 'fetch', workflow_id: 'docs' }, extra);
  const fetchProgress = async () => (await store.get('exec-1'))?.actions.find((action) => action.action_id === 'fetch');

  it('shows the action running during the call, and completed with its output after it', async () => {
    let during: unknown;
    duringCall = async () => {
      // The start is written while the request is in flight: wait until it lands.
      await vi.waitFor(async () => expect((await fetchProgress())?.status).toBe('running'));
      during = await fetchProgress();
    };
    await run(payload('/ok'));
    expect(during).toMatchObject({ status: 'running', attempts: 1 });
    const after = await fetchProgress();
    expect(after).toMatchObject({ status: 'completed', attempts: 1, output: { status_code: 200, response: { path: '/ok' } } });
    expect(after!.started_at! < after!.ended_at!).toBe(true);
    expect((await store.get('exec-1'))?.actions[1]).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('keeps a retryable failure running with its error, counts the retry, and fails a non-retryable one', async () => {
    await expect(run(payload('/fails'))).rejects.toMatchObject({ name: ActionErrorName.ServiceUnavailable });
    const first = await fetchProgress();
    expect(first).toMatchObject({ status: 'running', attempts: 1, error: { error: ActionErrorName.ServiceUnavailable } });

    await expect(run(payload('/rejects'))).rejects.toMatchObject({ name: ActionErrorName.ServiceRejected });
    const second = await fetchProgress();
    expect(second).toMatchObject({ status: 'failed', attempts: 2, started_at: first!.started_at, error: { error: ActionErrorName.ServiceRejected } });
  });

  it('records nothing for foreach items and compensations, which are not actions of their own', async () => {
    await run(payload('/ok', { item_index: 3 }));
    await run(payload('/ok', { action_id: 'fetch.compensation' }));
    expect(await fetchProgress()).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('answers the call even when progress cannot be written', async () => {
    const lines: string[] = [];
    configureSharedLog({ destination: (line) => lines.push(line) });
    const broken = createActionRunner({
      registry: fixedRegistry(),
      env: { SVC_URL: baseUrl },
      http: testHttp(),
      progress: { attempts: { startAttempt: () => Promise.reject(new Error('table gone')), finishAttempt: () => Promise.reject(new Error('table gone')) }, clock: { now: () => '2026-11-25T10:00:00.000Z' } },
    });
    await expect(broken(payload('/ok'))).resolves.toMatchObject({ status_code: 200 });
    configureSharedLog({});
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'could not record the start of an attempt', error: expect.stringContaining('table gone') }),
      expect.objectContaining({ level: 'WARN', message: 'could not record the end of an attempt', error: expect.stringContaining('table gone') }),
    ]);
  });
});
