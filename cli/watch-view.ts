import type { ResponseOf } from '../client/index.ts';
import { formatDuration } from './output.ts';

export type Execution = ResponseOf<'getExecution'>;
type ActionProgress = Execution['actions'][number];

/** Where a watched run is shown as it changes. */
export interface WatchView {
  update(execution: Execution): void;
  /** Time passed with nothing new (redraws elapsed times, where that is possible). */
  tick(): void;
  /** The run ended or watching stopped: leave the last state on screen. */
  close(): void;
}

const FINAL_STATUSES: readonly string[] = ['completed', 'failed', 'cancelled', 'timed_out'];
export const isFinal = (execution: Execution): boolean => FINAL_STATUSES.includes(execution.status);

const SYMBOLS: Readonly<Record<string, string>> = { pending: '·', running: '▶', completed: '✔', failed: '✖', skipped: '↷', cancelled: '■', not_run: '○' };
const COLOURS: Readonly<Record<string, string>> = { running: '36', completed: '32', failed: '31', cancelled: '33', timed_out: '31', skipped: '90', not_run: '90', paused: '33' };

/** From `start` to `end`, or to now while it lasts; undefined before it starts. */
function elapsed(start: string | undefined, end: string | undefined, now: number): string | undefined {
  if (start === undefined) return undefined;
  return formatDuration((end === undefined ? now : Date.parse(end)) - Date.parse(start));
}

export function progressBar(percent: number, width = 24): string {
  const filled = Math.round((Math.min(100, Math.max(0, percent)) / 100) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/**
 * An error's cause as people read it: a service call's cause is a JSON document (status, response, the request
 * made) of which the message says what happened; anything else is shown as it is, cut short.
 */
export function causeText(cause: string): string {
  try {
    const parsed = JSON.parse(cause) as unknown;
    const message = (parsed as { message?: unknown } | null)?.message;
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: the cause is its own message.
  }
  return cause.length > 300 ? `${cause.slice(0, 299)}…` : cause;
}

function actionDetail(action: ActionProgress): string {
  if (action.error) return `${action.error.error}: ${causeText(action.error.cause)}`;
  if (action.reason) return action.reason;
  return action.attempts > 1 ? `attempt ${action.attempts}` : '';
}

/** The run's one-line summary: status, progress and how long it has taken. */
export function summaryLine(execution: Execution, now = Date.now()): string {
  const { completed, total, percent } = execution.progress;
  const took = elapsed(execution.started_at ?? execution.created_at, execution.ended_at, now);
  return `${execution.status.padEnd(9)} ${progressBar(percent)} ${completed}/${total} ${Math.round(percent)}%${took ? `  ${took}` : ''}`;
}

/**
 * A terminal's view: the run's header, progress bar and one line per action, redrawn in place (ANSI cursor
 * movement) as the run changes and as time passes, so running actions show their elapsed time. Cursor
 * movement cannot reach above the screen, so a run with more actions than the screen has rows shows those
 * running or failed first and counts the rest.
 */
export function createLiveView(write: (text: string) => void, size: () => { columns: number; rows: number }): WatchView {
  let drawn = 0;
  let latest: Execution | undefined;
  const colour = (status: string, text: string) => (COLOURS[status] ? `\x1b[${COLOURS[status]}m${text}\x1b[0m` : text);
  const draw = () => {
    if (!latest) return;
    const now = Date.now();
    const { columns, rows } = size();
    const width = Math.max(20, columns);
    const clip = (text: string) => ([...text].length > width ? `${[...text].slice(0, width - 1).join('')}…` : text);
    const shown = actionsThatFit(latest.actions, Math.max(1, rows - 3));
    const idWidth = Math.max(6, ...shown.map((action) => action.action_id.length));
    const hidden = latest.actions.length - shown.length;
    const lines = [
      clip(`run ${latest.execution_id}  workflow ${latest.workflow_id} v${latest.workflow_version}`),
      colour(latest.status, clip(summaryLine(latest, now))),
      ...shown.map((action) => {
        const took = elapsed(action.started_at, action.ended_at, now) ?? '';
        const text = clip(`  ${SYMBOLS[action.status] ?? '?'} ${action.action_id.padEnd(idWidth)}  ${action.status.padEnd(9)}  ${took.padStart(6)}  ${actionDetail(action)}`.trimEnd());
        return colour(action.status, text);
      }),
      ...(hidden > 0 ? [clip(`  … ${hidden} more actions`)] : []),
    ];
    // Back to the first line drawn last time, clear from there down, draw again.
    write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[J` : ''}${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  return {
    update: (execution) => {
      latest = execution;
      draw();
    },
    tick: () => {
      if (latest && !isFinal(latest)) draw();
    },
    // Every update was drawn as it came: the screen already shows the last state.
    close: () => undefined,
  };
}

/** At most `room` actions, in their order, those running or failed kept first when not all fit. */
function actionsThatFit(actions: readonly ActionProgress[], room: number): ActionProgress[] {
  if (actions.length <= room) return [...actions];
  const urgent = (action: ActionProgress) => action.status === 'running' || action.status === 'failed';
  const kept = new Set([...actions.filter(urgent), ...actions.filter((action) => !urgent(action))].slice(0, room - 1));
  return actions.filter((action) => kept.has(action));
}

/**
 * A pipe's or a log's view: a line when the run starts being watched, a line each time an action's status
 * changes (with its time and the run's progress) and one when the run's status changes. No ANSI codes.
 */
export function createPlainView(write: (text: string) => void): WatchView {
  const seen = new Map<string, string>();
  let runStatus: string | undefined;
  return {
    update: (execution) => {
      if (runStatus === undefined) write(`run ${execution.execution_id}: workflow ${execution.workflow_id} v${execution.workflow_version}, ${execution.actions.length} actions\n`);
      const now = Date.now();
      const { completed, total, percent } = execution.progress;
      for (const action of execution.actions) {
        if (seen.get(action.action_id) === action.status) continue;
        seen.set(action.action_id, action.status);
        // Pending is where every action starts: only a change from there is news.
        if (action.status === 'pending') continue;
        const took = action.ended_at ? elapsed(action.started_at, action.ended_at, now) : undefined;
        const detail = actionDetail(action);
        write(`${action.action_id}: ${action.status}${took ? ` in ${took}` : ''}${detail ? ` (${detail})` : ''}  [${completed}/${total} ${Math.round(percent)}%]\n`);
      }
      if (execution.status !== runStatus) {
        runStatus = execution.status;
        write(`run ${summaryLine(execution, now)}\n`);
      }
    },
    tick: () => undefined,
    close: () => undefined,
  };
}

/** Nothing while the run goes on (--output json prints the final state only). */
export const silentView: WatchView = { update: () => undefined, tick: () => undefined, close: () => undefined };

/** Why a run did not complete: the failing action, its error and cause, or the run's own status. */
export function failureOf(execution: Execution): string {
  const failedAction = execution.actions.find((action) => action.action_id === execution.error?.action_id) ?? execution.actions.find((action) => action.status === 'failed');
  // The action's own error says what went wrong; the run's wraps it (ActionFailed: action x failed: ...).
  const error = failedAction?.error ?? execution.error;
  const where = failedAction ? ` at action '${failedAction.action_id}'` : execution.error?.action_id ? ` at action '${execution.error.action_id}'` : '';
  return `run ${execution.execution_id} ${execution.status.replace('_', ' ')}${where}${error ? `: ${error.error}: ${causeText(error.cause)}` : ''}`;
}
