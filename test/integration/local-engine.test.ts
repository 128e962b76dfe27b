import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompiledMachineCache, startLocalRun, type LocalIntegrations } from '../../adapters/local/local-engine.ts';
import { fetchRunner } from '../support/fetch-runner.ts';
import { resolveParameters } from '../../core/execution/parameters.ts';
import { findTemplate } from '../../core/templates/catalog.ts';
import { WorkflowDefinitionSchema, type WorkflowDefinitionInput } from '../../core/workflow/definition.ts';
import { compileWorkflow, executionInput } from '../../statemachines/compile.ts';

/**
 * The compiled reference workflows run in the local interpreter against real HTTP services on loopback. The
 * runner here is a minimal fetch; the production action runner is tested on its own.
 */
interface Received {
  path: string;
  method: string;
  body: unknown;
  query: Record<string, string>;
  at: number;
}

let server: Server;
let base: string;
const received: Received[] = [];
const delays = new Map<string, number>();

beforeAll(async () => {
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const entry: Received = { path: url.pathname, method: request.method ?? 'GET', body: text ? JSON.parse(text) : undefined, query: Object.fromEntries(url.searchParams), at: Date.now() };
      received.push(entry);
      const reply = () => {
        response.setHeader('content-type', 'application/json');
        if (url.pathname === '/fetch') response.end(JSON.stringify({ content: `text of ${(entry.body as { url: string }).url}` }));
        else if (url.pathname === '/github/pr') response.end(JSON.stringify({ number: Number(entry.query.pr_number), files: [{ name: 'a.ts', additions: 3 }] }));
        else if (url.pathname === '/broken') {
          response.statusCode = 503;
          response.end(JSON.stringify({ error: 'down' }));
        } else response.end(JSON.stringify({ echo: entry.body ?? entry.query, score: 0.9 }));
      };
      setTimeout(reply, delays.get(url.pathname) ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const events: Record<string, unknown>[] = [];
const deadLetters: unknown[] = [];
const integrations: LocalIntegrations = {
  invokeRunner: fetchRunner(() => base),
  async putEvent(entry) {
    events.push(entry);
    return `event-${events.length}`;
  },
  async sendDeadLetter(body) {
    deadLetters.push(body);
  },
  async startSubWorkflow() {
    throw new Error('no sub-workflows here');
  },
};

const machines = new CompiledMachineCache();
let runs = 0;

async function run(definitionInput: WorkflowDefinitionInput, params: Record<string, unknown>) {
  const definition = WorkflowDefinitionSchema.parse(definitionInput);
  const resolved = resolveParameters(definition.parameters, params);
  expect(resolved.issues).toEqual([]);
  const compiled = compileWorkflow({ workflow_id: 'wf', version: 1, ...definition });
  const executionId = `exec-${++runs}`;
  const machine = machines.get(`${executionId}`, compiled.definition as unknown as Record<string, unknown>);
  return startLocalRun(machine, {
    definition: compiled.definition as unknown as Record<string, unknown>,
    actions: definition.actions,
    executionId,
    input: executionInput(resolved.values),
    integrations,
    now: () => new Date().toISOString(),
    retryMilliseconds: 1,
  }).done;
}

describe('the local engine running compiled reference workflows over HTTP', () => {
  it('runs Document Analysis: the fetched content arrives at the analysis service', async () => {
    const outcome = await run(findTemplate('document_analysis').definition, { document_url: 'https://example.com/doc.pdf' });
    expect(outcome.status).toBe('completed');
    const analyze = received.filter((request) => request.path === '/analyze').at(-1)!;
    expect(analyze.body).toEqual({ content: 'text of https://example.com/doc.pdf', analysis_type: 'comprehensive' });
    expect(outcome.actions.map((action) => [action.action_id, action.status, action.attempts])).toEqual([
      ['fetch_doc', 'completed', 1],
      ['analyze_quality', 'completed', 1],
    ]);
    expect(outcome.actions[0]?.output).toEqual({ status_code: 200, response: { content: 'text of https://example.com/doc.pdf' } });
  });

  it('runs PR Confidence: an integer parameter stays an integer and a whole response passes on as an object', async () => {
    const outcome = await run(findTemplate('pr_confidence').definition, { pr_number: 42, repository: 'org/repo' });
    expect(outcome.status).toBe('completed');
    const fetchPr = received.filter((request) => request.path === '/github/pr').at(-1)!;
    expect(fetchPr.query).toEqual({ pr_number: '42', repository: 'org/repo' });
    const confidence = received.filter((request) => request.path === '/calculate_confidence').at(-1)!;
    expect(confidence.body).toEqual({ pr_data: { number: 42, files: [{ name: 'a.ts', additions: 3 }] } });
  });

  it('runs independent actions at the same time', async () => {
    // Long enough calls that the machine's own slowness (shared, busy during a test run) cannot look like sequencing.
    for (const path of ['/ingest/github', '/ingest/jira', '/ingest/confluence', '/ingest/swagger']) delays.set(path, 500);
    const started = Date.now();
    const outcome = await run(findTemplate('ingestion').definition, { github_repository: 'o/r', jira_project: 'J', confluence_space: 'C', swagger_url: 'https://x/openapi.json' });
    const elapsed = Date.now() - started;
    expect(outcome.status).toBe('completed');
    const ingests = received.filter((request) => request.path.startsWith('/ingest/') && request.at >= started);
    expect(ingests).toHaveLength(4);
    // Four 500 ms calls in sequence would take 2 s and arrive 500 ms apart; in parallel they all arrive at once.
    expect(Math.max(...ingests.map((request) => request.at)) - Math.min(...ingests.map((request) => request.at))).toBeLessThan(500);
    expect(elapsed).toBeLessThan(2000);
    expect(events.at(-1)).toMatchObject({ DetailType: 'Workflow Notification', Detail: { action_id: 'notify_complete' } });
  });

  it('fails the run naming the action after its retries, and dead-letters the call', async () => {
    const outcome = await run(
      {
        name: 'broken',
        actions: [{ action_id: 'call_broken', action_type: 'service_call', config: { service: 's', endpoint: '/broken', method: 'POST' }, retry: { max_attempts: 3, interval_seconds: 1 } }],
      },
      {},
    );
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatchObject({ action_id: 'call_broken', error: 'ActionFailed' });
    expect(outcome.error?.cause).toContain('ServiceUnavailableError');
    expect(outcome.actions[0]).toMatchObject({ status: 'failed', attempts: 3 });
    expect(deadLetters.at(-1)).toMatchObject({ action_id: 'call_broken', error: 'ServiceUnavailableError', endpoint: '/broken' });
  });

  it("shows a notification's rendered message and its event id as the action's output", async () => {
    const outcome = await run(
      {
        name: 'notify',
        parameters: [{ name: 'document_url', type: 'string', required: true }],
        actions: [
          { action_id: 'fetch_doc', action_type: 'service_call', config: { service: 'svc', endpoint: '/fetch', method: 'POST', parameters: { url: '{{document_url}}' } } },
          { action_id: 'tell', action_type: 'notification', config: { message: 'Fetched: {{fetch_doc.response.content}}', severity: 'warning' }, depends_on: ['fetch_doc'] },
        ],
      },
      { document_url: 'https://example.com/a' },
    );
    expect(outcome.status).toBe('completed');
    const tell = outcome.actions.find((action) => action.action_id === 'tell');
    expect(tell?.output).toEqual({ status_code: 200, response: { event_id: `event-${events.length}`, message: 'Fetched: text of https://example.com/a', severity: 'warning', channels: expect.any(Array), recipients: [] } });
  });
});
