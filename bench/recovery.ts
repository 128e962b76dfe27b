import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { makeScratchDirectory, removeScratchDirectory, sleep } from './environment.ts';
import { round, table } from './stats.ts';

/**
 * Recovery after a stop: 100 runs are stopped in the middle of a service call (their first action completed
 * and checkpointed), then the runtime starts again on the same data. Measured: start-up to listening with
 * those 100 unfinished runs against the same data with none (side by side), and from the restart to the first
 * resumed call, to every run's call being made again, and to every run completed.
 */

export const RECOVERY_RUNS = 100;

export interface RecoverySection {
  readonly runs: number;
  /** Restart (startLocalRuntime called) to listening, with the unfinished runs, and on the same data after they ended. */
  readonly restartWithRunsMs: number;
  readonly restartWithoutRunsMs: number;
  readonly restartRatio: number;
  readonly firstResumedCallMs: number;
  readonly allResumedCallsMs: number;
  readonly allCompletedMs: number;
  readonly lostRuns: number;
  readonly completedActionsCalledAgain: number;
}

export async function measureRecovery(): Promise<RecoverySection> {
  const dataDir = await makeScratchDirectory('recovery-');
  const arrivals: { path: string; key: string; at: number }[] = [];
  let hold = true;
  const services: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      arrivals.push({ path, key: String(request.headers['idempotency-key']), at: performance.now() });
      if (path === '/slow' && hold) return; // never answers: the stop cuts the call off
      response.setHeader('content-type', 'application/json');
      response.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => services.listen(0, '127.0.0.1', resolve));
  const serviceUrls = { SVC_URL: `http://127.0.0.1:${(services.address() as AddressInfo).port}` };
  const options = { port: 0, host: '127.0.0.1', dataDir, workflowsTableName: 'bench-recovery', region: 'us-east-1', serviceVersion: 'bench', serviceUrls, log: () => undefined };
  const call = async (runtime: LocalRuntime, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${runtime.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    return ((await response.json()) as { data: Record<string, unknown> }).data;
  };
  try {
    const first = await startLocalRuntime(options);
    const step = (id: string, endpoint: string, dependsOn: string[] = []) => ({ action_id: id, action_type: 'service_call', depends_on: dependsOn, config: { service: 'svc', endpoint, method: 'POST', parameters: {} } });
    const workflow = await call(first, 'POST', '/workflows', { name: 'recovery', actions: [step('before', '/before'), step('slow', '/slow', ['before']), step('after', '/after', ['slow'])] });
    const ids: string[] = [];
    for (let index = 0; index < RECOVERY_RUNS; index++) ids.push(String((await call(first, 'POST', `/workflows/${String(workflow.workflow_id)}/execute`, { parameters: {} })).execution_id));
    while (arrivals.filter((arrival) => arrival.path === '/slow').length < RECOVERY_RUNS) await sleep(10);
    await first.close();
    services.closeAllConnections();
    hold = false;
    const stoppedAt = arrivals.length;

    const restartStarted = performance.now();
    const second = await startLocalRuntime(options);
    const restartWithRunsMs = performance.now() - restartStarted;
    const resumedSlow = () => arrivals.slice(stoppedAt).filter((arrival) => arrival.path === '/slow');
    while (resumedSlow().length < RECOVERY_RUNS) await sleep(5);
    const firstResumedCallMs = Math.min(...resumedSlow().map((arrival) => arrival.at)) - restartStarted;
    const allResumedCallsMs = Math.max(...resumedSlow().map((arrival) => arrival.at)) - restartStarted;
    await second.engine.idle();
    const allCompletedMs = performance.now() - restartStarted;
    const statuses = await Promise.all(ids.map(async (id) => String((await call(second, 'GET', `/workflows/executions/${id}`)).status)));
    await second.close();

    const baselineStarted = performance.now();
    const third = await startLocalRuntime(options);
    const restartWithoutRunsMs = performance.now() - baselineStarted;
    await third.close();

    return {
      runs: RECOVERY_RUNS,
      restartWithRunsMs: round(restartWithRunsMs),
      restartWithoutRunsMs: round(restartWithoutRunsMs),
      restartRatio: round(restartWithRunsMs / restartWithoutRunsMs, 2),
      firstResumedCallMs: round(firstResumedCallMs),
      allResumedCallsMs: round(allResumedCallsMs),
      allCompletedMs: round(allCompletedMs),
      lostRuns: statuses.filter((status) => status !== 'completed').length,
      completedActionsCalledAgain: arrivals.slice(stoppedAt).filter((arrival) => arrival.path === '/before').length,
    };
  } finally {
    services.closeAllConnections();
    await new Promise<void>((resolve) => services.close(() => resolve()));
    await removeScratchDirectory(dataDir);
  }
}

export function renderRecoverySection(section: RecoverySection): string {
  return [
    `Recovery after a stop: ${section.runs} runs cut off inside a service call, then a restart on the same data`,
    table(
      ['measure', 'value'],
      [
        ['restart to listening, with the unfinished runs', `${section.restartWithRunsMs} ms`],
        ['restart to listening, same data, none unfinished', `${section.restartWithoutRunsMs} ms`],
        ['ratio', `${section.restartRatio}x`],
        ['restart to the first resumed call', `${section.firstResumedCallMs} ms`],
        [`restart to all ${section.runs} calls made again`, `${section.allResumedCallsMs} ms`],
        [`restart to all ${section.runs} runs completed`, `${section.allCompletedMs} ms`],
        ['runs lost', String(section.lostRuns)],
        ['completed actions called again', String(section.completedActionsCalledAgain)],
      ],
    ),
  ].join('\n');
}
