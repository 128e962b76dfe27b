import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import type { OrchestratorClient } from '../../client/index.ts';
import type { CheckedDefinition } from '../definition.ts';
import { runCommand, withGlobalOptions } from '../context.ts';
import { EXIT, InvalidDefinitionError } from '../errors.ts';
import type { Output } from '../output.ts';
import { applyDefinition, type ApplyResult, type Workflow } from '../workflow-lookup.ts';

/**
 * `validate`, `compile` and `apply` of a definition file. The checks and the compiler are loaded when one of
 * these runs (they take a noticeable part of a second to load), so other commands start fast.
 */
export function addDefinitionCommands(program: CommandUnknownOpts): void {
  withGlobalOptions(program.command('validate').description('check a definition file offline, as the API would (exit 2 with each problem and its field)').argument('<file>', 'a workflow definition, .json or .yaml'))
    .action((file, _options, command) =>
      runCommand(command, async ({ out }) => {
        const { readDefinitionFile, checkDefinition } = await import('../definition.ts');
        try {
          const { definition, warnings } = await checkDefinition(await readDefinitionFile(file));
          if (out.format === 'json') return out.json({ valid: true, name: definition.name, parameters: definition.parameters.length, actions: definition.actions.length, warnings });
          for (const warning of warnings) out.note(`warning: ${warning}`);
          out.line(`${file}: valid (workflow '${definition.name}', ${definition.actions.length} action${definition.actions.length === 1 ? '' : 's'})`);
        } catch (error) {
          return refusedAsJson(out, error);
        }
      }),
    );

  withGlobalOptions(
    program
      .command('compile')
      .description('compile a definition file offline into its Step Functions state machine (ASL); with --output json, the whole result')
      .argument('<file>', 'a workflow definition, .json or .yaml'),
  ).action((file, _options, command) =>
    runCommand(command, async ({ out }) => {
      const { readDefinitionFile, checkDefinition, compileDefinition, compiledAsJson } = await import('../definition.ts');
      try {
        const { definition, warnings } = await checkDefinition(await readDefinitionFile(file));
        const compiled = compileDefinition(definition);
        if (out.format === 'json') return out.json(compiledAsJson(compiled));
        for (const warning of warnings) out.note(`warning: ${warning}`);
        out.json(compiled.definition);
      } catch (error) {
        return refusedAsJson(out, error);
      }
    }),
  );

  withGlobalOptions(
    program
      .command('apply')
      .description('create the workflow of a definition file, or update the workflow with its name (so definitions can live in git)')
      .argument('<file>', 'a workflow definition, .json or .yaml'),
  ).action((file, _options, command) =>
    runCommand(command, async ({ api, out }) => {
      try {
        const applied = await applyFile(api(), file);
        if (out.format === 'json') return out.json(applied);
        printApplied(out, applied, 'line');
      } catch (error) {
        return refusedAsJson(out, error);
      }
    }),
  );
}

/** A definition file checked offline: InvalidDefinitionError (exit 2) when the API would refuse it. */
export async function checkFile(file: string): Promise<CheckedDefinition> {
  const { readDefinitionFile, checkDefinition } = await import('../definition.ts');
  return checkDefinition(await readDefinitionFile(file));
}

/** Checks a definition file offline (exit 2 before any call when the API would refuse it), then applies it. */
export async function applyFile(client: OrchestratorClient, file: string): Promise<{ result: ApplyResult; workflow: Workflow }> {
  return applyDefinition(client, (await checkFile(file)).definition);
}

/** `created workflow <id> 'name' version 1`, on stdout or (when stdout carries something else) stderr. */
export function printApplied(out: Output, applied: { result: ApplyResult; workflow: Workflow }, where: 'line' | 'note'): void {
  const { result, workflow } = applied;
  const text = `${result} workflow ${workflow.workflow_id} '${workflow.name}' version ${workflow.version} (revision ${workflow.revision})`;
  if (where === 'line') out.line(text);
  else out.note(text);
}

/**
 * With --output json, a refused definition is a JSON document on stdout (the API's error code, message and
 * details) as well as exit 2; in a table it goes to stderr like every error (errors.ts).
 */
function refusedAsJson(out: Output, error: unknown): number {
  if (!(error instanceof InvalidDefinitionError) || out.format !== 'json') throw error;
  out.json({ valid: false, status: error.status, error_code: error.code, message: error.message, details: error.details });
  return EXIT.usage;
}
