import type { WorkflowCounts } from '../../../core/ports.ts';
import type { WorkflowSummary } from '../../../core/workflow/model.ts';

/**
 * Maintained counts of workflows, so that statistics and listing totals cost a few reads whatever the
 * number of workflows (ADR 0011). Each counted dimension (`total`, `status#<s>`, `type#<t>`, `creator#<c>`,
 * `creator-status#<c>#<s>`) is two attributes, `<dimension>@n` (workflows) and `<dimension>@a` (actions), in
 * two partitions: `COUNT#T#<tenant>` (a tenant's) and `COUNT#ALL` (every tenant's, for admins). Dimensions
 * share items so that a workflow write updates two items per partition, not one per dimension: the
 * `summary` item holds the total, statuses and action types (a bounded set), and one `creator#<c>` item per
 * creator holds that creator's dimensions (creators are unbounded, and an item is at most 400 KB). A write
 * to a workflow adds the difference between what it counted before and after; unchanged dimensions are not
 * written, and an item with none is not written at all.
 */

export interface Counter {
  readonly n: number;
  readonly a: number;
}

/** The fields of a workflow that its counts depend on. */
export type Counted = Pick<WorkflowSummary, 'tenant' | 'status' | 'created_by' | 'action_count' | 'action_types'>;

export const ALL_TENANTS_COUNTS = 'COUNT#ALL';
export const countsPartition = (tenant: string | undefined): string => (tenant === undefined ? ALL_TENANTS_COUNTS : `COUNT#T#${tenant}`);

const TOTAL = 'total';
const STATUS = 'status#';
const CREATOR = 'creator#';
const CREATOR_STATUS = 'creator-status#';
const ACTION_TYPE = 'type#';

const SUMMARY_ITEM = 'summary';

/** The suffixes of a dimension's two attributes; `@` cannot occur in a dimension (creators are encoded). */
export const WORKFLOWS_SUFFIX = '@n';
export const ACTIONS_SUFFIX = '@a';

/** Creators are free text: encoded, so a `#` in one cannot make two dimensions share a key. */
const creatorKey = (creator: string) => encodeURIComponent(creator);

/** The counter a listing's total reads: every workflow, or one status, one creator, or both. */
export function listingCounter(filter: { readonly status?: string; readonly createdBy?: string }): string {
  if (filter.createdBy !== undefined && filter.status !== undefined) return `${CREATOR_STATUS}${creatorKey(filter.createdBy)}#${filter.status}`;
  if (filter.createdBy !== undefined) return `${CREATOR}${creatorKey(filter.createdBy)}`;
  if (filter.status !== undefined) return `${STATUS}${filter.status}`;
  return TOTAL;
}

/** The sort key of the item that holds `dimension`'s attributes. */
export function counterItemOf(dimension: string): string {
  if (dimension.startsWith(CREATOR)) return dimension;
  if (dimension.startsWith(CREATOR_STATUS)) return `${CREATOR}${dimension.slice(CREATOR_STATUS.length).split('#')[0]!}`;
  return SUMMARY_ITEM;
}

/** `counters` grouped by the item that holds them. */
export function byCounterItem(counters: ReadonlyMap<string, Counter>): Map<string, Map<string, Counter>> {
  const items = new Map<string, Map<string, Counter>>();
  for (const [dimension, counter] of counters) {
    const sortKey = counterItemOf(dimension);
    const item = items.get(sortKey) ?? new Map<string, Counter>();
    item.set(dimension, counter);
    items.set(sortKey, item);
  }
  return items;
}

/** The dimensions a counter item's attributes hold: `status#active@n` -> `status#active`. */
export function countersOfItem(item: Readonly<Record<string, unknown>>): Array<[string, Counter]> {
  const counters = new Map<string, { n: number; a: number }>();
  for (const [attribute, value] of Object.entries(item)) {
    if (typeof value !== 'number') continue;
    const suffix = attribute.endsWith(WORKFLOWS_SUFFIX) ? 'n' : attribute.endsWith(ACTIONS_SUFFIX) ? 'a' : undefined;
    if (suffix === undefined) continue;
    const dimension = attribute.slice(0, -2);
    const counter = counters.get(dimension) ?? { n: 0, a: 0 };
    counter[suffix] = value;
    counters.set(dimension, counter);
  }
  return [...counters];
}

/** What one workflow adds to each dimension. */
export function contributionOf(workflow: Counted): Map<string, Counter> {
  const counters = new Map<string, Counter>([
    [TOTAL, { n: 1, a: workflow.action_count }],
    [listingCounter({ status: workflow.status }), { n: 1, a: 0 }],
    [listingCounter({ createdBy: workflow.created_by }), { n: 1, a: 0 }],
    [listingCounter({ createdBy: workflow.created_by, status: workflow.status }), { n: 1, a: 0 }],
  ]);
  for (const [type, count] of Object.entries(workflow.action_types)) {
    if (count !== undefined && count > 0) counters.set(`${ACTION_TYPE}${type}`, { n: 1, a: count });
  }
  return counters;
}

/** What changes when `previous` becomes `next` (either absent: a creation or a deletion); zero changes left out. */
export function counterDelta(previous: Counted | undefined, next: Counted | undefined): Map<string, Counter> {
  const delta = new Map<string, { n: number; a: number }>();
  const add = (counters: Map<string, Counter>, sign: 1 | -1) => {
    for (const [key, counter] of counters) {
      const entry = delta.get(key) ?? { n: 0, a: 0 };
      entry.n += sign * counter.n;
      entry.a += sign * counter.a;
      delta.set(key, entry);
    }
  };
  if (previous) add(contributionOf(previous), -1);
  if (next) add(contributionOf(next), 1);
  for (const [key, counter] of delta) if (counter.n === 0 && counter.a === 0) delta.delete(key);
  return delta;
}

/** Sums contributions: what a recount writes. */
export function sumContributions(workflows: Iterable<Counted>): Map<string, Counter> {
  const sums = new Map<string, { n: number; a: number }>();
  for (const workflow of workflows) {
    for (const [key, counter] of contributionOf(workflow)) {
      const entry = sums.get(key) ?? { n: 0, a: 0 };
      entry.n += counter.n;
      entry.a += counter.a;
      sums.set(key, entry);
    }
  }
  return sums;
}

/** The counts of one partition's counter items (keyed by dimension); dimensions at zero are left out. */
export function countsFrom(counters: Iterable<[string, Counter]>): WorkflowCounts {
  let workflows = 0;
  let actions = 0;
  const byStatus: Record<string, number> = {};
  const byCreator: Record<string, number> = {};
  const byActionType: Record<string, { actions: number; workflows: number }> = {};
  for (const [key, { n, a }] of counters) {
    if (key === TOTAL) {
      workflows = n;
      actions = a;
    }
    if (n <= 0) continue;
    if (key.startsWith(STATUS)) byStatus[key.slice(STATUS.length)] = n;
    else if (key.startsWith(CREATOR)) byCreator[decodeURIComponent(key.slice(CREATOR.length))] = n;
    else if (key.startsWith(ACTION_TYPE)) byActionType[key.slice(ACTION_TYPE.length)] = { actions: a, workflows: n };
  }
  return { workflows, actions, byStatus, byCreator, byActionType };
}
