import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../adapters/aws/s3/payload-store.ts';
import { createSqsClient } from '../../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import { findTemplate } from '../../core/templates/catalog.ts';
import type { LocalRuntime } from '../../local/runtime.ts';
import { fetchRunner } from '../support/fetch-runner.ts';
import { startTestApi, type ApiReply, type CallOptions } from '../support/api.ts';

type Call = <T = Record<string, unknown>>(method: string, path: string, options?: CallOptions) => Promise<ApiReply<T>>;
interface ExecutionData {
  execution_id: string;
  status: string;
  workflow_version: number;
  trace_id: string;
  progress: { completed: number; total: number; percent: number };
  actions: { action_id: string; status: string; attempts: number; output?: { status_code: number | null; response: unknown }; error?: { error: string; cause: string } }[];
  error?: { action_id?: string; error: string; cause: string };
  parameters: Record<string, unknown>;
}

/** Services on loopback that the runs call; `/slow` answers after 1.5 s, `/broken` with a 503. */
let services: Server;
let servicesUrl: string;
const requests: { path: string; body: unknown }[] = [];
const traces: string[] = [];

const invokeRunner = fetchRunner(() => servicesUrl);

/** About 1 MB of text: four times what a whole state may hold. */
const LARGE_DOCUMENT = Array.from({ length: 10_000 }, (_, index) => `paragraph ${index}: ${'lorem ipsum '.repeat(8)}`).join('\n');

let runtime: LocalRuntime;
let call: Call;

beforeAll(async () => {
  services = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      requests.push({ path: url.pathname, body: text ? JSON.parse(text) : Object.fromEntries(url.searchParams) });
      if (typeof request.headers.traceparent === 'string') traces.push(request.headers.traceparent);
      const reply = (status: number, body: unknown) => {
        response.statusCode = status;
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(body));
      };
      if (url.pathname === '/broken') reply(503, { error: 'down' });
      else if (url.pathname === '/slow') setTimeout(() => reply(200, { slow: true }), 1500).unref();
      else if (url.pathname === '/fetch') reply(200, { content: 'document text' });
      else if (url.pathname === '/fetch-large') reply(200, { content: LARGE_DOCUMENT, title: 'large' });
      else if (url.pathname === '/analyze-large') reply(200, { received_chars: (requests.at(-1)?.body as { content?: string }).content?.length ?? 0 });
      else reply(200, { ok: true, score: 0.8 });
    });
  });
  await new Promise<void>((resolve) => services.listen(0, '127.0.0.1', resolve));
  servicesUrl = `http://127.0.0.1:${(services.address() as AddressInfo).port}`;
  ({ runtime, call } = await startTestApi({ invokeRunner }));
});
afterAll(async () => {
  await runtime.engine.idle();
  await runtime.close();
  services.closeAllConnections();
  await new Promise<void>((resolve) => services.close(() => resolve()));
});

async function createWorkflow(definition: unknown): Promise<string> {
  const reply = await call('POST', '/workflows', { body: definition });
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.data.workflow_id as string;
}

async function waitForEnd(executionId: string): Promise<ExecutionData> {
  for (let i = 0; i < 200; i++) {
    const reply = await call<ExecutionData>('GET', `/workflows/executions/${executionId}`);
    if (!['pending', 'running'].includes(reply.body.data.status)) return reply.body.data;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`execution ${executionId} did not end`);
}

const slowWorkflow = { name: 'slow', actions: [{ action_id: 'wait_for_it', action_type: 'service_call', config: { service: 's', endpoint: '/slow', method: 'GET' } }] };

describe('executing workflows over HTTP', () => {
  it('runs Document Analysis: 202 with an id, then completed with each action and its output', async () => {
    const id = await createWorkflow(findTemplate('document_analysis').definition);
    const started = await call<ExecutionData>('POST', `/workflows/${id}/execute`, { body: { parameters: { document_url: 'https://example.com/a.pdf' } } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body.data).toMatchObject({ workflow_version: 1, parameters: { document_url: 'https://example.com/a.pdf', analysis_type: 'comprehensive' } });
    expect(started.body.data.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const done = await waitForEnd(started.body.data.execution_id);
    expect(done.status).toBe('completed');
    expect(done.progress).toEqual({ completed: 2, total: 2, percent: 100 });
    expect(done.actions.map((action) => [action.action_id, action.status, action.attempts])).toEqual([
      ['fetch_doc', 'completed', 1],
      ['analyze_quality', 'completed', 1],
    ]);
    expect(done.actions[0]?.output).toEqual({ status_code: 200, response: { content: 'document text' } });
    expect(requests.filter((request) => request.path === '/analyze').at(-1)?.body).toEqual({ content: 'document text', analysis_type: 'comprehensive' });
  });

  it('refuses parameters that do not match the declaration, naming each', async () => {
    const id = await createWorkflow(findTemplate('pr_confidence').definition);
    const reply = await call('POST', `/workflows/${id}/execute`, { body: { parameters: { pr_number: 'seven', extra: 1 } } });
    expect(reply.status).toBe(400);
    expect(reply.body.details?.map((detail) => detail.field).sort()).toEqual(['parameters.pr_number', 'parameters.repository']);
  });

  it("accepts the reference's own example, keeping an undeclared parameter on the run with a warning", async () => {
    const id = await createWorkflow(findTemplate('hello_world').definition);
    const started = await call<ExecutionData & { warnings?: string[] }>('POST', `/workflows/${id}/execute`, { body: { parameters: { message: 'hi', analysis_type: 'comprehensive' } } });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body.data.parameters).toMatchObject({ message: 'hi', analysis_type: 'comprehensive' });
    expect(started.body.data.warnings?.[0]).toContain('analysis_type');
    const done = await waitForEnd(started.body.data.execution_id);
    expect(done.status).toBe('completed');
    expect(done.parameters.analysis_type).toBe('comprehensive');
  });

  it('refuses undeclared parameters with 400 when the workflow sets strict_parameters, and says so', async () => {
    const id = await createWorkflow({ ...findTemplate('hello_world').definition, strict_parameters: true });
    const workflow = await call('GET', `/workflows/${id}`);
    expect(workflow.body.data.strict_parameters).toBe(true);
    const reply = await call('POST', `/workflows/${id}/execute`, { body: { parameters: { message: 'hi', extra: 1 } } });
    expect(reply.status).toBe(400);
    expect(reply.body.details?.map((detail) => detail.field)).toEqual(['parameters.extra']);
    expect(reply.body.details?.[0]?.message).toContain('strict_parameters');
    // Turning it off is a new version; runs of it accept the parameter again.
    const updated = await call('PUT', `/workflows/${id}`, { body: { strict_parameters: false } });
    expect(updated.body.data.version).toBe(2);
    expect((await call('POST', `/workflows/${id}/execute`, { body: { parameters: { message: 'hi', extra: 1 } } })).status).toBe(202);
  });

  it('never starts a second run for the same Idempotency-Key', async () => {
    const id = await createWorkflow(findTemplate('hello_world').definition);
    const key = randomUUID();
    const first = await call<ExecutionData>('POST', `/workflows/${id}/execute`, { body: { parameters: { message: 'hi' } }, headers: { 'idempotency-key': key } });
    const second = await call<ExecutionData>('POST', `/workflows/${id}/execute`, { body: { parameters: { message: 'hi' } }, headers: { 'idempotency-key': key } });
    expect(second.body.data.execution_id).toBe(first.body.data.execution_id);
    await waitForEnd(first.body.data.execution_id);
    const list = await call<{ executions: ExecutionData[] }>('GET', `/workflows/${id}/executions`);
    expect(list.body.data.executions).toHaveLength(1);
    expect(runtime.eventLog.events.some((event) => (event.Detail as { message?: string }).message === 'hi')).toBe(true);
  });

  it('fails a run naming the action after its retries', async () => {
    const id = await createWorkflow({ name: 'broken', actions: [{ action_id: 'call_broken', action_type: 'service_call', config: { service: 's', endpoint: '/broken', method: 'POST' } }] });
    const started = await call<ExecutionData>('POST', `/workflows/${id}/execute`, { body: {} });
    const done = await waitForEnd(started.body.data.execution_id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ action_id: 'call_broken', error: 'ActionFailed' });
    expect(done.actions[0]).toMatchObject({ status: 'failed', attempts: 3 });

    // The dead letter is a message on the run's SQS queue, naming the action, the request and the error.
    const sqs = createSqsClient({ endpoint: runtime.sqsEndpoint, region: 'us-east-1' });
    try {
      const messages: Record<string, unknown>[] = [];
      for (let polls = 0; polls < 5 && !messages.some((message) => message.execution_id === started.body.data.execution_id); polls++) {
        const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: runtime.deadLetterQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        messages.push(...(received.Messages ?? []).map((message) => JSON.parse(message.Body ?? '{}') as Record<string, unknown>));
      }
      const letter = messages.find((message) => message.execution_id === started.body.data.execution_id);
      expect(letter).toMatchObject({ kind: 'action_failed', action_id: 'call_broken', service: 's', endpoint: '/broken', method: 'POST', error: 'ServiceUnavailableError' });
      expect(JSON.parse(String(letter?.cause))).toMatchObject({ message: 'HTTP 503', request: { endpoint: '/broken' } });
    } finally {
      sqs.destroy();
    }
  });

  it('cancels a running execution; twice is harmless; a finished one is a 409', async () => {
    const id = await createWorkflow(slowWorkflow);
    const started = await call<ExecutionData>('POST', `/workflows/${id}/execute`, { body: {} });
    const executionId = started.body.data.execution_id;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const cancelled = await call<ExecutionData>('POST', `/workflows/executions/${executionId}/cancel`);
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.data.status).toBe('cancelled');
    expect((await call('POST', `/workflows/executions/${executionId}/cancel`)).status).toBe(200);
    await runtime.engine.idle();
    expect((await call<ExecutionData>('GET', `/workflows/executions/${executionId}`)).body.data.status).toBe('cancelled');

    const other = await createWorkflow(findTemplate('hello_world').definition);
    const finished = await call<ExecutionData>('POST', `/workflows/${other}/execute`, { body: { parameters: { message: 'x' } } });
    await waitForEnd(finished.body.data.execution_id);
    const conflict = await call('POST', `/workflows/executions/${finished.body.data.execution_id}/cancel`);
    expect(conflict.status).toBe(409);
    expect((await call('GET', '/workflows/executions/nope')).status).toBe(404);
  });

  it('runs 50 executions at once and lists them newest first in the history', async () => {
    const id = await createWorkflow(findTemplate('document_analysis').definition);
    const since = new Date().toISOString();
    const started = await Promise.all(
      Array.from({ length: 50 }, (_, index) => call<ExecutionData>('POST', `/workflows/${id}/execute`, { body: { parameters: { document_url: `https://example.com/${index}` } } })),
    );
    expect(started.every((reply) => reply.status === 202)).toBe(true);
    const ended = await Promise.all(started.map((reply) => waitForEnd(reply.body.data.execution_id)));
    expect(ended.every((execution) => execution.status === 'completed')).toBe(true);
    const history = await call<{ executions: ExecutionData[]; next_token: string | null }>('GET', `/workflows/history?since=${encodeURIComponent(since)}&limit=20&status=completed`);
    expect(history.body.data.executions).toHaveLength(20);
    expect(history.body.data.next_token).not.toBeNull();
    expect((await call('GET', '/workflows/history?since=yesterday')).status).toBe(400);
  });
});

describe('the default action runner', () => {
  it('finds a registered service and calls it over HTTP with the trace headers', async () => {
    const api = await startTestApi();
    try {
      const registered = await api.call('POST', '/registry/register', { body: { name: 'analysis_service', url: servicesUrl } });
      expect(registered.status, JSON.stringify(registered.body)).toBeLessThan(300);
      const created = await api.call('POST', '/workflows', {
        body: { name: 'registered', actions: [{ action_id: 'score', action_type: 'service_call', config: { service: 'analysis_service', endpoint: '/score', method: 'POST', parameters: { n: 3 } } }] },
      });
      const started = await api.call<ExecutionData>('POST', `/workflows/${created.body.data.workflow_id as string}/execute`, { body: {} });
      let done: ExecutionData | undefined;
      for (let i = 0; i < 200 && (!done || ['pending', 'running'].includes(done.status)); i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        done = (await api.call<ExecutionData>('GET', `/workflows/executions/${started.body.data.execution_id}`)).body.data;
      }
      expect(done?.status, JSON.stringify(done)).toBe('completed');
      expect(done?.actions[0]?.output).toEqual({ status_code: 200, response: { ok: true, score: 0.8 } });
      expect(requests.filter((request) => request.path === '/score').at(-1)?.body).toEqual({ n: 3 });
      // The service sees the execution's own trace id.
      expect(traces.at(-1)).toMatch(new RegExp(`^00-${started.body.data.trace_id}-[0-9a-f]{16}-01$`));

      const missing = await api.call('POST', '/workflows', {
        body: { name: 'unregistered', actions: [{ action_id: 'nowhere', action_type: 'service_call', config: { service: 'ghost_service', endpoint: '/x', method: 'GET' } }] },
      });
      const failedRun = await api.call<ExecutionData>('POST', `/workflows/${missing.body.data.workflow_id as string}/execute`, { body: {} });
      await api.runtime.engine.idle();
      const failed = (await api.call<ExecutionData>('GET', `/workflows/executions/${failedRun.body.data.execution_id}`)).body.data;
      expect(failed.status).toBe('failed');
      expect(failed.error?.cause).toContain('ghost_service');
    } finally {
      await api.runtime.close();
    }
  });
});

describe('a response too large for state data', () => {
  it('is passed by reference to the next action, which receives it in full, and the run completes', async () => {
    const api = await startTestApi({ serviceUrls: { SOURCE_AGENT_URL: servicesUrl, ANALYSIS_SERVICE_URL: servicesUrl } });
    try {
      const created = await api.call('POST', '/workflows', {
        body: {
          name: 'large document',
          actions: [
            { action_id: 'fetch_doc', action_type: 'service_call', config: { service: 'source_agent', endpoint: '/fetch-large', method: 'POST' } },
            {
              action_id: 'analyze',
              action_type: 'service_call',
              depends_on: ['fetch_doc'],
              config: { service: 'analysis_service', endpoint: '/analyze-large', method: 'POST', parameters: { content: '{{fetch_doc.response.content}}', title: '{{fetch_doc.response.title}}' } },
            },
          ],
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const started = await api.call<ExecutionData>('POST', `/workflows/${created.body.data.workflow_id as string}/execute`, { body: {} });
      await api.runtime.engine.idle();
      const done = (await api.call<ExecutionData>('GET', `/workflows/executions/${started.body.data.execution_id}`)).body.data;
      expect(done.status, JSON.stringify(done.error)).toBe('completed');

      // The service received the whole document and the title, not a reference.
      const analyzed = requests.filter((request) => request.path === '/analyze-large').at(-1)?.body as { content: string; title: string };
      expect(analyzed.content).toBe(LARGE_DOCUMENT);
      expect(analyzed.title).toBe('large');
      expect(done.actions[1]?.output?.response).toEqual({ received_chars: LARGE_DOCUMENT.length });

      // The state kept a reference under the run's trace, and the bucket holds the document.
      const kept = done.actions[0]?.output?.response as { content: { payload_ref: string; size_bytes: number }; title: string };
      expect(kept.title).toBe('large');
      const prefix = `s3://${api.runtime.payloadBucketName}/payloads/${started.body.data.trace_id}/${started.body.data.execution_id}/fetch_doc/`;
      expect(kept.content.payload_ref.startsWith(prefix)).toBe(true);
      expect(JSON.stringify(kept).length).toBeLessThan(2048);
      const s3 = createS3Client({ endpoint: api.runtime.s3Endpoint, region: 'us-east-1' });
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: api.runtime.payloadBucketName, Key: kept.content.payload_ref.slice(`s3://${api.runtime.payloadBucketName}/`.length) }));
        expect(JSON.parse(await object.Body!.transformToString('utf-8'))).toBe(LARGE_DOCUMENT);
      } finally {
        s3.destroy();
      }
    } finally {
      await api.runtime.close();
    }
  });
});
