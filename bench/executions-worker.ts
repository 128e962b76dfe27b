/**
 * The world outside the orchestrator for the executions section (bench/executions.ts), on a worker thread
 * so that it does not share the engine's event loop: a loopback service that answers JSON after a fixed
 * delay and records when each call arrived and finished, and client loops that execute a workflow over HTTP
 * and poll its status until the run ends, as a user would. Times are epoch milliseconds with sub-millisecond
 * resolution (`performance.timeOrigin + performance.now()`), comparable with the main thread's.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parentPort } from 'node:worker_threads';

/** One request the service answered. */
export interface ServiceCall {
  /** From the action runner's `x-workflow-execution-id` header. */
  readonly executionId: string;
  /** From `x-request-id` (`<execution>:<action>`). */
  readonly actionId: string;
  readonly arrivedAt: number;
  readonly finishedAt: number;
}

/** Load for the client loops: `clients` loops, each executing the workflow and waiting until the run ends. */
export interface ClientLoad {
  readonly apiUrl: string;
  readonly workflowId: string;
  readonly parameters: Record<string, unknown>;
  readonly clients: number;
  /** Runs per client; or, without it, every client starts runs until `durationMs` has passed. */
  readonly runsPerClient?: number;
  readonly durationMs?: number;
  /** Client i starts i/clients of this late, so that the clients' runs do not move in lockstep. */
  readonly rampMs?: number;
  /** Pause before each status request. */
  readonly pollMs: number;
  /** A run not ended by then is reported as an error. */
  readonly runTimeoutMs: number;
}

export interface ActionSummary {
  readonly action_id: string;
  readonly status: string;
  readonly attempts: number;
}

/** One run as the client saw it, with the timestamps the store recorded. */
export interface ClientRun {
  readonly client: number;
  /** Just before POST /workflows/{id}/execute was sent. */
  readonly requestedAt: number;
  /** When the 202 was read. */
  readonly acceptedAt?: number;
  /** When the status request that first showed a final status was read. */
  readonly observedEndAt?: number;
  readonly executionId?: string;
  readonly status?: string;
  readonly polls: number;
  readonly createdAt?: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly actions?: readonly ActionSummary[];
  /** Why the run does not count: an HTTP error, a timeout, a final status other than completed. */
  readonly error?: string;
}

export interface ClientLoadResult {
  readonly startedAt: number;
  readonly runs: readonly ClientRun[];
  /** Event-loop utilization of this thread during the load: near 1 would mean the clients limit the figures. */
  readonly clientThreadBusy: number;
}

export type WorkerRequest =
  | { readonly id: number; readonly op: 'load'; readonly load: ClientLoad }
  | { readonly id: number; readonly op: 'takeCalls' }
  | { readonly id: number; readonly op: 'close' };

export type WorkerMessage =
  | { readonly op: 'ready'; readonly servicesUrl: string }
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: string };

/** `/work/<milliseconds>`: the service answers after that long. */
const WORK_PATH = /^\/work\/(\d+)(?:[/?]|$)/;
const ACTIVE_STATUSES = new Set(['pending', 'running']);

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

let calls: ServiceCall[] = [];

function handleServiceRequest(request: IncomingMessage, response: ServerResponse): void {
  const arrivedAt = now();
  const delay = Number(WORK_PATH.exec(request.url ?? '')?.[1] ?? 0);
  const requestId = String(request.headers['x-request-id'] ?? '');
  const executionId = String(request.headers['x-workflow-execution-id'] ?? '');
  response.once('finish', () => calls.push({ executionId, actionId: requestId.slice(requestId.indexOf(':') + 1), arrivedAt, finishedAt: now() }));
  request.resume();
  request.once('end', () => {
    setTimeout(() => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ ok: true, n: calls.length, waited_ms: delay }));
    }, delay);
  });
}

async function startService(): Promise<Server> {
  const server = createServer(handleServiceRequest);
  // Longer than any pause in the section: the runner's pooled connections are never closed under it.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

interface Envelope {
  readonly message?: string;
  readonly data?: Record<string, unknown>;
}

async function api(url: string, init: RequestInit = {}): Promise<{ status: number; envelope: Envelope }> {
  const response = await fetch(url, { ...init, headers: { 'x-user-id': 'bench', ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  return { status: response.status, envelope: (await response.json()) as Envelope };
}

/** execute, then poll GET /workflows/executions/{id} every `pollMs` until the run is no longer pending or running. */
async function oneRun(load: ClientLoad, client: number): Promise<ClientRun> {
  const requestedAt = now();
  const started = await api(`${load.apiUrl}/workflows/${load.workflowId}/execute`, { method: 'POST', body: JSON.stringify({ parameters: load.parameters }) });
  const acceptedAt = now();
  const executionId = started.envelope.data?.execution_id;
  if (started.status !== 202 || typeof executionId !== 'string') {
    return { client, requestedAt, acceptedAt, polls: 0, error: `execute answered ${started.status}: ${started.envelope.message ?? JSON.stringify(started.envelope).slice(0, 300)}` };
  }
  let polls = 0;
  for (;;) {
    await sleep(load.pollMs);
    const reply = await api(`${load.apiUrl}/workflows/executions/${executionId}`);
    polls++;
    const data = reply.envelope.data;
    if (reply.status !== 200 || !data) return { client, requestedAt, acceptedAt, executionId, polls, error: `status request answered ${reply.status}: ${reply.envelope.message ?? ''}` };
    const status = String(data.status);
    if (!ACTIVE_STATUSES.has(status)) {
      const observedEndAt = now();
      const actions = ((data.actions ?? []) as ActionSummary[]).map(({ action_id, status: actionStatus, attempts }) => ({ action_id, status: actionStatus, attempts }));
      const run: ClientRun = {
        client,
        requestedAt,
        acceptedAt,
        observedEndAt,
        executionId,
        status,
        polls,
        createdAt: data.created_at as string | undefined,
        startedAt: data.started_at as string | undefined,
        endedAt: data.ended_at as string | undefined,
        actions,
      };
      return status === 'completed' ? run : { ...run, error: `ended ${status}: ${JSON.stringify(data.error ?? null).slice(0, 300)}` };
    }
    if (now() - requestedAt > load.runTimeoutMs) return { client, requestedAt, acceptedAt, executionId, polls, status, error: `still ${status} after ${load.runTimeoutMs} ms` };
  }
}

/** Every client loop runs until its count or the duration is reached; the first failed run stops them all. */
async function runLoad(load: ClientLoad): Promise<ClientLoadResult> {
  const busy = performance.eventLoopUtilization();
  const startedAt = now();
  const until = startedAt + (load.durationMs ?? Number.POSITIVE_INFINITY);
  const runs: ClientRun[] = [];
  let failed = false;
  const loop = async (client: number) => {
    await sleep(((load.rampMs ?? 0) * client) / load.clients);
    for (let count = 0; !failed && (load.runsPerClient === undefined ? now() < until : count < load.runsPerClient); count++) {
      const run = await oneRun(load, client).catch((error: unknown): ClientRun => ({ client, requestedAt: now(), polls: 0, error: `request failed: ${String(error)}` }));
      runs.push(run);
      if (run.error) failed = true;
    }
  };
  await Promise.all(Array.from({ length: load.clients }, (_, client) => loop(client)));
  return { startedAt, runs, clientThreadBusy: performance.eventLoopUtilization(busy).utilization };
}

if (parentPort) {
  const port = parentPort;
  const server = await startService();
  port.on('message', (request: WorkerRequest) => {
    const answer = async (): Promise<unknown> => {
      switch (request.op) {
        case 'load':
          return runLoad(request.load);
        case 'takeCalls': {
          const taken = calls;
          calls = [];
          return taken;
        }
        case 'close':
          // The main thread terminates the worker once this answers.
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          return undefined;
      }
    };
    answer().then(
      (result) => port.postMessage({ id: request.id, result } satisfies WorkerMessage),
      (error: unknown) => port.postMessage({ id: request.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies WorkerMessage),
    );
  });
  port.postMessage({ op: 'ready', servicesUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` } satisfies WorkerMessage);
}
