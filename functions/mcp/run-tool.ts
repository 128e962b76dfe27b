import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ResourceLink, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Log } from '../../core/ports.ts';
import { AccessError, type OrchestratorAccess, type RunDocument } from './access.ts';
import { followRun } from './follow-run.ts';
import { executionUri } from './resources.ts';

const MAX_TIMER_MS = 2 ** 31 - 1;

export type RequestExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface RunToolSettings {
  /** How long a call waits for its run before answering that it still runs (the run goes on); Infinity: until it ends. */
  readonly waitForRunMs: number;
  readonly pollIntervalMs: number;
  readonly safetyPollMs: number;
  /** An explicit `notifications/cancelled` of the call cancels its run (a lost connection or a client's timeout never does). */
  readonly cancelRunOnCancel: boolean;
  readonly log?: Log;
}

/**
 * tools/call of a workflow tool: starts a run with the arguments as its parameters, reports its progress while
 * it runs (when the request carries a progressToken), and answers its output, or a tool error naming the
 * failing action and cause. `connected` tells a cancelled request from a closed connection (see cancellation).
 */
export async function callWorkflowTool(access: OrchestratorAccess, call: { readonly tool: string; readonly workflowId: string; readonly args: Readonly<Record<string, unknown>> }, extra: RequestExtra, settings: RunToolSettings, connected: () => boolean): Promise<CallToolResult> {
  let started: RunDocument;
  try {
    started = await access.startRun(call.workflowId, call.args, extra.signal);
  } catch (error) {
    return startRefused(call.tool, error);
  }
  const stop = new AbortController();
  const cancellation = () => {
    stop.abort();
    // Only a decision to stop the work cancels the run. The SDK aborts a request's signal for its
    // `notifications/cancelled` and also when the connection closes (an agent quit, a dropped HTTP stream);
    // then it clears the server's transport in the same synchronous step, so a microtask later tells the two
    // apart. A client whose own timeout ran out says so in the reason (the SDK's: "Request timed out"): it
    // stopped waiting, nothing more. In both cases the run goes on and stays readable as a resource.
    const reason: unknown = extra.signal.reason;
    const timedOut = typeof reason === 'string' && /timed? ?out/i.test(reason);
    queueMicrotask(() => {
      if (!settings.cancelRunOnCancel || timedOut || !connected()) return;
      access.cancelRun(started.execution_id).then(
        () => settings.log?.({ message: 'MCP tool call cancelled: run cancelled', execution_id: started.execution_id }),
        (error: unknown) => {
          // A run that ended meanwhile cannot be cancelled, and need not be.
          if (!(error instanceof AccessError && error.kind === 'conflict')) settings.log?.({ level: 'warn', message: 'MCP tool call cancelled: the run could not be cancelled', execution_id: started.execution_id, error: String(error) });
        },
      );
    });
  };
  if (extra.signal.aborted) cancellation();
  else extra.signal.addEventListener('abort', cancellation, { once: true });
  // Node fires a timer of more than 2^31 - 1 ms at once: such a wait is as good as no limit.
  const timer = settings.waitForRunMs <= MAX_TIMER_MS ? setTimeout(() => stop.abort(), settings.waitForRunMs) : undefined;
  try {
    const final = await followRun(access, started, { signal: stop.signal, pollIntervalMs: settings.pollIntervalMs, safetyPollMs: settings.safetyPollMs, onChange: progressReporter(extra, settings.safetyPollMs) });
    return outcome(call.tool, final, settings.waitForRunMs);
  } catch (error) {
    if (!(error instanceof AccessError)) throw error;
    return toolError(`Could not follow run ${started.execution_id} of ${call.tool} (${error.message}); it may still be running: read ${executionUri(started.execution_id)}`, started);
  } finally {
    clearTimeout(timer);
    extra.signal.removeEventListener('abort', cancellation);
  }
}

/**
 * Progress notifications: progress is the run's completed actions, total its actions, message what runs. MCP
 * wants progress to increase with each notification, so one is sent per new count of completed actions. A
 * count first seen while no action runs (one ended, the next not yet started) is held back until something
 * runs, so that the message names it, or until `patienceMs` passed (a run waiting on something else).
 */
function progressReporter(extra: RequestExtra, patienceMs: number): (run: RunDocument) => void {
  const token = extra._meta?.progressToken;
  let sent: number | undefined;
  let waiting: { readonly completed: number; readonly since: number } | undefined;
  return (run) => {
    if (token === undefined) return;
    const { completed, total } = run.progress;
    if (sent !== undefined && completed <= sent) return;
    const telling = run.actions.some((action) => action.status === 'running') || (run.status !== 'pending' && run.status !== 'running') || completed === total;
    if (!telling) {
      if (waiting?.completed !== completed) waiting = { completed, since: Date.now() };
      if (Date.now() - waiting.since < patienceMs) return;
    }
    sent = completed;
    waiting = undefined;
    // A notification that cannot be sent (the connection went) is no reason to stop following the run.
    extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: completed, total, message: progressMessage(run) } }).catch(() => undefined);
  };
}

/** `running: fetch, analyze`; `failed at charge`; or the run's status when no action runs. */
export function progressMessage(run: Pick<RunDocument, 'status' | 'actions' | 'error' | 'progress'>): string {
  if (run.status === 'failed' && run.error?.action_id) return `failed at ${run.error.action_id}`;
  const running = run.actions.filter((action) => action.status === 'running').map((action) => action.action_id);
  if (running.length > 0 && run.status === 'running') return `running: ${running.join(', ')}`;
  // Every action ended, the run not yet: its end is being recorded.
  return run.status === 'running' && run.progress.completed === run.progress.total ? 'finishing' : run.status;
}

function outcome(tool: string, run: RunDocument, waitedMs: number): CallToolResult {
  const link = runLink(run);
  if (run.status === 'completed') {
    const result = { execution_id: run.execution_id, status: run.status, output: run.output ?? null };
    return { content: [{ type: 'text', text: JSON.stringify(result) }, link], structuredContent: result };
  }
  if (run.status === 'failed' || run.status === 'timed_out' || run.status === 'cancelled') return toolError(failureText(tool, run), run);
  // Still pending, running or paused: the wait is over, not the run.
  const result = { execution_id: run.execution_id, status: run.status, progress: run.progress };
  const waited = waitedMs <= MAX_TIMER_MS ? ` after ${Math.round(waitedMs / 1000)} s` : '';
  return {
    content: [{ type: 'text', text: `Run ${run.execution_id} of ${tool} is still ${run.status} (${run.progress.completed}/${run.progress.total} actions done)${waited}; it goes on: read ${executionUri(run.execution_id)} for its outcome.\n${JSON.stringify(result)}` }, link],
    structuredContent: result,
  };
}

/** `Run <id> of workflow.pay failed at action 'charge': ServiceUnavailableError: payments answered 500 ...`. */
function failureText(tool: string, run: RunDocument): string {
  const actionId = run.error?.action_id ?? run.actions.find((action) => action.status === 'failed' && action.error)?.action_id;
  // The action's own error says what its call met (the run's wraps it in `ActionFailed`, with the whole request).
  const error = run.actions.find((action) => action.action_id === actionId)?.error ?? run.error;
  const how = run.status === 'timed_out' ? 'timed out' : run.status === 'cancelled' ? 'was cancelled' : 'failed';
  return `Run ${run.execution_id} of ${tool} ${how}${actionId ? ` at action '${actionId}'` : ''}${error ? `: ${error.error}: ${causeText(error.cause)}` : ''}`;
}

/**
 * An error's cause as people read it: a service call's cause is a JSON document (status, response, the request)
 * whose `message` says what happened; anything else is shown as it is, cut short.
 */
export function causeText(cause: string): string {
  try {
    const message = (JSON.parse(cause) as { message?: unknown } | null)?.message;
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: the cause is its own message.
  }
  return cause.length > 500 ? `${cause.slice(0, 499)}…` : cause;
}

function toolError(text: string, run?: RunDocument): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text }, ...(run ? [runLink(run)] : [])],
    ...(run ? { structuredContent: { execution_id: run.execution_id, status: run.status, ...(run.error ? { error: run.error } : {}) } } : {}),
  };
}

/** The API's refusal of a start, as a tool error the agent can act on: each bad argument by its name. */
function startRefused(tool: string, error: unknown): CallToolResult {
  if (!(error instanceof AccessError)) throw error;
  if (error.kind === 'invalid' && error.details.length > 0) {
    const problems = error.details.map((detail) => `${detail.field.replace(/^parameters\./, '')}: ${detail.message}`);
    return toolError(`Invalid arguments for ${tool}:\n${problems.map((problem) => `- ${problem}`).join('\n')}`);
  }
  return toolError(`${tool} could not start a run: ${error.message}`);
}

function runLink(run: RunDocument): ResourceLink {
  return { type: 'resource_link', uri: executionUri(run.execution_id), name: `run ${run.execution_id}`, mimeType: 'application/json', description: `The run (${run.status}): status, progress, each action's output or error` };
}
