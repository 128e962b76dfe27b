import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTIONS_SUFFIX, byCounterItem, contributionOf, counterDelta, counterItemOf, countersOfItem, countsFrom, listingCounter, sumContributions, WORKFLOWS_SUFFIX, type Counted, type Counter } from '../../../../adapters/aws/dynamo/workflow-counters.ts';

const workflow = fc.record({
  tenant: fc.constantFrom('default', 'acme'),
  status: fc.constantFrom('draft', 'active', 'paused', 'archived' as const),
  created_by: fc.constantFrom('alice', 'bob', 'c#1 with / odd %'),
  action_types: fc.record({ service_call: fc.nat(4), notification: fc.nat(2) }),
}).map((fields): Counted => ({ ...fields, action_count: fields.action_types.service_call + fields.action_types.notification }));

describe('workflow counters', () => {
  it('adding every delta of any history of writes gives the counts of what is left', () => {
    type Operation = { kind: 'put'; id: number; value: Counted } | { kind: 'delete'; id: number };
    const operation: fc.Arbitrary<Operation> = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), id: fc.nat(5), value: workflow }),
      fc.record({ kind: fc.constant('delete' as const), id: fc.nat(5) }),
    );
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), (operations) => {
        const state = new Map<number, Counted>();
        const totals = new Map<string, { n: number; a: number }>();
        for (const op of operations) {
          const previous = state.get(op.id);
          const next = op.kind === 'put' ? op.value : undefined;
          if (!previous && !next) continue;
          for (const [key, { n, a }] of counterDelta(previous, next)) {
            const entry = totals.get(key) ?? { n: 0, a: 0 };
            totals.set(key, { n: entry.n + n, a: entry.a + a });
          }
          if (next) state.set(op.id, next);
          else state.delete(op.id);
        }
        const expected = sumContributions(state.values());
        const nonZero = (map: Map<string, Counter>) => new Map([...map].filter(([, counter]) => counter.n !== 0 || counter.a !== 0));
        expect(nonZero(totals)).toEqual(expected);
      }),
    );
  });

  it('writes nothing for a change that counts the same', () => {
    const before: Counted = { tenant: 'default', status: 'active', created_by: 'alice', action_count: 2, action_types: { service_call: 2 } };
    expect(counterDelta(before, { ...before })).toEqual(new Map());
    expect([...counterDelta(before, { ...before, status: 'paused' }).keys()].sort()).toEqual(
      [listingCounter({ status: 'active' }), listingCounter({ status: 'paused' }), listingCounter({ createdBy: 'alice', status: 'active' }), listingCounter({ createdBy: 'alice', status: 'paused' })].sort(),
    );
  });

  it('reads counts back by dimension, creators with any character', () => {
    const counts = countsFrom(sumContributions([
      { tenant: 't', status: 'active', created_by: 'a#b/c', action_count: 3, action_types: { service_call: 2, wait: 1 } },
      { tenant: 't', status: 'draft', created_by: 'a#b/c', action_count: 0, action_types: {} },
    ]));
    expect(counts).toEqual({
      workflows: 2,
      actions: 3,
      byStatus: { active: 1, draft: 1 },
      byCreator: { 'a#b/c': 2 },
      byActionType: { service_call: { actions: 2, workflows: 1 }, wait: { actions: 1, workflows: 1 } },
    });
    expect(contributionOf({ tenant: 't', status: 'active', created_by: 'x', action_count: 0, action_types: {} }).size).toBe(4);
  });

  it('keeps a workflow write to two items per partition: the summary and its creator', () => {
    const created = counterDelta(undefined, { tenant: 't', status: 'active', created_by: 'a#b/c', action_count: 4, action_types: { service_call: 2, wait: 1, notification: 1 } });
    expect([...byCounterItem(created).keys()].sort()).toEqual(['creator#a%23b%2Fc', 'summary']);
    const moved = counterDelta({ tenant: 't', status: 'active', created_by: 'x', action_count: 1, action_types: { wait: 1 } }, { tenant: 't', status: 'paused', created_by: 'x', action_count: 1, action_types: { wait: 1 } });
    expect([...byCounterItem(moved).keys()].sort()).toEqual(['creator#x', 'summary']);
    expect(counterItemOf(listingCounter({ createdBy: 'x', status: 'paused' }))).toBe(counterItemOf(listingCounter({ createdBy: 'x' })));
    expect(counterItemOf(listingCounter({ createdBy: 'x' }))).not.toBe(counterItemOf(listingCounter({ createdBy: 'x#y' })));
  });

  it('reads back from item attributes every count the items were given, ignoring other attributes', () => {
    fc.assert(
      fc.property(fc.array(workflow, { maxLength: 20 }), (workflows) => {
        const sums = sumContributions(workflows);
        const items = [...byCounterItem(sums).values()].map((counters) => ({
          pk: 'COUNT#ALL',
          last_operation: 'wf#1',
          ...Object.fromEntries([...counters].flatMap(([dimension, { n, a }]) => [[`${dimension}${WORKFLOWS_SUFFIX}`, n], [`${dimension}${ACTIONS_SUFFIX}`, a]])),
        }));
        expect(countsFrom(items.flatMap((item) => countersOfItem(item)))).toEqual(countsFrom(sums));
      }),
    );
  });
});
