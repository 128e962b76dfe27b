import { Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { EXECUTION_STATUSES } from '../../core/execution/model.ts';
import { isoTime, positiveInteger } from '../arguments.ts';
import { runCommand, withGlobalOptions } from '../context.ts';
import { formatDuration, shortTime, type Output } from '../output.ts';
import { resolveWorkflowId } from '../workflow-lookup.ts';
import { causeText, type Execution } from '../watch-view.ts';

/** `executions list|get|cancel|retry|pause|resume`. */
export function addExecutionCommands(program: CommandUnknownOpts): void {
  const executions = withGlobalOptions(program.command('executions').description('list, show and control runs'));

  withGlobalOptions(executions.command('list').description("recent runs, newest first (a workflow's with --workflow)")
    .option('--workflow <workflow>', "only this workflow's runs (id or exact name)")
    .addOption(new Option('--status <status>', 'only runs in this status').choices(EXECUTION_STATUSES))
    .option('--since <time>', 'runs started since (ISO 8601; without --workflow)', isoTime)
    .option('--limit <n>', 'runs per page (at most 100; default 50)', positiveInteger)
    .option('--next-token <token>', 'the next page, as the previous page gave it'))
    .action((options, command) =>
      runCommand(command, async ({ api, out }) => {
        const client = api();
        const query = { status: options.status, limit: options.limit, next_token: options.nextToken };
        const data = options.workflow
          ? await client.call('listWorkflowExecutions', { params: { workflow_id: await resolveWorkflowId(client, options.workflow) }, query })
          : await client.call('executionHistory', { query: { ...query, since: options.since } });
        if (out.format === 'json') return out.json(data);
        out.table(
          ['execution', 'workflow', 'version', 'status', 'progress', 'started', 'took'],
          data.executions.map((run) => [run.execution_id, run.workflow_id, run.workflow_version, run.status, `${run.progress.completed}/${run.progress.total}`, shortTime(run.started_at ?? run.created_at), took(run)]),
        );
        if (data.next_token) out.line(`more: --next-token ${data.next_token}`);
      }),
    );

  withGlobalOptions(executions.command('get').description("a run: its status, progress and each action's").argument('<execution-id>'))
    .action((executionId, _options, command) =>
      runCommand(command, async ({ api, out }) => {
        const data = await api().call('getExecution', { params: { execution_id: executionId } });
        if (out.format === 'json') return out.json(data);
        printExecution(out, data);
      }),
    );

  const control = (name: 'cancel' | 'pause' | 'resume', description: string, route: 'cancelExecution' | 'pauseExecution' | 'resumeExecution') =>
    withGlobalOptions(executions.command(name).description(description).argument('<execution-id>')).action((executionId, _options, command) =>
      runCommand(command, async ({ api, out }) => {
        const data = await api().call(route, { params: { execution_id: executionId } });
        if (out.format === 'json') return out.json(data);
        out.line(`execution ${data.execution_id}: ${data.status}`);
      }),
    );
  control('cancel', 'stop a run (a paused one too)', 'cancelExecution');
  control('pause', 'hold a run: calls in flight finish, nothing new starts', 'pauseExecution');
  control('resume', 'let a paused run go on', 'resumeExecution');

  withGlobalOptions(executions.command('retry').description('retry a failed, timed-out or cancelled run where it stopped (same id), or rerun it from an action (a new run)').argument('<execution-id>')
    .option('--from-action <action-id>', 'rerun from this action, reusing the outputs of every action not downstream of it'))
    .action((executionId, options, command) =>
      runCommand(command, async ({ api, out }) => {
        const data = await api().call('retryExecution', { params: { execution_id: executionId }, body: options.fromAction ? { from_action: options.fromAction } : {} });
        if (out.format === 'json') return out.json(data);
        out.line(data.execution_id === executionId ? `execution ${data.execution_id}: ${data.status} (retry ${data.redrive_count ?? 1})` : `execution ${data.execution_id}: ${data.status} (rerun of ${executionId} from ${options.fromAction ?? '?'})`);
      }),
    );
}

function took(run: Execution): string | undefined {
  if (run.started_at === undefined || run.ended_at === undefined) return undefined;
  return formatDuration(Date.parse(run.ended_at) - Date.parse(run.started_at));
}

export function printExecution(out: Output, run: Execution): void {
  out.fields([
    ['execution', run.execution_id],
    ['workflow', `${run.workflow_id} v${run.workflow_version}`],
    ['status', run.status],
    ['progress', `${run.progress.completed}/${run.progress.total} (${Math.round(run.progress.percent)}%)`],
    ['started', `${shortTime(run.started_at ?? run.created_at) ?? '-'} by ${run.started_by}`],
    ['ended', shortTime(run.ended_at)],
    ['took', took(run)],
    ['trace', run.trace_id],
    ...(run.error ? [['error', `${run.error.action_id ? `action '${run.error.action_id}': ` : ''}${run.error.error}: ${causeText(run.error.cause)}`] as const] : []),
    ...(run.rerun_of ? [['rerun of', `${run.rerun_of.execution_id} from ${run.rerun_of.from_action}`] as const] : []),
    ...(run.warnings ?? []).map((warning) => ['warning', warning] as const),
  ]);
  out.line();
  out.table(
    ['action', 'type', 'status', 'attempts', 'took', 'detail'],
    run.actions.map((action) => [
      action.action_id,
      action.action_type,
      action.status,
      action.attempts,
      action.started_at && action.ended_at ? formatDuration(Date.parse(action.ended_at) - Date.parse(action.started_at)) : undefined,
      action.error ? `${action.error.error}: ${causeText(action.error.cause)}` : action.reason,
    ]),
  );
}
