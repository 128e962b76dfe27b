import { StateMachine, type RunOptions } from 'aws-local-stepfunctions';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { RUN_PAUSED_ERROR } from '../core/errors.ts';
import { WorkflowDefinitionSchema } from '../core/workflow/definition.ts';
import type { GraphNode } from '../core/workflow/graph.ts';
import type { State, StateMachineDefinition, TaskState } from '../statemachines/asl.ts';
import { compileWorkflow, executionInput } from '../statemachines/compile.ts';
import { BENCH_PARAMETERS, serviceCallActions } from './compiler-graphs.ts';
import { round, table, verdict } from './stats.ts';

/**
 * What pause support costs on Step Functions, in billed state transitions (ADR 0012): each compiled run is
 * executed in aws-local-stepfunctions three ways, side by side, counting every StateEntered event:
 * - the same definition with pause support taken out (no RunPaused catch, no callback state): the baseline;
 * - as compiled, never paused: what every run pays;
 * - as compiled, with every service call refused once as if the run were paused, parked, and let go: the
 *   most a pause can cost (one pause parks only the calls that start while it lasts).
 */

export const PAUSE_EXTRA_TRANSITIONS_TARGET = 0.3;

export interface PauseCostShape {
  readonly shape: string;
  readonly actions: number;
  /** Service calls (a foreach counts each item). */
  readonly calls: number;
  readonly withoutPauseSupport: number;
  readonly neverPaused: number;
  readonly everyCallParkedOnce: number;
  /** (neverPaused - withoutPauseSupport) / actions: the cost every run pays. */
  readonly extraPerActionNeverPaused: number;
  /** (everyCallParkedOnce - withoutPauseSupport) / calls. */
  readonly extraPerParkedCall: number;
  readonly everyRunSucceeded: boolean;
}

type LocalDefinition = ConstructorParameters<typeof StateMachine>[0];
type LocalHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type TaskResult = Awaited<ReturnType<LocalHandlers[string]>>;

const FOREACH_ITEMS = 20;

/** A chain of 10 calls, a fan-out of 10, and a foreach of 20 items between two calls. */
export function pauseCostShapes(): { shape: string; actions: Record<string, unknown>[] }[] {
  const chain: GraphNode[] = Array.from({ length: 10 }, (_, i) => ({ action_id: `step${i + 1}`, depends_on: i === 0 ? [] : [`step${i}`] }));
  const fanOut: GraphNode[] = [
    { action_id: 'split', depends_on: [] },
    ...Array.from({ length: 10 }, (_, i) => ({ action_id: `worker${i + 1}`, depends_on: ['split'] })),
    { action_id: 'join', depends_on: Array.from({ length: 10 }, (_, i) => `worker${i + 1}`) },
  ];
  const call = (id: string, dependsOn: string[]) => ({ action_id: id, action_type: 'service_call', config: { service: 'svc', endpoint: `/${id}`, method: 'POST' }, depends_on: dependsOn });
  const foreach = [
    call('list', []),
    { action_id: 'each', action_type: 'foreach', config: { items: '{{list.response.items}}', max_concurrency: 5, action: { action_type: 'service_call', config: { service: 'svc', endpoint: '/item', method: 'POST' } } }, depends_on: ['list'] },
    call('done', ['each']),
  ];
  return [
    { shape: 'chain (10 calls)', actions: serviceCallActions(chain) },
    { shape: 'fan-out (1 -> 10 -> 1)', actions: serviceCallActions(fanOut) },
    { shape: `foreach (${FOREACH_ITEMS} items) between 2 calls`, actions: foreach },
  ];
}

export async function measurePauseCost(shape: string, actions: readonly Record<string, unknown>[]): Promise<PauseCostShape> {
  const definition = WorkflowDefinitionSchema.parse({ name: `bench ${shape}`, parameters: BENCH_PARAMETERS, actions });
  const compiled = compileWorkflow({ workflow_id: 'bench', version: 1, ...definition }).definition;
  const baseline = await transitions(withoutPauseSupport(compiled), false);
  const never = await transitions(compiled, false);
  const parked = await transitions(compiled, true);
  const calls = definition.actions.reduce((sum, action) => sum + (action.action_type === 'foreach' ? FOREACH_ITEMS : action.action_type === 'service_call' ? 1 : 0), 0);
  return {
    shape,
    actions: definition.actions.length,
    calls,
    withoutPauseSupport: baseline.count,
    neverPaused: never.count,
    everyCallParkedOnce: parked.count,
    extraPerActionNeverPaused: round((never.count - baseline.count) / definition.actions.length, 3),
    extraPerParkedCall: round((parked.count - baseline.count) / calls, 3),
    everyRunSucceeded: baseline.succeeded && never.succeeded && parked.succeeded,
  };
}

/** Runs a definition once; with `parkEveryCall`, each service call is refused once with RunPaused first. */
async function transitions(definition: StateMachineDefinition, parkEveryCall: boolean): Promise<{ count: number; succeeded: boolean }> {
  const refused = new Set<string>();
  const handlers: LocalHandlers = {};
  for (const [name, state] of tasks(definition)) {
    handlers[name] = async (input): Promise<TaskResult> => {
      await yieldToEventLoop();
      if (state.Resource.endsWith('.waitForTaskToken')) return { parked: true };
      const payload = (input as { Payload?: { action_id?: string; item_index?: number } } | null)?.Payload;
      const call = `${payload?.action_id}#${payload?.item_index ?? ''}`;
      if (parkEveryCall && !refused.has(call)) {
        refused.add(call);
        throw Object.assign(new Error('paused'), { name: RUN_PAUSED_ERROR });
      }
      const items = Array.from({ length: FOREACH_ITEMS }, (_, index) => index);
      return { StatusCode: 200, Payload: { status_code: 200, response: { value: call, items } } };
    };
  }
  const machine = new StateMachine(definition as unknown as LocalDefinition, { validationOptions: { checkPaths: false } });
  const execution = machine.run(executionInput({ run_id: 'bench' }, 'b'.repeat(32)) as never, {
    overrides: { taskResourceLocalHandlers: handlers },
    context: { Execution: { Name: 'x', Id: 'x', RedriveCount: 0 }, Task: { Token: 'bench' } } as never,
  });
  const succeeded = execution.result.then(
    () => true,
    () => false,
  );
  let count = 0;
  for await (const event of execution.eventLogs) if (event.type === 'StateEntered') count++;
  return { count, succeeded: await succeeded };
}

function tasks(definition: StateMachineDefinition): [string, TaskState][] {
  const found: [string, TaskState][] = [];
  const visit = (machine: StateMachineDefinition) => {
    for (const [name, state] of Object.entries(machine.States)) {
      if (state.Type === 'Task') found.push([name, state]);
      if (state.Type === 'Parallel') state.Branches.forEach(visit);
      if (state.Type === 'Map') visit(state.ItemProcessor);
    }
  };
  visit(definition);
  return found;
}

/** The definition as compiled before pause existed: no RunPaused catch, no callback state, no `pausable`. */
function withoutPauseSupport(definition: StateMachineDefinition): StateMachineDefinition {
  const strip = (machine: StateMachineDefinition): StateMachineDefinition => {
    const states: Record<string, State> = {};
    for (const [name, state] of Object.entries(machine.States)) {
      if (state.Type === 'Task' && state.Resource.endsWith('.waitForTaskToken')) continue;
      if (state.Type === 'Task') {
        const catches = (state.Catch ?? []).filter((catcher) => !catcher.ErrorEquals.includes(RUN_PAUSED_ERROR));
        states[name] = { ...state, ...(catches.length > 0 ? { Catch: catches } : {}) };
        if (catches.length === 0) delete (states[name] as TaskState).Catch;
      } else if (state.Type === 'Parallel') states[name] = { ...state, Branches: state.Branches.map(strip) };
      else if (state.Type === 'Map') states[name] = { ...state, ItemProcessor: { ...state.ItemProcessor, ...strip(state.ItemProcessor) } };
      else states[name] = state;
    }
    return { ...machine, States: states };
  };
  return strip(structuredClone(definition));
}

export async function measurePauseCosts(): Promise<PauseCostShape[]> {
  const results: PauseCostShape[] = [];
  for (const { shape, actions } of pauseCostShapes()) results.push(await measurePauseCost(shape, actions));
  return results;
}

export function renderPauseCostSection(shapes: readonly PauseCostShape[]): string {
  const worst = Math.max(...shapes.map((shape) => shape.extraPerActionNeverPaused));
  return [
    '## Pause on Step Functions: extra state transitions',
    '',
    `Each definition run in aws-local-stepfunctions three ways (StateEntered events): with pause support taken out, as compiled and never paused, and as compiled with every service call parked once (the most a pause can cost). Target: at most ${PAUSE_EXTRA_TRANSITIONS_TARGET} extra transitions per action for runs that are not paused.`,
    '',
    table(
      ['shape', 'actions', 'calls', 'without pause support', 'never paused', 'every call parked once', 'extra per action (never paused)', 'extra per parked call', 'all succeeded'],
      shapes.map((shape) => [shape.shape, shape.actions, shape.calls, shape.withoutPauseSupport, shape.neverPaused, shape.everyCallParkedOnce, shape.extraPerActionNeverPaused, shape.extraPerParkedCall, shape.everyRunSucceeded ? 'yes' : 'NO']),
    ),
    '',
    `Extra transitions per action for runs never paused: at most ${worst} (${verdict(worst <= PAUSE_EXTRA_TRANSITIONS_TARGET)}).`,
    '',
  ].join('\n');
}
