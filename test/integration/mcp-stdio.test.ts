import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ROOT } from '../cli/cli-process.ts';
import { serviceCall, startMcpFixture, type McpFixture } from '../unit/mcp/fixture.ts';

/**
 * `orchestrator mcp` as desktop agents run it: a child process (`node cli/main.ts mcp`) that the SDK's stdio
 * client starts and talks to, which talks to a real local orchestrator over HTTP (ORCHESTRATOR_URL).
 */

let fixture: McpFixture;
const NODE = join(ROOT, 'node_modules', '.bin', 'node');

beforeAll(async () => {
  fixture = await startMcpFixture();
  await fixture.createWorkflow({ name: 'Desk job', parameters: [{ name: 'amount', type: 'number', required: true }], actions: [serviceCall('charge', '/ok'), { action_id: 'note', action_type: 'notification', depends_on: ['charge'], config: { message: 'charged {{amount}}' } }] });
});

afterAll(async () => {
  await fixture.close();
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('orchestrator mcp (stdio)', () => {
  it('serves the tools over stdio, writing nothing but MCP messages on stdout, and exits when the agent closes it', async () => {
    const transport = new StdioClientTransport({
      command: NODE,
      args: [join(ROOT, 'cli', 'main.ts'), 'mcp'],
      cwd: ROOT,
      // Only what Node needs and the API's address: nothing of this process's own credentials.
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir(), TMPDIR: tmpdir(), ORCHESTRATOR_URL: fixture.runtime.url },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const client = new Client({ name: 'desktop-agent', version: '1.0.0' });
    // Anything on stdout that is not an MCP message would arrive here as a parse error.
    const errors: Error[] = [];
    client.onerror = (error) => errors.push(error);
    await client.connect(transport);
    const pid = transport.pid!;
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'orchestrator' });
      const { tools } = await client.listTools();
      expect(tools).toHaveLength(1);
      expect(tools[0]).toMatchObject({ name: 'workflow.desk_job', inputSchema: { type: 'object', required: ['amount'], properties: { amount: { type: 'number' } } } });

      const progress: Progress[] = [];
      const result = (await client.callTool({ name: 'workflow.desk_job', arguments: { amount: 12.5 } }, undefined, { onprogress: (update) => progress.push(update) })) as CallToolResult;
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ status: 'completed' });
      expect(progress.at(-1)).toMatchObject({ progress: 2, total: 2 });
      const refused = (await client.callTool({ name: 'workflow.desk_job', arguments: { amount: 'twelve' } })) as CallToolResult;
      expect(refused).toMatchObject({ isError: true, content: [{ type: 'text', text: expect.stringContaining('- amount: ') }] });
      expect(errors).toEqual([]);
      expect(stderr).toContain(`MCP server on stdio for the orchestrator at ${fixture.runtime.url}`);
    } finally {
      const closing = Date.now();
      await client.close();
      // The client ended its stdin and the server exited on its own: the SDK sends SIGTERM only after 2 s.
      expect(Date.now() - closing).toBeLessThan(1500);
    }
    expect(isRunning(pid)).toBe(false);
    expect(stderr).not.toMatch(/SIGTERM|error/i);
  });

  it('answers a listing with the reason when the API cannot be reached, and keeps serving', async () => {
    const transport = new StdioClientTransport({ command: NODE, args: [join(ROOT, 'cli', 'main.ts'), 'mcp', '--url', 'http://127.0.0.1:9'], cwd: ROOT, env: { PATH: process.env.PATH ?? '', TMPDIR: tmpdir() }, stderr: 'ignore' });
    const client = new Client({ name: 'desktop-agent', version: '1.0.0' });
    await client.connect(transport);
    try {
      await expect(client.listTools()).rejects.toThrow(/unavailable: the orchestrator API could not be reached/);
      expect((await client.listResourceTemplates()).resourceTemplates).toHaveLength(2);
    } finally {
      await client.close();
    }
  });

  it('refuses a bad --url before serving (exit 2), and is part of the help and of the completions', async () => {
    const refused = await cli(['mcp', '--url', 'ftp://nowhere']);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('--url must be an http or https URL');

    const help = await cli(['--help']);
    expect(help.stdout).toMatch(/^ {2}mcp\b/m);
    const bash = await cli(['completion', 'bash']);
    expect(bash.code).toBe(0);
    for (const word of ['mcp', '--service-tools', '--wait', '--keep-runs-on-cancel']) expect(bash.stdout).toContain(word);
  });
});
