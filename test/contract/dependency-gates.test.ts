import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DynamoDependencyGates } from '../../adapters/aws/dynamo/dynamo-dependency-gates.ts';
import { EXECUTION_TABLE } from '../../adapters/aws/dynamo/execution-table.ts';
import { InProcessDependencyGates } from '../../adapters/local/in-process-gates.ts';
import type { GateRelease } from '../../core/execution/dependency-gates.ts';
import type { DependencyGates } from '../../core/ports.ts';
import { systemClock } from '../../core/system.ts';
import { freshTable } from '../support/dynamo.ts';

/** The gate rule (ADR 0010) against every adapter: whatever the order and concurrency, one release per token. */
const adapters: Array<[string, () => Promise<DependencyGates>]> = [
  ['in process', async () => new InProcessDependencyGates(systemClock)],
  [
    'DynamoDB',
    async () => {
      const table = await freshTable(EXECUTION_TABLE, 'gates');
      return new DynamoDependencyGates(table.client, table.tableName, systemClock);
    },
  ],
];

const PRODUCERS = ['build', 'test'] as const;
const released = (results: ReadonlyArray<GateRelease | undefined>) => results.filter((result): result is GateRelease => result !== undefined);

for (const [name, make] of adapters) {
  describe(`dependency gates: ${name}`, () => {
    it("gives a gated call's call back with its release, from the wait whose token is released", async () => {
      const gates = await make();
      const run = randomUUID();
      const call = { action_id: 'deploy', parameters: { image: { template: '{{build.response.image}}', values: {} } }, gate_wait: { producers: ['build'], task_token: 'token-1' } };
      expect(await gates.wait(run, 'deploy', ['build'], 'token-1', call)).toBeUndefined();
      expect(await gates.arrive(run, 'deploy', ['build'], 'build', { image: 'app:1' })).toEqual({ token: 'token-1', outputs: { build: { image: 'app:1' } }, call });
      // Its retry waits with a new token and the same call; a plain waiter's release has no call.
      expect(await gates.wait(run, 'deploy', ['build'], 'token-2', { ...call, gate_wait: { producers: ['build'], task_token: 'token-2' } })).toMatchObject({ token: 'token-2', call: { gate_wait: { task_token: 'token-2' } } });
      expect(await gates.wait(run, 'notify', ['build'], 'token-3')).toBeUndefined();
      expect(await gates.arrive(run, 'notify', ['build'], 'build', 1)).not.toHaveProperty('call');
    });

    it('releases to the waiter that arrives after its producers, with their outputs exactly as they were', async () => {
      const gates = await make();
      const run = randomUUID();
      expect(await gates.arrive(run, 'deploy', PRODUCERS, 'build', { image: 'app:1', size: 1.5e3, tags: ['a', null] })).toBeUndefined();
      expect(await gates.arrive(run, 'deploy', ['test', 'build'], 'test', 42)).toBeUndefined();
      expect(await gates.wait(run, 'deploy', PRODUCERS, 'token-1')).toEqual({ token: 'token-1', outputs: { build: { image: 'app:1', size: 1500, tags: ['a', null] }, test: 42 } });
    });

    it('releases to the last producer when the waiter waited first', async () => {
      const gates = await make();
      const run = randomUUID();
      expect(await gates.wait(run, 'deploy', PRODUCERS, 'token-1')).toBeUndefined();
      expect(await gates.arrive(run, 'deploy', PRODUCERS, 'test', 'ok')).toBeUndefined();
      expect(await gates.arrive(run, 'deploy', PRODUCERS, 'build', null)).toEqual({ token: 'token-1', outputs: { build: null, test: 'ok' } });
    });

    it('never releases twice: redelivered reports after the release get nothing', async () => {
      const gates = await make();
      const run = randomUUID();
      await gates.wait(run, 'deploy', PRODUCERS, 'token-1');
      await gates.arrive(run, 'deploy', PRODUCERS, 'build', 1);
      expect(await gates.arrive(run, 'deploy', PRODUCERS, 'test', 2)).toBeDefined();
      expect(await gates.arrive(run, 'deploy', PRODUCERS, 'test', 2)).toBeUndefined();
      expect(await gates.arrive(run, 'deploy', PRODUCERS, 'build', 1)).toBeUndefined();
      expect(await gates.wait(run, 'deploy', PRODUCERS, 'token-1')).toBeUndefined();
    });

    it('keeps the first output of a producer reported twice', async () => {
      const gates = await make();
      const run = randomUUID();
      await gates.arrive(run, 'deploy', ['build'], 'build', 'first');
      await gates.arrive(run, 'deploy', ['build'], 'build', 'second');
      expect((await gates.wait(run, 'deploy', ['build'], 'token-1'))?.outputs).toEqual({ build: 'first' });
    });

    it('releases exactly once when the producers and the waiter report at the same time, gate after gate', async () => {
      const gates = await make();
      const run = randomUUID();
      for (let gate = 0; gate < 20; gate++) {
        const waiter = `deploy_${gate}`;
        const reports = [
          () => gates.wait(run, waiter, PRODUCERS, `token-${gate}`),
          () => gates.arrive(run, waiter, PRODUCERS, 'build', gate),
          () => gates.arrive(run, waiter, PRODUCERS, 'test', gate),
          // Redelivered at once: a Lambda retry, an at-least-once event.
          () => gates.arrive(run, waiter, PRODUCERS, 'build', gate),
          () => gates.wait(run, waiter, PRODUCERS, `token-${gate}`),
        ];
        const results = await Promise.all(reports.map((report) => report()));
        expect(released(results)).toEqual([{ token: `token-${gate}`, outputs: { build: gate, test: gate } }]);
      }
    });

    it('releases again to a waiting state that was retried with a new token, once', async () => {
      const gates = await make();
      const run = randomUUID();
      await gates.arrive(run, 'deploy', ['build'], 'build', 'image');
      expect((await gates.wait(run, 'deploy', ['build'], 'token-1'))?.token).toBe('token-1');
      expect((await gates.wait(run, 'deploy', ['build'], 'token-2'))?.token).toBe('token-2');
      expect(await gates.wait(run, 'deploy', ['build'], 'token-2')).toBeUndefined();
    });

    it('releases a reopened gate again, once, to the same token (its first release could not be sent)', async () => {
      const gates = await make();
      const run = randomUUID();
      await gates.arrive(run, 'deploy', ['build'], 'build', 'out');
      expect((await gates.wait(run, 'deploy', ['build'], 'token-1'))?.token).toBe('token-1');
      await gates.reopen(run, 'deploy', 'token-other');
      expect(await gates.arrive(run, 'deploy', ['build'], 'build', 'out')).toBeUndefined();
      await gates.reopen(run, 'deploy', 'token-1');
      expect(await Promise.all([gates.arrive(run, 'deploy', ['build'], 'build', 'out'), gates.wait(run, 'deploy', ['build'], 'token-1')])).toEqual(
        expect.arrayContaining([{ token: 'token-1', outputs: { build: 'out' } }, undefined]),
      );
      expect(await gates.arrive(run, 'deploy', ['build'], 'build', 'out')).toBeUndefined();
    });

    it('keeps gates of different runs and different waiters apart', async () => {
      const gates = await make();
      const [first, second] = [randomUUID(), randomUUID()];
      await gates.wait(first, 'deploy', ['build'], 'token-a');
      await gates.wait(second, 'deploy', ['build'], 'token-b');
      await gates.wait(first, 'notify', ['build'], 'token-c');
      expect(await gates.arrive(second, 'deploy', ['build'], 'build', 2)).toEqual({ token: 'token-b', outputs: { build: 2 } });
      expect(await gates.arrive(first, 'notify', ['build'], 'build', 3)).toEqual({ token: 'token-c', outputs: { build: 3 } });
      expect(await gates.arrive(first, 'deploy', ['build'], 'build', 1)).toEqual({ token: 'token-a', outputs: { build: 1 } });
    });

    it('forgets every gate of a run at its end, more than one write batch of them, and leaves other runs alone', async () => {
      const gates = await make();
      const [ended, other] = [randomUUID(), randomUUID()];
      const waiters = Array.from({ length: 30 }, (_, index) => `deploy_${index}`);
      await Promise.all(waiters.map((waiter) => gates.wait(ended, waiter, ['build'], `token-${waiter}`)));
      await gates.wait(other, 'deploy_0', ['build'], 'token-other');
      await gates.forget(ended);
      // A forgotten gate starts afresh: nobody waits on it any more, so a late report releases nothing.
      expect(released(await Promise.all(waiters.map((waiter) => gates.arrive(ended, waiter, ['build'], 'build', 1))))).toEqual([]);
      expect(await gates.arrive(other, 'deploy_0', ['build'], 'build', 2)).toEqual({ token: 'token-other', outputs: { build: 2 } });
    });

    it('forgets a run without gates, and the same run twice, without complaint', async () => {
      const gates = await make();
      const run = randomUUID();
      await gates.forget(run);
      await gates.arrive(run, 'deploy', ['build'], 'build', 1);
      await gates.forget(run);
      await gates.forget(run);
      // The declaration went with the gate: another producer list is accepted now.
      expect(await gates.arrive(run, 'deploy', ['test'], 'test', 1)).toBeUndefined();
    });

    it('refuses a producer the gate does not wait for, and a report declaring other producers, naming both', async () => {
      const gates = await make();
      const run = randomUUID();
      await expect(gates.arrive(run, 'deploy', PRODUCERS, 'lint', 1)).rejects.toThrow('lint is not a producer of this gate (it waits for build, test)');
      await gates.wait(run, 'deploy', PRODUCERS, 'token-1');
      await expect(gates.arrive(run, 'deploy', ['build'], 'build', 1)).rejects.toThrow('the gate waits for build, test, not build');
      await expect(gates.wait(run, 'deploy', [], 'token-2')).rejects.toThrow('a gate waits for at least one producer');
    });
  });
}
