import { WorkflowErrorName } from '../core/errors.ts';
import type { Action } from '../core/workflow/definition.ts';
import { Placeholder, Resource, type StateMachineDefinition, type TaskState } from './asl.ts';
import { notificationEntry } from './bus-entries.ts';
import { runnerCall } from './actions/service-call.ts';
import { COMPLETED, DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS, flow, inSequence, runIds, TRACE_ID, type Context, type Fragment, type States } from './context.ts';
import { transitiveDependencies } from '../core/workflow/graph.ts';
import { seriesParallelStructure, type Structure } from './structure.ts';
import { task } from './task.ts';

// Auxiliary state names contain ': ', which action ids cannot, so they never collide with an action.
/** Where the forward flow of a saga ends: the check whether an action with on_failure compensate failed. */
export const SAGA_CHECK = 'saga: any action to compensate?';
const SAGA_FAILED = 'saga: failed after compensation';
const SAGA_DONE = 'saga: nothing to compensate';

/**
 * The end of a saga, where its forward flow continues (SAGA_CHECK): when an action with on_failure compensate
 * failed, the compensations run (compileCompensation) and the run fails; otherwise it succeeds. Adds the
 * states to the context after the forward flow's.
 */
export function buildSagaEnd(context: Context, structure: Structure): void {
  const compensation = compileCompensation(context, structure);
  compensation?.build(SAGA_FAILED);
  const { states } = context;
  states[SAGA_CHECK] = {
    Type: 'Choice',
    Comment: 'An action with on_failure compensate failed: undo completed actions, newest dependencies first',
    Choices: [
      {
        Or: [
          ...context.input.actions
            .filter((action) => action.on_failure === 'compensate')
            .map((action) => ({ Variable: `$.results.${action.action_id}.outcome`, StringEquals: 'failed' })),
          // Choice rules need two operands under Or; a rule that never holds keeps the shape valid for one.
          { Variable: '$.results', IsPresent: false },
        ],
        Next: compensation?.start ?? SAGA_FAILED,
      },
    ],
    Default: SAGA_DONE,
  };
  states[SAGA_DONE] = { Type: 'Succeed' };
  states[SAGA_FAILED] = {
    Type: 'Fail',
    Error: WorkflowErrorName.Compensated,
    Cause: 'an action with on_failure compensate failed; completed actions were compensated in reverse dependency order',
  };
}

/**
 * The saga's backward flow: the forward structure mirrored (sequences reversed, parallels kept), with only
 * the actions that declare a compensation, each run only if its action completed. Reverse dependency order
 * is reverse completion order for every pair of actions where the order is observable.
 */
function compileCompensation(context: Context, structure: Structure): Fragment | undefined {
  const mirror = (node: Structure): Structure | undefined => {
    switch (node.kind) {
      case 'action':
        return context.byId.get(node.id)?.compensation ? node : undefined;
      case 'sequence': {
        const steps = [...node.steps].reverse().map(mirror).filter((step): step is Structure => step !== undefined);
        return steps.length === 0 ? undefined : steps.length === 1 ? steps[0] : { kind: 'sequence', steps };
      }
      case 'parallel': {
        const branches = node.branches.map(mirror).filter((branch): branch is Structure => branch !== undefined);
        return branches.length === 0 ? undefined : branches.length === 1 ? branches[0] : { kind: 'parallel', branches };
      }
    }
  };
  const backward = context.gates.waits.size === 0 ? mirror(structure) : reversedDependencies(context);
  return backward ? compensationFragment(context, backward) : undefined;
}

/**
 * With dependency gates the forward structure no longer holds every dependency, so its mirror would not
 * either: the backward flow is built from the dependencies themselves (each compensation after those of the
 * actions that depend on its action, directly or not), as a series-parallel structure, which may add some
 * order but never drops one. Only failed sagas run it.
 */
function reversedDependencies(context: Context): Structure | undefined {
  const compensated = context.input.actions.filter((action) => action.compensation).map((action) => action.action_id);
  if (compensated.length === 0) return undefined;
  const upstream = transitiveDependencies(context.input.actions);
  const nodes = compensated.map((id) => ({ action_id: id, depends_on: compensated.filter((other) => upstream.get(other)?.has(id)) }));
  return seriesParallelStructure(nodes);
}

function compensationFragment(context: Context, structure: Structure): Fragment {
  switch (structure.kind) {
    case 'action':
      return compensationStep(context, context.byId.get(structure.id)!);
    case 'sequence':
      return inSequence(
        structure.steps.map((step) => compensationFragment(context, step)),
        new Set(),
      );
    case 'parallel': {
      const name = `compensate fork ${++context.counters.forks}`;
      const branches = structure.branches.map((branch): StateMachineDefinition => {
        const states: States = {};
        const fragment = compensationFragment({ ...context, states }, branch);
        fragment.build(undefined);
        return { StartAt: fragment.start, States: states };
      });
      return { start: name, present: new Set(), build: (next) => (context.states[name] = { Type: 'Parallel', Branches: branches, ResultPath: null, ...flow(next) }) };
    }
  }
}

/** One action's compensation, run only if the action completed. */
function compensationStep(context: Context, action: Action): Fragment {
  const id = action.action_id;
  const compensation = action.compensation!;
  const check = `${id}: compensate?`;
  const run = `${id}: compensate`;
  const deadLetter = `${id}: compensation dead letter`;
  const resultPath = `$.results.${id}.compensation`;
  const ids = runIds(context, `${id}.compensation`);
  const build = (next: string | undefined) => {
    // Whether it ran, failed (recorded by the catch) or had nothing to undo, the flow goes on to the same
    // place. A Choice cannot end a branch, so the end is an explicit no-op.
    const done = `${id}: compensation done`;
    const after = next ?? done;
    // A compensation that fails is recorded and dead-lettered, and the others still run.
    const caught = [{ ErrorEquals: ['States.ALL'], ResultPath: resultPath, Next: deadLetter }];
    const { states } = context;
    states[run] =
      compensation.action_type === 'service_call'
        ? task({
            ...runnerCall(context.scope, { ...ids, 'trace_id.$': TRACE_ID }, compensation.config, DEFAULT_SERVICE_CALL_TIMEOUT_SECONDS, context.inlineResultBytes.compensation),
            resultSelector: { 'status_code.$': '$.Payload.status_code' },
            resultPath,
            // A compensation has no retry policy of its own: the default one.
            retry: { policy: undefined },
            catch: caught,
            next: after,
          })
        : task({
            resource: Resource.putEvents,
            parameters: { Entries: [notificationEntry(compensation.config, ids, context.scope)] },
            resultSelector: { 'event_id.$': '$.Entries[0].EventId' },
            resultPath,
            // Like a compensation's service call, the default policy over PutEvents' transient errors: a
            // throttled PutEvents must not fail the compensation (it was dead-lettered at once before).
            retry: { policy: undefined },
            catch: caught,
            next: after,
          });
    // A compensation that still fails after its retries is dead-lettered (what it was, why it failed), then the
    // saga goes on with the others; the run's record says compensation_failed (core/execution/saga.ts).
    states[deadLetter] = compensationDeadLetter(context, action, after);
    states[check] = { Type: 'Choice', Choices: [{ Variable: `$.results.${id}.outcome`, StringEquals: COMPLETED, Next: run }], Default: after };
    if (next === undefined) states[done] = { Type: 'Pass', End: true };
  };
  return { start: check, present: new Set(), build };
}

function compensationDeadLetter(context: Context, action: Action, next: string): TaskState {
  const id = action.action_id;
  const compensation = action.compensation!;
  return task({
    resource: Resource.sqsSendMessage,
    parameters: {
      QueueUrl: Placeholder.deadLetterQueue,
      MessageBody: {
        kind: 'compensation_failed',
        action_id: id,
        'execution_id.$': '$$.Execution.Name',
        workflow_id: context.input.workflow_id,
        workflow_version: context.input.version,
        compensation: compensation.action_type === 'service_call' ? { service: compensation.config.service, endpoint: compensation.config.endpoint, method: compensation.config.method } : { action_type: compensation.action_type },
        'error.$': `$.results.${id}.compensation.Error`,
        'cause.$': `$.results.${id}.compensation.Cause`,
      },
    },
    resultPath: null,
    retry: 'delivery',
    catch: [{ ErrorEquals: ['States.ALL'], ResultPath: null, Next: next }],
    next,
  });
}
