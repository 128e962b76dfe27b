import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalRuntime } from '../local/runtime.ts';
import { median, round, table } from './stats.ts';

/**
 * Issue 14: what a proxied request costs over calling the service directly (POST /docstore/save against
 * POST /documents on a loopback stub, interleaved in rounds, p50 of each), with a service that answers at
 * once (the orchestrator's own overhead: auth, audit record, registry lookup, span) and one that takes 50 ms
 * (a real service); and the local scheduler's drift: fire time minus due time over 100 firings.
 */
export interface EcosystemSection {
  readonly proxy: Array<{ readonly service_ms: number; readonly direct_p50_ms: number; readonly proxy_p50_ms: number; readonly ratio: number }>;
  readonly drift: { readonly firings: number; readonly p50_ms: number; readonly p99_ms: number; readonly max_ms: number };
}

const ROUNDS = 6;
const PER_ROUND = 25;
const FIRINGS = 100;

function percentile(values: readonly number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? 0;
}

async function stub(delayMs: number) {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => setTimeout(() => response.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"doc-1"}'), delayMs));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function timedPost(url: string, body: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return performance.now() - started;
}

export async function measureEcosystem(): Promise<EcosystemSection> {
  const services = await Promise.all([stub(0), stub(50)]);
  const runtime = await startLocalRuntime({
    port: 0,
    host: '127.0.0.1',
    workflowsTableName: 'bench-ecosystem',
    region: 'us-east-1',
    serviceVersion: 'bench',
    logLevel: 'warn',
    // The first stub is doc_store's URL variable; the second is registered under the name (the registry wins).
    serviceUrls: { DOC_STORE_URL: services[0]!.url },
  });
  const proxy: EcosystemSection['proxy'] = [];
  try {
    const body = JSON.stringify({ content: 'benchmark document', title: 'bench' });
    for (const [index, service] of services.entries()) {
      if (index > 0) {
        const registered = await fetch(`${runtime.url}/registry/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'doc_store', url: service.url }) });
        if (registered.status !== 201) throw new Error(`doc_store not registered: ${registered.status}`);
        // The runner trusts what it read of a service for 2 s (its registry cache): past that, calls go to the instance.
        await new Promise((resolve) => setTimeout(resolve, 2500));
      }
      const direct: number[] = [];
      const proxied: number[] = [];
      for (let warm = 0; warm < 10; warm++) {
        await timedPost(`${service.url}/documents`, body);
        await timedPost(`${runtime.url}/docstore/save`, body);
      }
      for (let round_ = 0; round_ < ROUNDS; round_++) {
        for (let call = 0; call < PER_ROUND; call++) direct.push(await timedPost(`${service.url}/documents`, body));
        for (let call = 0; call < PER_ROUND; call++) proxied.push(await timedPost(`${runtime.url}/docstore/save`, body));
      }
      const directP50 = median(direct);
      const proxyP50 = median(proxied);
      proxy.push({ service_ms: index === 0 ? 0 : 50, direct_p50_ms: round(directP50, 2), proxy_p50_ms: round(proxyP50, 2), ratio: round(proxyP50 / directP50, 2) });
    }

    // 100 one-time schedules due over ten seconds (at() has whole seconds: ten per second), on five workflows.
    const workflowIds: string[] = [];
    for (let index = 0; index < 5; index++) {
      const created = await fetch(`${runtime.url}/workflows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `drift ${index}`, actions: [{ action_id: 'note', action_type: 'transform', config: { output: { ok: true } } }] }),
      });
      workflowIds.push(((await created.json()) as { data: { workflow_id: string } }).data.workflow_id);
    }
    // One run of each first: a workflow version's first run builds its state machine in the interpreter
    // (~100 ms, synchronous), which would show as drift of the firings queued behind it, not the scheduler's.
    for (const workflowId of workflowIds) {
      await fetch(`${runtime.url}/workflows/${workflowId}/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    }
    const firstDue = Math.ceil(Date.now() / 1000) + 4;
    for (let index = 0; index < FIRINGS; index++) {
      const due = new Date((firstDue + Math.floor(index / 10)) * 1000).toISOString().slice(0, 19);
      const response = await fetch(`${runtime.url}/workflows/${workflowIds[index % 5]}/schedules`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ expression: `at(${due})` }),
      });
      if (response.status !== 201) throw new Error(`schedule not created: ${response.status} ${await response.text()}`);
    }
    const deadline = Date.now() + 30_000;
    while (runtime.scheduler.firings.length < FIRINGS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    const drifts = runtime.scheduler.firings.map((firing) => firing.drift_ms);
    return {
      proxy,
      drift: { firings: drifts.length, p50_ms: round(percentile(drifts, 0.5), 1), p99_ms: round(percentile(drifts, 0.99), 1), max_ms: round(Math.max(...drifts), 1) },
    };
  } finally {
    await runtime.close();
    await Promise.all(services.map((service) => service.close()));
  }
}

export function renderEcosystemSection(section: EcosystemSection): string {
  return [
    '## Ecosystem proxies and schedules',
    '',
    'POST /docstore/save through the API against POST /documents on the stub directly (p50, sequential, interleaved rounds). Target: ratio under 1.2 at p50 for a service taking 50 ms; the 0 ms row is the orchestrator\'s whole per-request cost (auth, audit record, registry lookup, span) over a loopback call.',
    '',
    table(
      ['service latency', 'direct p50 (ms)', 'proxied p50 (ms)', 'ratio'],
      section.proxy.map((row) => [`${row.service_ms} ms`, row.direct_p50_ms, row.proxy_p50_ms, row.ratio]),
    ),
    '',
    `Local scheduler drift over ${section.drift.firings} firings (fire time minus due time): p50 ${section.drift.p50_ms} ms, p99 ${section.drift.p99_ms} ms, max ${section.drift.max_ms} ms.`,
  ].join('\n');
}
