import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CompiledMachineCache, startLocalRun, type LocalIntegrations, type LocalRun } from '../../adapters/local/local-engine.ts';
import { ActionErrorName } from '../../core/errors.ts';
import { resolveParameters } from '../../core/execution/parameters.ts';
import { WorkflowDefinitionSchema, type WorkflowDefinitionInput } from '../../core/workflow/definition.ts';
import { createActionRunner } from '../../functions/workers/action-runner.ts';
import type { ServiceCallPayload } from '../../functions/workers/service-call.ts';
import { compileWorkflow, executionInput } from '../../statemachines/compile.ts';
import { fixedRegistry } from '../support/fixed-registry.ts';
import { testHttp } from '../support/outbound.ts';
import { failure } from '../support/service-call-failure.ts';

/**
 * Every service call carries an Idempotency-Key, so that services can deduplicate: `<execution_id>:<action_id>`,
 * plus `:<item_index>` inside a foreach, the same on every attempt of the action in the run; an action's own
 * Idempotency-Key wins. A real HTTP service on loopback records what it receives, from the production runner
 * called directly and from compiled workflows run by the local engine (whose Retry makes the attempts).
 */

interface Received {
  readonly path: string;
  readonly body: unknown;
  /** Every Idempotency-Key header line of the request, as sent (rawHeaders: a duplicate would show twice). */
  readonly keys: readonly string[];
}

let server: Server;
let base: string;
const received: Received[] = [];
/** Paths that answer 503 this many more times before they answer 200. */
const failuresLeft = new Map<string, number>();
/** Paths whose requests are held until the caller goes away (a run that crashes mid-call). */
const held = new Set<string>();
/** Resolves when a held path receives a request. */
let arrived: (() => void) | undefined;

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      const keys = request.rawHeaders.filter((_, index) => index % 2 === 1 && request.rawHeaders[index - 1]?.toLowerCase() === 'idempotency-key');
      received.push({ path, body: text ? (JSON.parse(text) as unknown) : undefined, keys });
      if (held.has(path)) {
        arrived?.();
        return;
      }
      const failures = failuresLeft.get(path) ?? 0;
      if (failures > 0) failuresLeft.set(path, failures - 1);
      response.writeHead(failures > 0 ? 503 : 200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(failures > 0 ? { error: 'try again' } : { ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  received.length = 0;
  failuresLeft.clear();
  held.clear();
});

const runner = () => createActionRunner({ registry: fixedRegistry({ svc: base }), env: {}, http: testHttp() });

function payload(overrides: Partial<ServiceCallPayload> = {}): ServiceCallPayload {
  return { action_id: 'charge', execution_id: 'exec-1', workflow_id: 'wf-1', workflow_version: 1, service: 'svc', endpoint: '/ok', method: 'POST', timeout_seconds: 5, ...overrides };
}

/** The Idempotency-Key lines of the requests to `path`, in arrival order. */
const keysAt = (path: string) => received.filter((request) => request.path === path).map((request) => request.keys);

describe('the Idempotency-Key the action runner sends', () => {
  it('is <execution_id>:<action_id> on a plain service call, sent once', async () => {
    await runner()(payload());
    expect(keysAt('/ok')).toEqual([['exec-1:charge']]);
  });

  it('ends with the item index on a call inside a foreach, index 0 included', async () => {
    await runner()(payload({ item_index: 0 }));
    await runner()(payload({ item_index: 7 }));
    expect(keysAt('/ok')).toEqual([['exec-1:charge:0'], ['exec-1:charge:7']]);
  });

  it('is the same on every attempt of a failing call (503, then 200), and differs in another run', async () => {
    failuresLeft.set('/flaky', 1);
    const run = runner();
    const { error } = await failure(run(payload({ endpoint: '/flaky' })));
    expect(error.name).toBe(ActionErrorName.ServiceUnavailable);
    expect((await run(payload({ endpoint: '/flaky' }))).status_code).toBe(200);
    await run(payload({ endpoint: '/flaky', execution_id: 'exec-2' }));
    expect(keysAt('/flaky')).toEqual([['exec-1:charge'], ['exec-1:charge'], ['exec-2:charge']]);
  });

  it('keeps an Idempotency-Key the action configured, whatever its case, and sends no second one', async () => {
    await runner()(payload({ headers: { 'IDEMPOTENCY-KEY': 'order-42' } }));
    await runner()(payload({ item_index: 2, headers: { 'idempotency-key': 'order-43', 'X-Tenant': 'acme' } }));
    expect(keysAt('/ok')).toEqual([['order-42'], ['order-43']]);
  });
});

describe('the Idempotency-Key through compiled workflows in the local engine', () => {
  const machines = new CompiledMachineCache();
  const integrations = (): LocalIntegrations => {
    const run = runner();
    return {
      invokeRunner: (runnerPayload, signal) => run(runnerPayload, { signal }),
      putEvent: () => Promise.resolve('event-1'),
      sendDeadLetter: () => Promise.resolve(),
      startSubWorkflow: () => Promise.reject(new Error('no sub-workflows here')),
    };
  };
  function start(executionId: string, definitionInput: WorkflowDefinitionInput, params: Record<string, unknown> = {}): LocalRun {
    const definition = WorkflowDefinitionSchema.parse(definitionInput);
    const resolved = resolveParameters(definition.parameters, params);
    expect(resolved.issues).toEqual([]);
    const compiled = compileWorkflow({ workflow_id: 'wf', version: 1, ...definition });
    const asl = compiled.definition as unknown as Record<string, unknown>;
    return startLocalRun(machines.get(JSON.stringify(asl), asl), {
      definition: asl,
      actions: definition.actions,
      executionId,
      input: executionInput(resolved.values),
      integrations: integrations(),
      now: () => new Date().toISOString(),
      retryMilliseconds: 1,
    });
  }
  const retry = { max_attempts: 3, interval_seconds: 1 };

  it("sends one key on every retry of a failing action, and each foreach item's index on its calls and retries", async () => {
    failuresLeft.set('/charge', 1);
    failuresLeft.set('/items/b', 1);
    const outcome = await start(
      'exec-run-1',
      {
        name: 'idempotent',
        parameters: [{ name: 'items', type: 'array', required: true }],
        actions: [
          { action_id: 'charge', action_type: 'service_call', config: { service: 'svc', endpoint: '/charge', method: 'POST' }, retry },
          {
            action_id: 'ship_each',
            action_type: 'foreach',
            depends_on: ['charge'],
            retry,
            config: { items: '{{items}}', max_concurrency: 1, action: { action_type: 'service_call', config: { service: 'svc', endpoint: '/items/{{item}}', method: 'POST', parameters: { position: '{{index}}' } } } },
          },
        ],
      },
      { items: ['a', 'b', 'c'] },
    ).done;
    expect(outcome.status).toBe('completed');
    expect(keysAt('/charge')).toEqual([['exec-run-1:charge'], ['exec-run-1:charge']]);
    expect(keysAt('/items/a')).toEqual([['exec-run-1:ship_each:0']]);
    expect(keysAt('/items/b')).toEqual([['exec-run-1:ship_each:1'], ['exec-run-1:ship_each:1']]);
    expect(keysAt('/items/c')).toEqual([['exec-run-1:ship_each:2']]);
  });

  it('sends the same key again when a run that stopped mid-call is started again', async () => {
    const definition: WorkflowDefinitionInput = { name: 'resumed', actions: [{ action_id: 'book', action_type: 'service_call', config: { service: 'svc', endpoint: '/book', method: 'PUT' } }] };
    held.add('/book');
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const first = start('exec-run-2', definition);
    await reached;
    first.cancel();
    await first.done;
    held.delete('/book');
    expect((await start('exec-run-2', definition).done).status).toBe('completed');
    expect(keysAt('/book')).toEqual([['exec-run-2:book'], ['exec-run-2:book']]);
  });
});
