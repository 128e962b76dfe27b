import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_HISTORY_LENGTH } from '../../core/registry/model.ts';
import { createHttpHealthProbe } from '../../adapters/http/http-health-probe.ts';
import { testHttp } from '../support/outbound.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;

type Check = { checked_at: string; status: string; latency_ms: number | null; status_code?: number | null; detail?: string };
type Health = { status: string; checked_at?: string; latency_ms?: number | null; detail?: string; history: Check[]; consecutive_failures: number };
type Service = { name: string; status: string; instances: { instance_id: string; health: Health }[] };
type Sweep = {
  checked: number;
  by_status: Record<string, number>;
  changed: number;
  skipped_expired: number;
  not_checked: number;
  instances: { name: string; instance_id: string; previous_status: string; status: string; check: Check; recorded: boolean }[];
};
type Readiness = { status: string; dependencies: { name: string; kind: string; ready: boolean; latency_ms: number }[] };
type SystemHealth = {
  status: string;
  version: string;
  dependencies: { name: string; kind: string; status: string; latency_ms: number; error?: string }[];
  services: { total: number; by_status: Record<string, number>; items: { name: string; status: string; instances: { instance_id: string; status: string }[] }[] };
};

type Behaviour = 'up' | 'degraded' | 'slow' | 'error' | 'hang' | 'down' | 'redirect';

/** A service on loopback whose health endpoint does what the test says, counting the probes it gets. */
interface FakeService {
  readonly url: string;
  behaviour: Behaviour;
  probes: number;
  close(): Promise<void>;
}

const SLOW_MS = 900;
// Generous: a loopback probe on a loaded CI machine must never read as slow.
const DEGRADED_ABOVE_MS = 500;
const TIMEOUT_MS = 1500;

async function startService(behaviour: Behaviour = 'up'): Promise<FakeService> {
  const hanging = new Set<() => void>();
  const service: FakeService = { url: '', behaviour, probes: 0, close: async () => undefined };
  const server: Server = createServer((request, response) => {
    if (request.url !== '/health') {
      response.writeHead(404).end();
      return;
    }
    service.probes++;
    const json = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    switch (service.behaviour) {
      case 'up':
        return json(200, { status: 'ok' });
      case 'degraded':
        return json(200, { status: 'degraded', checks: { cache: 'down' } });
      case 'slow': {
        const timer = setTimeout(() => json(200, { status: 'ok' }), SLOW_MS);
        response.on('close', () => clearTimeout(timer));
        return;
      }
      case 'error':
        return json(500, { status: 'DOWN' });
      case 'redirect':
        response.writeHead(302, { location: '/login' }).end();
        return;
      case 'hang': {
        // Never answers; released when the server closes.
        const release = () => response.destroy();
        hanging.add(release);
        response.on('close', () => hanging.delete(release));
        return;
      }
      case 'down':
        request.socket.destroy();
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(service, {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const release of hanging) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

/** A clock the TTL tests move forward; everything else reads it as the real time. */
const offset = { ms: 0 };
const clock = { now: () => new Date(Date.now() + offset.ms).toISOString() };

let runtime: LocalRuntime;
let call: Call;
const services: FakeService[] = [];
const service = async (behaviour: Behaviour = 'up') => {
  const started = await startService(behaviour);
  services.push(started);
  return started;
};

beforeAll(async () => {
  ({ runtime, call } = await startTestApi({ clock, healthChecks: { timeoutMs: TIMEOUT_MS, degradedLatencyMs: DEGRADED_ABOVE_MS } }));
});
afterAll(async () => {
  await runtime.close();
  await Promise.all(services.map((started) => started.close()));
});

const register = async (body: Record<string, unknown>) => {
  const reply = await call('POST', '/registry/register', { body });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
};
const sweep = async (name?: string) => {
  const reply = await call<Sweep>('POST', `/registry/health-check${name === undefined ? '' : `?name=${name}`}`);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body.data as Sweep;
};
const healthOf = async (name: string, instanceId = 'main'): Promise<Health> => {
  const reply = await call<Service>('GET', `/registry/${name}`);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  const instance = (reply.body.data as Service).instances.find((candidate) => candidate.instance_id === instanceId);
  if (!instance) throw new Error(`${name} has no instance ${instanceId}`);
  return instance.health;
};
const systemHealth = async () => {
  const reply = await call<SystemHealth>('GET', '/health/system');
  return { status: reply.status, report: reply.body.data as SystemHealth, message: reply.body.message };
};

describe('health checks against services that go up, slow down and go down', () => {
  let inventory: FakeService;

  beforeAll(async () => {
    inventory = await service('up');
    await register({ name: 'inventory', instance_id: 'main', url: inventory.url });
  });

  it('a service that answers 200 quickly is healthy, with its latency, the time of the check and a history', async () => {
    expect((await healthOf('inventory')).status).toBe('unknown');
    const summary = await sweep('inventory');
    expect(summary).toMatchObject({ checked: 1, by_status: { healthy: 1, degraded: 0, unhealthy: 0 }, changed: 1, not_checked: 0 });
    expect(summary.instances[0]).toMatchObject({ name: 'inventory', instance_id: 'main', previous_status: 'unknown', status: 'healthy', recorded: true, check: { status_code: 200 } });
    const health = await healthOf('inventory');
    expect(health).toMatchObject({ status: 'healthy', consecutive_failures: 0, history: [{ status: 'healthy', status_code: 200 }] });
    expect(health.latency_ms).toBeGreaterThanOrEqual(0);
    expect(health.latency_ms).toBeLessThan(DEGRADED_ABOVE_MS);
    expect(Date.parse(health.checked_at ?? '')).toBeGreaterThan(Date.now() - 10_000);
    expect(inventory.probes).toBe(1);
  });

  it('a service whose health body says degraded is degraded, quoting it', async () => {
    inventory.behaviour = 'degraded';
    await sweep('inventory');
    expect(await healthOf('inventory')).toMatchObject({ status: 'degraded', detail: 'reports status "degraded"', consecutive_failures: 1 });
  });

  it('a service that answers slower than the threshold is degraded, saying how slow', async () => {
    inventory.behaviour = 'slow';
    await sweep('inventory');
    const health = await healthOf('inventory');
    expect(health.status).toBe('degraded');
    expect(health.detail).toMatch(new RegExp(`^slow: answered in \\d+ ms \\(degraded above ${DEGRADED_ABOVE_MS} ms\\)$`));
    expect(health.latency_ms).toBeGreaterThanOrEqual(SLOW_MS - 10);
  });

  it('a service answering 500 is degraded at the first failed check and unhealthy at the second (hysteresis)', async () => {
    inventory.behaviour = 'error';
    await sweep('inventory');
    expect(await healthOf('inventory')).toMatchObject({ status: 'degraded', detail: 'answered 500 (status "DOWN"); 1 failed check in a row, unhealthy after 2' });
    await sweep('inventory');
    const health = await healthOf('inventory');
    expect(health).toMatchObject({ status: 'unhealthy', detail: 'answered 500 (status "DOWN")', consecutive_failures: 4 });
    expect(health.history.map((check) => check.status)).toEqual(['unhealthy', 'unhealthy', 'degraded', 'degraded', 'healthy']);
  });

  it('GET /health/system stays 200 but says degraded while a registered service is unhealthy', async () => {
    const { status, report, message } = await systemHealth();
    expect(status).toBe(200);
    expect(report.status).toBe('degraded');
    expect(message).toMatch(/inventory \(unhealthy\)/);
    expect(report.services.items.find((item) => item.name === 'inventory')).toMatchObject({ status: 'unhealthy', instances: [{ instance_id: 'main', status: 'unhealthy' }] });
    expect(report.dependencies.every((dependency) => dependency.status === 'healthy')).toBe(true);
  });

  it('a service that does not answer within the timeout is unhealthy, with no latency', async () => {
    inventory.behaviour = 'hang';
    const started = performance.now();
    await sweep('inventory');
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 1500);
    const health = await healthOf('inventory');
    expect(health).toMatchObject({ status: 'unhealthy', latency_ms: null, detail: `no answer within ${TIMEOUT_MS} ms` });
    expect(health.history[0]).toMatchObject({ status: 'unhealthy', latency_ms: null, status_code: null });
  });

  it('a service that drops the connection is unhealthy, saying it could not connect', async () => {
    inventory.behaviour = 'down';
    await sweep('inventory');
    expect(await healthOf('inventory')).toMatchObject({ status: 'unhealthy', detail: expect.stringMatching(/^could not connect to 127\.0\.0\.1:\d+/) });
  });

  it('a service back up is healthy again at its first good check, its failures reset', async () => {
    inventory.behaviour = 'up';
    const summary = await sweep('inventory');
    expect(summary.instances[0]).toMatchObject({ previous_status: 'unhealthy', status: 'healthy' });
    expect(await healthOf('inventory')).toMatchObject({ status: 'healthy', consecutive_failures: 0 });
    const { status, report } = await systemHealth();
    expect(status).toBe(200);
    expect(report.services.items.find((item) => item.name === 'inventory')?.status).toBe('healthy');
  });

  it(`keeps the last ${HEALTH_HISTORY_LENGTH} checks, newest first`, async () => {
    for (let round = 0; round < 3; round++) await sweep('inventory');
    const health = await healthOf('inventory');
    expect(health.history).toHaveLength(HEALTH_HISTORY_LENGTH);
    const times = health.history.map((check) => check.checked_at);
    expect([...times].sort().reverse()).toEqual(times);
  });
});

describe('the sweep of every registered instance', () => {
  it('probes each live instance once, whatever service it belongs to, and records what it found', async () => {
    const billingA = await service('up');
    const billingB = await service('error');
    const closed = await service('up');
    await closed.close();
    await register({ name: 'billing', instance_id: 'a', url: billingA.url });
    await register({ name: 'billing', instance_id: 'b', url: billingB.url });
    await register({ name: 'ghost', instance_id: 'main', url: closed.url });

    const summary = await sweep();
    const byInstance = Object.fromEntries(summary.instances.map((outcome) => [`${outcome.name}/${outcome.instance_id}`, outcome.status]));
    expect(byInstance).toMatchObject({ 'billing/a': 'healthy', 'billing/b': 'unhealthy', 'ghost/main': 'unhealthy' });
    expect(summary.checked).toBe(summary.instances.length);
    expect(billingA.probes).toBe(1);
    expect(billingB.probes).toBe(1);
    expect(await healthOf('ghost')).toMatchObject({ status: 'unhealthy', detail: expect.stringMatching(/could not connect to 127\.0\.0\.1:\d+: ECONNREFUSED/) });
    // One of billing's two instances is down: the service is degraded, and so is the whole.
    const { report } = await systemHealth();
    expect(report.services.items.find((item) => item.name === 'billing')?.status).toBe('degraded');
    expect(report.status).toBe('degraded');
  });

  it('costs one listing Query and one UpdateItem per live instance', async () => {
    const commands: string[] = [];
    const name = 'countHealthSweepCommands';
    runtime.documentClient.middlewareStack.add(
      (next, context) => async (args) => {
        // The sweep's cost is what it asks of the registry table: the request's own audit record, and whatever
        // the runtime does meanwhile in other tables (its jobs, the event recorder), are not the sweep's.
        if (!String((args.input as { TableName?: unknown }).TableName).endsWith('-registry')) return next(args);
        commands.push(`${context.commandName ?? '?'}${typeof (args.input as { IndexName?: unknown }).IndexName === 'string' ? `[${(args.input as { IndexName: string }).IndexName}]` : ''}`);
        return next(args);
      },
      { step: 'initialize', name },
    );
    try {
      const summary = await sweep();
      expect(commands.filter((command) => command.startsWith('Query'))).toEqual(['QueryCommand[all-by-name]']);
      expect(commands.filter((command) => command === 'UpdateItemCommand')).toHaveLength(summary.checked);
      expect(commands, commands.join(", ")).toHaveLength(1 + summary.checked);
    } finally {
      runtime.documentClient.middlewareStack.remove(name);
    }
  });

  it('a health path that redirects is unhealthy: redirects are not followed', async () => {
    const redirecting = await service('redirect');
    await register({ name: 'portal', instance_id: 'main', url: redirecting.url });
    await sweep('portal');
    expect(await healthOf('portal')).toMatchObject({ status: 'unhealthy', detail: 'answered 302' });
  });

  it('names the bad field (400) and the unknown service (404)', async () => {
    const bad = await call('POST', '/registry/health-check?name=not%20a%20name');
    expect(bad.status).toBe(400);
    expect(bad.body.details?.map((detail) => detail.field)).toEqual(['name']);
    const unknown = await call('POST', '/registry/health-check?name=nobody');
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/nobody/);
  });
});

describe('registrations past their TTL', () => {
  it('are not probed, and are counted as skipped', async () => {
    const ephemeral = await service('up');
    await register({ name: 'ephemeral', instance_id: 'main', url: ephemeral.url, ttl_seconds: 10 });
    await sweep('ephemeral');
    expect(ephemeral.probes).toBe(1);

    offset.ms += 11_000;
    try {
      const summary = await sweep();
      expect(summary.skipped_expired).toBeGreaterThanOrEqual(1);
      expect(summary.instances.some((outcome) => outcome.name === 'ephemeral')).toBe(false);
      expect(ephemeral.probes).toBe(1);
      expect((await call('POST', '/registry/health-check?name=ephemeral')).status).toBe(404);
      const { report } = await systemHealth();
      expect(report.services.items.some((item) => item.name === 'ephemeral')).toBe(false);
    } finally {
      offset.ms -= 11_000;
    }
  });
});

describe("the orchestrator's own dependencies", () => {
  it('are each reported: five tables, the dead-letter queue and the (local) event bus', async () => {
    const { status, report } = await systemHealth();
    expect(status).toBe(200);
    expect(report.version).toBe('test');
    expect(report.dependencies.map((dependency) => [dependency.name, dependency.kind, dependency.status])).toEqual([
      ['workflows_table', 'table', 'healthy'],
      ['executions_table', 'table', 'healthy'],
      ['registry_table', 'table', 'healthy'],
      ['events_table', 'table', 'healthy'],
      ['subscriptions_table', 'table', 'healthy'],
      ['dead_letter_queue', 'queue', 'healthy'],
      ['event_bus', 'event_bus', 'healthy'],
    ]);
  });

  it('are ready, the local engine too: GET /ready answers 200, without a credential', async () => {
    const reply = await call<Readiness>('GET', '/ready');
    expect(reply.status).toBe(200);
    const report = reply.body.data as Readiness;
    expect(report.status).toBe('ready');
    expect(report.dependencies.map((dependency) => [dependency.name, dependency.kind, dependency.ready])).toEqual([
      ['workflows_table', 'table', true],
      ['executions_table', 'table', true],
      ['registry_table', 'table', true],
      ['events_table', 'table', true],
      ['subscriptions_table', 'table', true],
      ['dead_letter_queue', 'queue', true],
      ['event_bus', 'event_bus', true],
      ['engine', 'engine', true],
    ]);
  });

  it('answer 503 with the overall status unhealthy when one is down (the dead-letter queue deleted)', async () => {
    const other = await startTestApi();
    try {
      const sqs = new SQSClient({ endpoint: other.runtime.sqsEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      await sqs.send(new DeleteQueueCommand({ QueueUrl: other.runtime.deadLetterQueueUrl }));
      sqs.destroy();
      const reply = await other.call<SystemHealth>('GET', '/health/system');
      expect(reply.status).toBe(503);
      const report = reply.body.data as SystemHealth;
      expect(report.status).toBe('unhealthy');
      expect(reply.body.message).toMatch(/dead_letter_queue unreachable/);
      const queue = report.dependencies.find((dependency) => dependency.name === 'dead_letter_queue');
      expect(queue).toMatchObject({ status: 'unhealthy', error: expect.stringMatching(/NonExistentQueue|does not exist/i) });
      expect(report.dependencies.filter((dependency) => dependency.status === 'healthy')).toHaveLength(6);
      // Readiness says the same, naming what is not ready and never why (it is public).
      const ready = await other.call<Readiness>('GET', '/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.message).toBe('orchestrator is not ready: dead_letter_queue not ready');
      expect((ready.body.data as Readiness).dependencies.filter((dependency) => !dependency.ready).map((dependency) => dependency.name)).toEqual(['dead_letter_queue']);
      expect(JSON.stringify(ready.body)).not.toMatch(/NonExistentQueue|does not exist/i);
    } finally {
      await other.runtime.close();
    }
  });
});

describe('the local runtime', () => {
  it('sweeps on its own every interval when given one, and stops when closed', async () => {
    const watched = await service('up');
    const local = await startTestApi({ healthChecks: { intervalSeconds: 0.2, timeoutMs: TIMEOUT_MS } });
    try {
      const reply = await local.call('POST', '/registry/register', { body: { name: 'watched', instance_id: 'main', url: watched.url } });
      expect(reply.status).toBe(201);
      const deadline = Date.now() + 5000;
      while (watched.probes < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(watched.probes).toBeGreaterThanOrEqual(2);
      const service = await local.call<Service>('GET', '/registry/watched');
      expect((service.body.data as Service).instances[0]!.health.status).toBe('healthy');
    } finally {
      await local.runtime.close();
    }
    const after = watched.probes;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(watched.probes).toBe(after);
  });
});

describe('the HTTP health probe', () => {
  it("applies the action runner's outbound policy: loopback not allowed is refused without connecting", async () => {
    const target = await service('up');
    const result = await createHttpHealthProbe({ http: testHttp({ allow: [] }) }).probe(`${target.url}/health`, TIMEOUT_MS);
    expect(result).toEqual({ error: expect.stringMatching(/^refused to call 127\.0\.0\.1:\d+: 127\.0\.0\.1, a loopback address not allowed by ORCHESTRATOR_OUTBOUND_ALLOW/) });
    expect(target.probes).toBe(0);
    const allowed = await createHttpHealthProbe({ http: testHttp({ allow: ['127.0.0.1'] }) }).probe(`${target.url}/health`, TIMEOUT_MS);
    expect(allowed).toMatchObject({ status_code: 200, body: { status: 'ok' } });
  });

  it('refuses the cloud metadata address whatever the configuration', async () => {
    const result = await createHttpHealthProbe({ http: testHttp({ allow: ['0.0.0.0/0'] }) }).probe('http://169.254.169.254/latest/meta-data/', TIMEOUT_MS);
    expect(result).toEqual({ error: expect.stringMatching(/cloud metadata/) });
  });

  it('reads no more than a small body: a large one is not parsed, and the check still counts', async () => {
    const server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'degraded', padding: 'x'.repeat(64 * 1024) })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const result = await createHttpHealthProbe({ http: testHttp() }).probe(`http://127.0.0.1:${port}/health`, TIMEOUT_MS);
      expect(result).toEqual({ status_code: 200, latency_ms: expect.any(Number) });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
