import { Argument, Command, CommanderError, type CommandUnknownOpts } from '@commander-js/extra-typings';
import packageJson from '../package.json' with { type: 'json' };
import { addDefinitionCommands } from './commands/definitions.ts';
import { addEventCommands } from './commands/events.ts';
import { addExecutionCommands } from './commands/executions.ts';
import { addMcpCommand } from './commands/mcp.ts';
import { addRegistryCommands } from './commands/registry.ts';
import { addRunCommand } from './commands/run.ts';
import { addWorkflowCommands } from './commands/workflows.ts';
import { completionScript, SHELLS } from './completion.ts';
import { DEFAULT_URL, runCommand, withGlobalOptions } from './context.ts';
import { EXIT } from './errors.ts';

/**
 * The `orchestrator` command tree. Commander's own refusals (an unknown option, a missing argument, a bad
 * choice) throw a CommanderError instead of exiting, so that main can give them exit code 2.
 */
export function createProgram(): CommandUnknownOpts {
  const program = new Command('orchestrator')
    .description(`Talk to a serverless workflow orchestrator: check, compile and apply workflow definitions, run and watch them, manage runs and the service registry, follow events.\nThe API is ORCHESTRATOR_URL (default ${DEFAULT_URL}), with ORCHESTRATOR_TOKEN or ORCHESTRATOR_API_KEY.`)
    .version(packageJson.version, '-V, --version', "print the CLI's version")
    .exitOverride()
    // The program's options come before the subcommand; each command declares the global options itself.
    .enablePositionalOptions()
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false });
  withGlobalOptions(program);
  program.addHelpText(
    'after',
    `
Examples:
  orchestrator validate workflows/ingest.yaml
  orchestrator apply workflows/ingest.yaml
  orchestrator run 'Hello World' --param message=hi --watch
  orchestrator executions list --status failed --output json
  eval "$(orchestrator completion bash)"

Exit codes: 0 success; 1 an API error, an unreachable API or a run that did not complete; 2 bad usage or an invalid definition.`,
  );
  addDefinitionCommands(program);
  addRunCommand(program);
  addWorkflowCommands(program);
  addExecutionCommands(program);
  addRegistryCommands(program);
  addEventCommands(program);
  addMcpCommand(program);
  withGlobalOptions(
    program
      .command('completion')
      .description('print a shell completion script: eval "$(orchestrator completion bash)"')
      .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS)),
    ['url', 'token', 'apiKey'],
  ).action((shell, _options, command) =>
    runCommand(command, async ({ out }) => {
      out.line(completionScript(shell, program).trimEnd());
    }),
  );
  return program;
}

/** Runs the CLI on `argv` (the words after `orchestrator`) and gives its exit code. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end with 0; every other refusal of the command line is a usage error.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    throw error;
  }
}
