import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Span } from '../../../../core/observability/spans.ts';
import { createSpanRecorder, openSpan, type SpanExporter } from '../../../../functions/observability/span-recorder.ts';
import { createOtlpSpanExporter, parseOtlpHeaders } from '../../../../functions/observability/otlp-exporter.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function collecting(): SpanExporter & { batches: Span[][] } {
  const batches: Span[][] = [];
  return { name: 'memory', batches, export: async (spans) => void batches.push([...spans]) };
}

describe('the span recorder', () => {
  it('buffers without making the caller wait, and exports everything on flush', async () => {
    const exporter = collecting();
    const recorder = createSpanRecorder({ exporters: [exporter], flushIntervalMs: 0 });
    const span = openSpan(recorder, { name: 'GET /x', kind: 'server', category: 'request', service: 'orchestrator', trace_id: TRACE, attributes: { a: 1, skipped: undefined } });
    expect(span.trace_id).toBe(TRACE);
    expect(span.span_id).toMatch(/^[0-9a-f]{16}$/);
    const ended = span.end('ok', { 'http.status_code': 200 });
    expect(span.end('error')).toBe(ended);
    expect(exporter.batches).toHaveLength(0);
    await recorder.flush();
    expect(exporter.batches).toEqual([[ended]]);
    expect(ended.attributes).toEqual({ a: 1, 'http.status_code': 200 });
    expect(ended.status).toBe('ok');
    expect(Date.parse(ended.end) - Date.parse(ended.start)).toBeGreaterThanOrEqual(0);
    expect(recorder.stats()).toMatchObject({ recorded: 1, exported: 1, dropped: 0 });
  });

  it('drops the oldest spans beyond its bound, and counts them', async () => {
    const exporter = collecting();
    const recorder = createSpanRecorder({ exporters: [exporter], flushIntervalMs: 0, maxBuffered: 10 });
    for (let index = 0; index < 25; index += 1) openSpan(recorder, { name: `s${index}`, kind: 'internal', category: 'action', service: 'orchestrator' }).end('ok');
    await recorder.flush();
    expect(exporter.batches.flat().map((span) => span.name)).toEqual(Array.from({ length: 10 }, (_, index) => `s${index + 15}`));
    expect(recorder.stats().dropped).toBe(15);
  });

  it('keeps exporting to the other exporters when one fails, and logs the failure', async () => {
    const good = collecting();
    const lines: Record<string, unknown>[] = [];
    const recorder = createSpanRecorder({ exporters: [{ name: 'broken', export: () => Promise.reject(new Error('unreachable')) }, good], flushIntervalMs: 0, log: (line) => void lines.push(line) });
    openSpan(recorder, { name: 'x', kind: 'internal', category: 'action', service: 'orchestrator' }).end('ok');
    await recorder.flush();
    expect(good.batches.flat()).toHaveLength(1);
    expect(recorder.stats().failedExports).toBe(1);
    expect(lines).toEqual([expect.objectContaining({ level: 'warn', exporter: 'broken', spans: 1 })]);
  });

  it('exports on its timer in a long-lived process, and what is left at close', async () => {
    const exporter = collecting();
    const recorder = createSpanRecorder({ exporters: [exporter], flushIntervalMs: 20 });
    openSpan(recorder, { name: 'first', kind: 'internal', category: 'action', service: 'orchestrator' }).end('ok');
    await expect.poll(() => exporter.batches.flat().length, { timeout: 2000 }).toBe(1);
    openSpan(recorder, { name: 'last', kind: 'internal', category: 'action', service: 'orchestrator' }).end('ok');
    await recorder.close();
    expect(exporter.batches.flat().map((span) => span.name)).toEqual(['first', 'last']);
  });
});

describe('the OTLP exporter', () => {
  const servers: { close: () => void }[] = [];
  afterEach(() => servers.splice(0).forEach((server) => server.close()));

  it('posts the spans to <endpoint>/v1/traces as OTLP JSON, with their ids, parentage, timing and resource', async () => {
    const received: { url: string | undefined; body: unknown; apiKey: string | string[] | undefined; contentType: string | undefined }[] = [];
    const server = createServer((request: IncomingMessage, response) => {
      let text = '';
      request.on('data', (chunk: Buffer) => (text += chunk.toString()));
      request.on('end', () => {
        received.push({ url: request.url, body: JSON.parse(text) as unknown, apiKey: request.headers['api-key'], contentType: request.headers['content-type'] });
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const exporter = createOtlpSpanExporter({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, serviceName: 'orchestrator-test', serviceVersion: '9.9.9', headers: parseOtlpHeaders('api-key=collector%20key') });
    const span: Span = {
      trace_id: TRACE,
      span_id: '00f067aa0ba902b7',
      parent_span_id: '1111111111111111',
      name: 'POST billing',
      kind: 'client',
      category: 'service_call',
      service: 'billing',
      start: '2026-12-06T10:00:00.000Z',
      end: '2026-12-06T10:00:00.250Z',
      duration_ms: 250,
      status: 'error',
      tenant: 'team-a',
      execution_id: 'ex-1',
      attributes: { 'http.status_code': 503 },
    };
    await exporter.export([span]);
    await exporter.shutdown?.();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ url: '/v1/traces', apiKey: 'collector key', contentType: 'application/json' });
    const body = received[0]!.body as { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
    const resource = Object.fromEntries(body.resourceSpans[0]!.resource.attributes.map((attribute) => [attribute.key, attribute.value.stringValue]));
    expect(resource).toMatchObject({ 'service.name': 'orchestrator-test', 'service.version': '9.9.9' });
    const sent = body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(sent).toMatchObject({ traceId: TRACE, spanId: '00f067aa0ba902b7', parentSpanId: '1111111111111111', name: 'POST billing', kind: 3, status: { code: 2 } });
    expect(BigInt(String(sent['endTimeUnixNano'])) - BigInt(String(sent['startTimeUnixNano']))).toBe(250_000_000n);
    const attributes = Object.fromEntries((sent['attributes'] as { key: string; value: Record<string, unknown> }[]).map((attribute) => [attribute.key, Object.values(attribute.value)[0]]));
    expect(attributes).toMatchObject({ 'peer.service': 'billing', 'orchestrator.tenant': 'team-a', 'orchestrator.execution_id': 'ex-1' });
    expect(Number(attributes['http.status_code'])).toBe(503);
  });

  it('fails the export when the collector refuses it (the recorder logs it and goes on)', async () => {
    const server = createServer((_request, response) => response.writeHead(400).end('bad'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const exporter = createOtlpSpanExporter({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, serviceName: 'x', timeoutMillis: 2000 });
    await expect(exporter.export([{ trace_id: TRACE, span_id: '00f067aa0ba902b7', name: 'x', kind: 'internal', category: 'action', service: 'orchestrator', start: '2026-12-06T10:00:00.000Z', end: '2026-12-06T10:00:00.000Z', duration_ms: 0, status: 'ok', attributes: {} }])).rejects.toThrow();
  });

  it('reads OTEL_EXPORTER_OTLP_HEADERS as the specification writes it, naming a bad pair without its value', () => {
    expect(parseOtlpHeaders('Api-Key=a%3Db, x-tenant = acme ,')).toEqual({ 'api-key': 'a=b', 'x-tenant': 'acme' });
    expect(() => parseOtlpHeaders('api-key=ok,just-a-value')).toThrow('OTEL_EXPORTER_OTLP_HEADERS: pair 2 is not key=value with a valid header name');
    expect(() => parseOtlpHeaders('api-key=%E0%A4%A')).toThrow(/the value of api-key is not valid percent-encoding/);
  });
});
