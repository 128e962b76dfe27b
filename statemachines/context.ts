import type { Action, ExecutionMode, Parameter } from '../core/workflow/definition.ts';
import type { JsonObject, State, StateMachineDefinition } from './asl.ts';
import type { GatePlacement } from './gates.ts';
import { executionIdPath, type PathScope } from './paths.ts';
import type { Structure } from './structure.ts';

/** What the compiler's modules share: the compile input, the context of one compilation, and small helpers. */

export interface CompileInput {
  readonly workflow_id: string;
  readonly version: number;
  /** The workflow's tenant: the tenant of the events its runs emit from the state machine (dead letters). */
  readonly tenant?: string;
  readonly name?: string;
  readonly execution_mode?: ExecutionMode;
  readonly parameters: readonly Parameter[];
  readonly actions: readonly Action[];
}

export interface InlineResultShares {
  /** A service_call action's result. */
  readonly action: number;
  /** One item's result of a foreach whose inner action is a service call. */
  readonly foreachItem: number;
  /** A compensation's result, which only the task itself holds (its ResultSelector keeps the status code). */
  readonly compensation: number;
}

/** Default time limit for a service call when the action sets none. */
export const DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS = 30;

/** An action's `outcome` when it ran to the end. */
export const COMPLETED = 'completed';
/** Carried in state data (the local interpreter has no `$$.Execution.Input` inside branches). */
export const TRACE_ID = '$.trace_id';

/** Named states in the order they appear in the definition (JSON keeps insertion order). */
export type States = Record<string, State>;

/** What compiling one action needs to know of the whole compilation (the action modules see only this). */
export interface ActionContext {
  readonly input: CompileInput;
  readonly scope: PathScope;
  /** `inline_result_bytes` of each kind of service call (inlineResultShares). */
  readonly inlineResultBytes: InlineResultShares;
}

/** One compilation: the analysis of the workflow, and the states of the machine or branch being built. */
export interface Context extends ActionContext {
  readonly byId: ReadonlyMap<string, Action>;
  /** Actions whose result may be `skipped` or `failed` rather than `completed`. */
  readonly uncertain: ReadonlySet<string>;
  /** Per action: upstream actions whose outputs it reads and whose outcome it must check first. */
  readonly guardedInputs: ReadonlyMap<string, readonly string[]>;
  /** Per action: every action result it reads (templates, guards, conditions). */
  readonly reads: ReadonlyMap<string, ReadonlySet<string>>;
  readonly saga: boolean;
  /** Which actions wait on dependency gates, for which producers, and whom each producer reports to. */
  readonly gates: GatePlacement;
  /** Where `Fragment.build` puts its states: the machine's, or a Parallel branch's. */
  readonly states: States;
  /** Shared by every branch: Step Functions needs state names unique across the whole machine. */
  readonly counters: { forks: number };
  /** Pieces of the structure that run as child state machines (split.ts), by identity. */
  readonly machines: ReadonlySet<Structure>;
  /** The child machines built so far, in part order (shared by the whole compilation). */
  readonly children: { part: number; definition: StateMachineDefinition }[];
  /** CompileOptions.reuse. */
  readonly reuse: boolean;
}

/**
 * A planned piece of the flow. Planning names where it starts and what it leaves in state data; `build`
 * creates its states, complete, once the caller knows what comes after it. A Parallel's branches are built
 * while planning (they always end), so state names (`fork n`) are given out in flow order.
 */
export interface Fragment {
  readonly start: string;
  /** Results in state data when this piece ends. */
  readonly present: ReadonlySet<string>;
  /** Adds the piece's states to the context it was planned in; `next` undefined ends the machine or branch. Called once. */
  readonly build: (next: string | undefined) => void;
}

/** Where an action's states put its result and where they continue. */
export interface ActionTarget {
  /** `$.results.<id>`, or null when nothing after the action reads its result. */
  readonly resultPath: string | null;
  /** The state after the action; undefined when the action ends its machine or branch. */
  readonly next: string | undefined;
  /**
   * Set when the action feeds dependency gates and is a service call: the action runner reports its
   * completion to these waiters' gates itself (`gate_waiters` in its payload), so a completed call continues
   * at `completedNext` instead of `next` (the report state, which only its other ways out need).
   */
  readonly runnerReports?: { readonly waiters: Readonly<Record<string, readonly string[]>>; readonly completedNext: string | undefined };
  /**
   * Set when the action is a gated call (ADR 0016): a service call that waits for these producers in its own
   * state (`gate_wait` in its payload, the task token answered with the call's result) instead of behind a
   * `<id>: gate` state.
   */
  readonly gateWait?: readonly string[];
}

/** Pieces one after the other: each continues where the next starts, the last where the sequence continues. */
export function inSequence(fragments: readonly Fragment[], present: ReadonlySet<string>): Fragment {
  return {
    start: fragments[0]!.start,
    present,
    build: (next) => fragments.forEach((fragment, index) => fragment.build(fragments[index + 1]?.start ?? next)),
  };
}

/** How a state continues: to `next`, or the end of its machine or branch. Spread last, where ASL readers expect it. */
export function flow(next: string | undefined): { Next: string } | { End: true } {
  return next === undefined ? { End: true } : { Next: next };
}

/**
 * The ids that say whose call or event it is, as the action runner and the status listener read them. The
 * tenant lets the runner's spans of this run's service calls be shown to the workflow's tenant only.
 */
export function runIds(context: ActionContext, actionId: string): JsonObject {
  const { input } = context;
  return {
    action_id: actionId,
    'execution_id.$': executionIdPath(context.scope),
    workflow_id: input.workflow_id,
    workflow_version: input.version,
    ...(input.tenant === undefined ? {} : { tenant: input.tenant }),
  };
}
