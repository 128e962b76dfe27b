import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { OrchestratorClient } from '../../client/index.ts';
import { positiveInteger } from '../arguments.ts';
import { runCommand, withGlobalOptions, type CliContext } from '../context.ts';
import { EXIT, RunFailedError } from '../errors.ts';
import { collectParam, parseParams } from '../params.ts';
import { watchExecution } from '../watch.ts';
import { createLiveView, createPlainView, failureOf, silentView, type WatchView } from '../watch-view.ts';
import { applyDefinition, resolveWorkflow, type Workflow } from '../workflow-lookup.ts';
import { checkFile, printApplied } from './definitions.ts';

const DEFINITION_EXTENSIONS = ['.json', '.yaml', '.yml'];

/** `run <workflow-id|name|file>`: start a run, and with --watch follow it to its end. */
export function addRunCommand(program: CommandUnknownOpts): void {
  withGlobalOptions(program.command('run').description('start a run of a workflow (a definition file is applied first); with --watch, follow it until it ends').argument('<workflow>', 'workflow id, exact name, or definition file')
    .option('-p, --param <name=value>', 'a parameter (repeatable); numbers, booleans and JSON objects/arrays are read by the declared type', collectParam)
    .option('-w, --watch', "show each action's status live until the run ends (exit 1 when it does not complete)")
    .option('--workflow-version <n>', 'run this version of the workflow (default: the latest)', positiveInteger)
    .option('--idempotency-key <key>', 'the same key never starts a second run'))
    .action((target, options, command) =>
      runCommand(command, async (context) => {
        const { api, out } = context;
        const client = api();
        const { workflow, parameters } = await prepare(context, target, options.param ?? []);
        const started = await client.call('executeWorkflow', {
          params: { workflow_id: workflow.workflow_id },
          body: { parameters, ...(options.workflowVersion !== undefined ? { version: options.workflowVersion } : {}) },
          ...(options.idempotencyKey !== undefined ? { headers: { 'idempotency-key': options.idempotencyKey } } : {}),
        });
        if (!options.watch) {
          if (out.format === 'json') return out.json(started);
          for (const warning of started.warnings ?? []) out.note(`warning: ${warning}`);
          // The id alone, so that `ID=$(orchestrator run ...)` works.
          return out.line(started.execution_id);
        }
        return watch(context, client, started.execution_id);
      }),
    );
}

/**
 * The workflow to run and the run's parameters, checked against its declarations before it starts: a
 * definition file is checked offline and its parameters too, before it is applied (as `apply`); otherwise the
 * workflow is read by id or exact name.
 */
async function prepare({ api, out }: CliContext, target: string, flags: readonly string[]): Promise<{ workflow: Workflow; parameters: Record<string, unknown> }> {
  if (await isDefinitionFile(target)) {
    const { definition } = await checkFile(target);
    const parameters = parseParams(flags, definition.parameters);
    const applied = await applyDefinition(api(), definition);
    // stdout carries the execution id (or JSON): what apply did goes to stderr.
    printApplied(out, applied, 'note');
    return { workflow: applied.workflow, parameters };
  }
  const workflow = await resolveWorkflow(api(), target);
  return { workflow, parameters: parseParams(flags, workflow.parameters) };
}

async function isDefinitionFile(target: string): Promise<boolean> {
  if (DEFINITION_EXTENSIONS.includes(extname(target).toLowerCase())) return true;
  try {
    return (await stat(target)).isFile();
  } catch {
    return false;
  }
}

async function watch({ out }: CliContext, client: OrchestratorClient, executionId: string): Promise<number> {
  const view: WatchView =
    out.format === 'json'
      ? silentView
      : process.stdout.isTTY
        ? createLiveView((text) => process.stdout.write(text), () => ({ columns: process.stdout.columns || 80, rows: process.stdout.rows || 24 }))
        : createPlainView((text) => process.stdout.write(text));
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  try {
    const final = await watchExecution(client, executionId, view, { signal: interrupt.signal });
    if (interrupt.signal.aborted) {
      out.note(`stopped watching; the run goes on: orchestrator executions get ${executionId}`);
      return EXIT.interrupted;
    }
    if (out.format === 'json') out.json(final);
    if (final.status === 'completed') return EXIT.ok;
    throw new RunFailedError(failureOf(final));
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
