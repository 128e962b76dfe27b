import { describe, expect, it } from 'vitest';
import { InProcessDependencyGates } from '../../../../adapters/local/in-process-gates.ts';
import type { GateRelease } from '../../../../core/execution/dependency-gates.ts';
import { gateFeedOf, handleGateRequest, InvalidGateRequestError, isGatePayload, parseGateRequest, serviceCallOutput, type GateRequestDeps } from '../../../../core/execution/gate-requests.ts';
import { systemClock } from '../../../../core/system.ts';

/** The compiled gate states' payloads (ADR 0016), answered with the in-process gates and a release that records what it sends. */

function deps(): GateRequestDeps & { sent: GateRelease[] } {
  const sent: GateRelease[] = [];
  return { gates: new InProcessDependencyGates(systemClock), release: async (release) => void sent.push(release), sent };
}

const wait = (waiter: string, producers: string[], token: string, execution_id = 'run-1') => ({ gate: { wait: { execution_id, waiter, producers, task_token: token } } });
const arrive = (producer: string, output: unknown, waiters: Record<string, string[]>, execution_id = 'run-1') => ({ gate: { arrive: { execution_id, producer, output, waiters } } });

describe('gate requests', () => {
  it('releases to a waiter that waits after its producer reported, with the producer output', async () => {
    const gates = deps();
    expect(await handleGateRequest(arrive('build', { image: 'app:1' }, { deploy: ['build'] }), gates)).toEqual({ released: 0 });
    expect(await handleGateRequest(wait('deploy', ['build'], 'token-1'), gates)).toEqual({ waiting: false });
    expect(gates.sent).toEqual([{ token: 'token-1', outputs: { build: { image: 'app:1' } } }]);
  });

  it('releases from the producer report when the waiter waited first', async () => {
    const gates = deps();
    expect(await handleGateRequest(wait('deploy', ['build'], 'token-1'), gates)).toEqual({ waiting: true });
    expect(gates.sent).toEqual([]);
    expect(await handleGateRequest(arrive('build', 7, { deploy: ['build'] }), gates)).toEqual({ released: 1 });
    expect(gates.sent).toEqual([{ token: 'token-1', outputs: { build: 7 } }]);
  });

  it('waits for both producers of a gate, and one report releases every gate it completes', async () => {
    const gates = deps();
    await handleGateRequest(wait('deploy', ['build', 'test'], 'token-d'), gates);
    await handleGateRequest(wait('notify', ['build'], 'token-n'), gates);
    expect(await handleGateRequest(arrive('test', 'green', { deploy: ['build', 'test'] }), gates)).toEqual({ released: 0 });
    expect(await handleGateRequest(arrive('build', null, { deploy: ['build', 'test'], notify: ['build'] }), gates)).toEqual({ released: 2 });
    expect(gates.sent).toEqual(
      expect.arrayContaining([
        { token: 'token-d', outputs: { build: null, test: 'green' } },
        { token: 'token-n', outputs: { build: null } },
      ]),
    );
    expect(gates.sent).toHaveLength(2);
  });

  it('sends nothing again for a redelivered report or wait', async () => {
    const gates = deps();
    await handleGateRequest(wait('deploy', ['build'], 'token-1'), gates);
    await handleGateRequest(arrive('build', 1, { deploy: ['build'] }), gates);
    expect(await handleGateRequest(arrive('build', 2, { deploy: ['build'] }), gates)).toEqual({ released: 0 });
    expect(await handleGateRequest(wait('deploy', ['build'], 'token-1'), gates)).toEqual({ waiting: true });
    expect(gates.sent).toEqual([{ token: 'token-1', outputs: { build: 1 } }]);
  });

  it('gives a release back when sending it fails, so that the redelivered report sends it (GateUnavailableError)', async () => {
    const gates = deps();
    let failures = 1;
    const flaky: GateRequestDeps = {
      gates: gates.gates,
      release: async (release) => {
        if (failures-- > 0) throw new Error('throttled');
        gates.sent.push(release);
      },
    };
    await handleGateRequest(wait('deploy', ['build'], 'token-1'), flaky);
    await expect(handleGateRequest(arrive('build', 1, { deploy: ['build'] }), flaky)).rejects.toMatchObject({ name: 'GateUnavailableError' });
    expect(gates.sent).toEqual([]);
    expect(await handleGateRequest(arrive('build', 1, { deploy: ['build'] }), flaky)).toEqual({ released: 1 });
    expect(gates.sent).toEqual([{ token: 'token-1', outputs: { build: 1 } }]);
  });

  it('reports a gate of other producers as a definition problem, not as one to retry', async () => {
    const gates = deps();
    await handleGateRequest(wait('deploy', ['build'], 'token-1'), gates);
    await expect(handleGateRequest(arrive('test', 1, { deploy: ['test'] }), gates)).rejects.toMatchObject({ name: 'GateDeclarationError' });
  });

  it('reads a null output as it is', () => {
    expect(parseGateRequest(arrive('build', null, { deploy: ['build'] }))).toEqual({ kind: 'arrive', executionId: 'run-1', producer: 'build', output: null, waiters: { deploy: ['build'] } });
  });

  it.each([
    ['an empty gate', { gate: {} }, 'gate: must hold exactly one of wait and arrive'],
    ['both wait and arrive', { gate: { ...wait('deploy', ['build'], 't').gate, ...arrive('build', 1, { deploy: ['build'] }).gate } }, 'gate: must hold exactly one of wait and arrive'],
    ['an unknown kind', { gate: { open: {} } }, "unknown field 'open'"],
    ['a wait without producers', wait('deploy', [], 'token-1'), 'gate.wait.producers'],
    ['a wait without a token', { gate: { wait: { execution_id: 'run-1', waiter: 'deploy', producers: ['build'] } } }, 'gate.wait.task_token'],
    ['a wait without its run', wait('deploy', ['build'], 'token-1', ''), 'gate.wait.execution_id'],
    ['a report feeding no gate', arrive('build', 1, {}), 'gate.arrive.waiters: must name at least one waiting action'],
    ['a report to a gate that does not list the producer', arrive('lint', 1, { deploy: ['build'] }), 'gate.arrive.waiters.deploy: must include the reporting producer lint (it lists build)'],
    ['a report with an empty producer list', arrive('build', 1, { deploy: [] }), 'gate.arrive.waiters.deploy'],
    ['a report without an output (a producer that recorded nothing reports null)', { gate: { arrive: { execution_id: 'run-1', producer: 'build', waiters: { deploy: ['build'] } } } }, 'gate.arrive.output'],
    ['a report without its producer', { gate: { arrive: { execution_id: 'run-1', output: 1, waiters: { deploy: ['build'] } } } }, 'gate.arrive.producer'],
  ])('refuses %s, naming the field', async (_name, payload, message) => {
    await expect(handleGateRequest(payload, deps())).rejects.toThrow(InvalidGateRequestError);
    await expect(handleGateRequest(payload, deps())).rejects.toThrow(message);
  });

  it('tells gate payloads from the others', () => {
    expect(isGatePayload(wait('deploy', ['build'], 't'))).toBe(true);
    expect(isGatePayload({ park: {} })).toBe(false);
    expect(isGatePayload(null)).toBe(false);
    expect(isGatePayload([{ gate: {} }])).toBe(false);
  });
});

describe("a service call's gate_waiters", () => {
  const call = { execution_id: 'run-1', action_id: 'build', service: 'ci' };

  it('names the gates a call feeds, with its action as the producer', () => {
    expect(gateFeedOf({ ...call, gate_waiters: { deploy: ['build', 'test'] } })).toEqual({ executionId: 'run-1', producer: 'build', waiters: { deploy: ['build', 'test'] } });
    expect(gateFeedOf(call)).toBeUndefined();
  });

  it('refuses a list that leaves the call out, naming the waiter', () => {
    expect(() => gateFeedOf({ ...call, gate_waiters: { deploy: ['test'] } })).toThrow('gate_waiters.deploy: must include the reporting producer build');
    expect(() => gateFeedOf({ ...call, gate_waiters: { deploy: 'build' } })).toThrow('gate_waiters.deploy');
  });

  it('reports what the compiled state records of the call', () => {
    expect(serviceCallOutput({ status_code: 201, response: { id: 3 } })).toEqual({ outcome: 'completed', status_code: 201, response: { id: 3 } });
  });
});
