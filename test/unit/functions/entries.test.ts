import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { entryFileName, routes, type RouteName } from '../../../functions/routes.ts';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..', '..');

/**
 * Each Lambda's entry must initialise with exactly the environment CDK gives its function: a table name only
 * when the route table grants table access. A handler that needs more would crash at cold start in AWS.
 * Each entry loads in its own process (nothing is shared between them, as between functions); several at once,
 * since a load mostly waits on the file system and the other core.
 */
describe.concurrent('Lambda entries', () => {
  for (const [name, route] of Object.entries(routes) as [RouteName, (typeof routes)[RouteName]][]) {
    it(`${name} loads and exports a handler with only its own configuration`, async () => {
      const file = join(root, 'functions', 'entries', entryFileName(name));
      expect(existsSync(file), file).toBe(true);
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_EC2_METADATA_DISABLED: 'true',
        SERVICE_VERSION: 'test',
      };
      // As infra/stacks/context-routes-stack.ts sets them: `<TABLE>_TABLE_NAME` for each table the route declares.
      for (const table of Object.keys(route.tables)) env[`${table.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()}_TABLE_NAME`] = table;
      // ...and, on every route function, the audit table (each may append its refusals and changes to it).
      env['AUDIT_TABLE_NAME'] = 'audit';
      // ...and, on every route function, the key listing cursors are signed with (infra/constructs/cursor-secret.ts).
      env['ORCHESTRATOR_CURSOR_SECRET'] = 'c'.repeat(48);
      // ...and, for routes that probe the dead-letter queue and the event bus, their URL and name (RuntimeStack.probeEnvironment).
      if ((route as { probes?: boolean }).probes) Object.assign(env, { WORKFLOW_DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/dead-letters', WORKFLOW_EVENT_BUS_NAME: 'bus' });
      // ...and, for routes that publish on the event bus, its name (RuntimeStack.publishEnvironment).
      if ((route as { bus?: string }).bus === 'publish') env['WORKFLOW_EVENT_BUS_NAME'] = 'bus';
      const script = `const m = await import(${JSON.stringify(file)}); if (typeof m.handler !== 'function') { console.error('no handler'); process.exit(2); }`;
      await expect(run(process.execPath, ['--input-type=module', '-e', script], { env, cwd: root })).resolves.toBeDefined();
    });
  }

  it('fail at init, naming the variable, without the cursor key (rather than on their first listing)', async () => {
    const file = join(root, 'functions', 'entries', entryFileName('listWorkflows'));
    const env = { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', WORKFLOWS_TABLE_NAME: 'workflows', AUDIT_TABLE_NAME: 'audit' };
    await expect(run(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(file)});`], { env, cwd: root })).rejects.toThrow(/ORCHESTRATOR_CURSOR_SECRET is required/);
  });
});
