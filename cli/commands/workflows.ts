import { Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { WORKFLOW_STATUSES } from '../vocabulary.ts';
import { positiveInteger } from '../arguments.ts';
import { runCommand, withGlobalOptions } from '../context.ts';
import type { Output } from '../output.ts';
import { shortTime } from '../output.ts';
import { resolveWorkflow, resolveWorkflowId, type Workflow } from '../workflow-lookup.ts';

/** `workflows list|get|delete`. */
export function addWorkflowCommands(program: CommandUnknownOpts): void {
  const workflows = withGlobalOptions(program.command('workflows').description('list, show and delete workflows'));

  withGlobalOptions(workflows.command('list').description('list workflows, newest first')
    .addOption(new Option('--status <status>', 'only workflows in this status').choices(WORKFLOW_STATUSES))
    .option('--created-by <user>', 'only workflows this user created')
    .option('--page-size <n>', 'workflows per page (at most 100; default 50)', positiveInteger)
    .option('--page <n>', 'page number, from 1', positiveInteger)
    .option('--next-token <token>', 'the next page, as the previous page gave it'))
    .action((options, command) =>
      runCommand(command, async ({ api, out }) => {
        const data = await api().call('listWorkflows', {
          query: { status: options.status, created_by: options.createdBy, page_size: options.pageSize, page: options.page, next_token: options.nextToken },
        });
        if (out.format === 'json') return out.json(data);
        out.table(
          ['id', 'name', 'status', 'version', 'actions', 'created by', 'updated'],
          data.workflows.map((workflow) => [workflow.workflow_id, workflow.name, workflow.status, workflow.version, workflow.action_count, workflow.created_by, shortTime(workflow.updated_at)]),
        );
        out.line(`page ${data.page}: ${data.workflows.length} of ${data.total} workflows${data.has_more && data.next_token ? `; next page: --next-token ${data.next_token}` : ''}`);
      }),
    );

  withGlobalOptions(workflows.command('get').description('show a workflow: its definition, parameters and actions').argument('<workflow>', 'workflow id or exact name')
    .option('--version <n>', 'this version of the definition (default: the latest)', positiveInteger))
    .action((idOrName, options, command) =>
      runCommand(command, async ({ api, out }) => {
        const client = api();
        let workflow = await resolveWorkflow(client, idOrName);
        if (options.version !== undefined && options.version !== workflow.version) {
          workflow = await client.call('getWorkflow', { params: { workflow_id: workflow.workflow_id }, query: { version: options.version } });
        }
        if (out.format === 'json') return out.json(workflow);
        printWorkflow(out, workflow);
      }),
    );

  withGlobalOptions(workflows.command('delete').description('delete a workflow and all its versions').argument('<workflow>', 'workflow id or exact name'))
    .action((idOrName, _options, command) =>
      runCommand(command, async ({ api, out }) => {
        const client = api();
        const workflowId = await resolveWorkflowId(client, idOrName);
        const data = await client.call('deleteWorkflow', { params: { workflow_id: workflowId } });
        if (out.format === 'json') return out.json(data);
        out.line(`deleted workflow ${data.workflow_id}`);
      }),
    );
}

export function printWorkflow(out: Output, workflow: Workflow): void {
  out.fields([
    ['id', workflow.workflow_id],
    ['name', workflow.name],
    ['description', workflow.description],
    ['status', workflow.status],
    ['version', workflow.version === workflow.latest_version ? `${workflow.version}` : `${workflow.version} (latest ${workflow.latest_version})`],
    ['revision', workflow.revision],
    ['execution mode', workflow.execution_mode],
    ['tags', workflow.tags.join(', ')],
    ['created', `${shortTime(workflow.created_at)} by ${workflow.created_by}`],
    ['updated', `${shortTime(workflow.updated_at)} by ${workflow.updated_by}`],
  ]);
  out.line();
  if (workflow.parameters.length > 0) {
    out.table(
      ['parameter', 'type', 'required', 'default', 'enum'],
      workflow.parameters.map((parameter) => [
        parameter.name,
        parameter.type,
        parameter.required ? 'yes' : 'no',
        parameter.default === undefined ? undefined : JSON.stringify(parameter.default),
        parameter.enum?.map((value) => JSON.stringify(value)).join(' '),
      ]),
    );
    out.line();
  }
  out.table(
    ['action', 'type', 'depends on', 'name'],
    workflow.actions.map((action) => [action.action_id, action.action_type, action.depends_on.join(', '), action.name]),
  );
}
