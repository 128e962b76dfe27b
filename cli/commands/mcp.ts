import { InvalidArgumentError, type CommandUnknownOpts } from '@commander-js/extra-typings';
import packageJson from '../../package.json' with { type: 'json' };
import type { LogEntry } from '../../core/ports.ts';
import { displayUrl, runCommand, withGlobalOptions } from '../context.ts';
import { EXIT } from '../errors.ts';

/**
 * `mcp`: the orchestrator as an MCP server on stdin/stdout, for desktop agents. It talks to a running
 * orchestrator over HTTP with the user's credential (--url, --token, --api-key or their ORCHESTRATOR_*
 * variables), so the agent can do what the user may do and nothing more. stdout carries MCP messages only:
 * everything else goes to stderr.
 */
/**
 * A run that takes longer is answered as still running (with its resource), before a typical agent's request
 * timeout (the SDK's is 60 s) gives up on the call: an answer the agent can act on rather than a timeout.
 */
const DEFAULT_WAIT_SECONDS = 50;

export function addMcpCommand(program: CommandUnknownOpts): void {
  withGlobalOptions(
    program
      .command('mcp')
      .description('serve the orchestrator to AI agents over MCP (stdio): workflows as tools, workflows and runs as resources')
      .option('--service-tools', "also offer the registered services' operations as tools (GET /tools; described only: they cannot be called through MCP yet)")
      .option('--wait <seconds>', `how long a tool call waits for its run before answering that it still runs; 0: until it ends (default ${DEFAULT_WAIT_SECONDS}, under the usual 60 s of agents' request timeouts)`, seconds)
      .option('--keep-runs-on-cancel', 'a cancelled tool call leaves its run running (default: the run is cancelled)')
      .addHelpText(
        'after',
        `
A desktop agent starts it itself, e.g. in its MCP configuration:
  {"mcpServers": {"orchestrator": {"command": "npx", "args": ["orchestrator", "mcp"],
    "env": {"ORCHESTRATOR_URL": "http://127.0.0.1:5099", "ORCHESTRATOR_API_KEY": "..."}}}}`,
      ),
    ['output'],
  ).action((options, command) =>
    runCommand(command, async ({ api, globals }) => {
      // Loaded here: the SDK would add a sixth to the start of every other command.
      const [{ StdioServerTransport }, { createClientAccess }, { createOrchestratorMcpServer }] = await Promise.all([
        import('@modelcontextprotocol/sdk/server/stdio.js'),
        import('../../functions/mcp/client-access.ts'),
        import('../../functions/mcp/server.ts'),
      ]);
      const log = (entry: LogEntry) => void process.stderr.write(`${JSON.stringify({ level: entry.level ?? 'info', ...entry })}\n`);
      const server = createOrchestratorMcpServer(createClientAccess(api()), {
        serverInfo: { name: 'orchestrator', version: packageJson.version },
        serviceTools: options.serviceTools ?? false,
        waitForRunMs: (options.wait ?? DEFAULT_WAIT_SECONDS) === 0 ? Number.POSITIVE_INFINITY : (options.wait ?? DEFAULT_WAIT_SECONDS) * 1000,
        cancelRunOnCancel: !options.keepRunsOnCancel,
        log,
      });
      const closed = new Promise<void>((resolve) => (server.onclose = resolve));
      await server.connect(new StdioServerTransport());
      log({ message: `MCP server on stdio for the orchestrator at ${displayUrl(globals.url)}` });
      // The agent ends the server by closing its stdin (the SDK's transport does not watch for that) or by a signal.
      const stop = () => void server.close();
      process.stdin.once('end', stop);
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await closed;
      } finally {
        process.stdin.removeListener('end', stop);
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
      }
      return EXIT.ok;
    }),
  );
}

function seconds(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) throw new InvalidArgumentError('expected a number of seconds (0: until the run ends)');
  return number;
}
