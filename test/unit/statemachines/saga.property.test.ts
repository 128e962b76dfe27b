import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { transitiveDependencies } from '../../../core/workflow/graph.ts';
import { actionError, compileChecked, execute, lambdaResult, payloadOf, service, sleep, type Handler } from './support/harness.ts';
import { serviceCall, workflow } from './support/workflows.ts';

/**
 * Random sagas: DAGs of service calls, some with a compensation, some with on_failure compensate, one or two of
 * which fail. Compiled, validated and executed: every completed action with a compensation is compensated once
 * (and nothing else is), an action's compensation ends before any of its dependencies' compensations start,
 * and the run fails with WorkflowCompensated.
 */


describe('random sagas, compiled and executed', () => {
  const sagaArb = fc
    .integer({ min: 2, max: 20 })
    .chain((size) =>
      fc.record({
        deps: fc.tuple(...Array.from({ length: size }, (_, i) => fc.subarray([...Array(i).keys()], { maxLength: Math.min(i, 3) }))),
        reads: fc.array(fc.nat(), { minLength: size, maxLength: size }),
        compensated: fc.array(fc.boolean(), { minLength: size, maxLength: size }),
        onFailure: fc.array(fc.constantFrom('fail', 'compensate', 'compensate'), { minLength: size, maxLength: size }),
        failing: fc.uniqueArray(fc.nat({ max: size - 1 }), { minLength: 1, maxLength: 2 }),
        delays: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: size, maxLength: size }),
        order: fc.shuffledSubarray([...Array(size).keys()], { minLength: size, maxLength: size }),
      }),
    )
    .map(({ deps, reads, compensated, onFailure, failing, delays, order }) => {
      const size = deps.length;
      const ids = Array.from({ length: size }, (_, i) => `s${i}`);
      // Failing actions compensate (otherwise the run would just fail); at least one action has a compensation.
      const compensate = ids.map((_, i) => failing.includes(i) || onFailure[i] === 'compensate');
      const hasCompensation = ids.map((_, i) => compensated[i]! || i === 0);
      const readOf = ids.map((_, i) => (deps[i]!.length > 0 && reads[i]! % 2 === 0 ? deps[i]![reads[i]! % deps[i]!.length]! : undefined));
      const actions = ids.map((id, i) =>
        serviceCall(id, readOf[i] === undefined ? { i } : { i, from: `{{s${readOf[i]}.response.id}}` }, deps[i]!.map((d) => ids[d]!), {
          ...(compensate[i] ? { on_failure: 'compensate' } : {}),
          ...(hasCompensation[i] ? { compensation: { action_type: 'service_call', config: { service: 'svc', endpoint: '/undo', method: 'POST', parameters: { undo: `{{${id}.response.id}}` } } } } : {}),
        }),
      );
      return { ids, deps: deps.map((list) => list.map((d) => ids[d]!)), readOf: readOf.map((r) => (r === undefined ? undefined : ids[r])), compensate, hasCompensation, failing: failing.map((i) => ids[i]!), delays, actions: order.map((i) => actions[i]!) };
    });

  it('compensate every completed action with a compensation once, newest dependencies first, and fail with WorkflowCompensated', async () => {
    await fc.assert(
      fc.asyncProperty(sagaArb, async (saga) => {
        const compiled = compileChecked(workflow(saga.actions));
        const handlers: Record<string, Handler> = {};
        saga.ids.forEach((id, i) => {
          handlers[id] = async () => {
            await sleep(saga.delays[i]!);
            if (saga.failing.includes(id)) throw actionError('ServiceRejectedError', `${id} failed`);
            return lambdaResult({ id: `id-${id}` });
          };
          if (saga.hasCompensation[i]) handlers[`${id}: compensate`] = service(() => ({ undone: id }), saga.delays[i]!);
        });
        const result = await execute(compiled.definition, {}, { handlers });

        // Called unless a guard did not complete. Guards: a read output that may not complete, and every direct
        // dependency downstream of an on_failure compensate action (nothing after such a failure may run).
        const called = new Set<string>();
        const completed = new Set<string>();
        const aborting = new Set<string>();
        const uncertain = new Set<string>();
        saga.ids.forEach((id, i) => {
          const guards = new Set<string>();
          const read = saga.readOf[i];
          if (read !== undefined && uncertain.has(read)) guards.add(read);
          for (const dep of saga.deps[i]!) if (aborting.has(dep)) guards.add(dep);
          if (saga.compensate[i] || [...guards].some((guard) => aborting.has(guard))) aborting.add(id);
          if (guards.size > 0 || saga.compensate[i]) uncertain.add(id);
          if ([...guards].some((guard) => !completed.has(guard))) return;
          called.add(id);
          if (!saga.failing.includes(id)) completed.add(id);
        });
        const anyFailed = saga.failing.some((id) => called.has(id));
        expect(result.status).toBe(anyFailed ? 'failed' : 'succeeded');
        if (anyFailed) expect(result.error).toBe('WorkflowCompensated');
        for (const [i, id] of saga.ids.entries()) {
          expect(result.recorder.to(id), id).toHaveLength(called.has(id) ? 1 : 0);
          if (!saga.hasCompensation[i]) continue;
          const calls = result.recorder.to(`${id}: compensate`);
          expect(calls, `${id}: compensate`).toHaveLength(anyFailed && completed.has(id) ? 1 : 0);
          if (calls.length > 0) expect(payloadOf(calls[0]!).parameters).toEqual({ undo: `id-${id}` });
        }
        // Reverse dependency order: an action's compensation ends before any of its dependencies' starts.
        const upstream = ancestorsOf(saga.ids, new Map(saga.ids.map((id, i) => [id, saga.deps[i]!])));
        for (const id of saga.ids) {
          const mine = result.recorder.to(`${id}: compensate`)[0];
          if (!mine) continue;
          for (const ancestor of upstream.get(id)!) {
            const theirs = result.recorder.to(`${ancestor}: compensate`)[0];
            if (theirs) expect(theirs.startSeq, `${ancestor} compensated before ${id}`).toBeGreaterThan(mine.endSeq);
          }
        }
      }),
      { numRuns: Number(process.env.SAGA_RUNS ?? 25), endOnFailure: true },
    );
  });
});

/** Every action's transitive dependencies, from the production graph code. */
function ancestorsOf(ids: readonly string[], deps: ReadonlyMap<string, readonly string[]>): Map<string, Set<string>> {
  return transitiveDependencies(ids.map((id) => ({ action_id: id, depends_on: deps.get(id) ?? [] })));
}
