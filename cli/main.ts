// The `orchestrator` command (bin/orchestrator.mjs runs this file). See cli/program.ts for the command tree
// and cli/errors.ts for the exit codes.
import { enableCompileCache } from 'node:module';

// Node keeps what it compiled (the TypeScript stripped, V8's code) in its cache folder under the temporary
// directory: every command after the first starts in a third of the time. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
enableCompileCache();

// `orchestrator ... | head` closes the pipe early: that is the reader being done, not an error to report.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

// Loaded after the cache is on, so that the cache serves it.
const { runCli } = await import('./program.ts');
process.exitCode = await runCli(process.argv.slice(2));
