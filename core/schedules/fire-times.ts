import { Cron } from 'croner';
import type { ExpressionProblem, ScheduleExpression } from './expression.ts';

/**
 * When a schedule fires: its expression evaluated with croner (kept apart from parsing, so that what only parses
 * expressions, as every function's configuration does, does not load croner).
 */

/** Whether croner accepts a parsed cron's pattern (the parser's own checks come first); undefined when it does. */
export function cronProblem(expression: ScheduleExpression, field = 'expression'): ExpressionProblem | undefined {
  if (expression.kind !== 'cron') return undefined;
  try {
    new Cron(expression.pattern, { mode: '7-part', domAndDow: true });
    return undefined;
  } catch (error) {
    return { field, message: `cron(...) is not valid: ${(error as Error).message}` };
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** The time zone's UTC offset in ms at an instant (wall clock minus UTC). */
function offsetAt(timezone: string, ms: number): number {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timezone, format);
  }
  const part: Record<string, number> = {};
  for (const { type, value } of format.formatToParts(new Date(ms))) part[type] = Number(value);
  return Date.UTC(part.year!, part.month! - 1, part.day!, part.hour!, part.minute!, part.second!) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant of a wall-clock time in a time zone. A time repeated by a fall-back is its first occurrence; a time
 * skipped by a spring-forward is moved forward by the gap (02:30 in a 02:00-03:00 gap becomes 03:30), as
 * `Temporal`'s `compatible` disambiguation does.
 */
function localToInstant(localDateTime: string, timezone: string): number {
  const wall = Date.parse(`${localDateTime}Z`);
  const before = offsetAt(timezone, wall - 86_400_000);
  const after = offsetAt(timezone, wall + 86_400_000);
  const valid = [wall - before, wall - after].filter((ms) => wall - offsetAt(timezone, ms) === ms).sort((a, b) => a - b);
  return valid[0] ?? wall - before;
}

/** True when the wall-clock time of `ms` already occurred earlier (the second pass through a fall-back hour). */
function isRepeatedWallTime(timezone: string, ms: number): boolean {
  const now = offsetAt(timezone, ms);
  const earlier = offsetAt(timezone, ms - 3 * 3_600_000);
  if (earlier <= now) return false;
  const first = ms - (earlier - now);
  return offsetAt(timezone, first) === earlier;
}

function instant(name: string, value: string): number {
  const ms = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new RangeError(`${name} must be an ISO 8601 date-time with Z or an offset, got ${JSON.stringify(value)}`);
  return ms;
}

/**
 * The next `count` fire times strictly after `after`, as UTC ISO strings with milliseconds, and before `until`
 * (exclusive, like EventBridge Scheduler's EndDate). Instants (`after`, `until`, `anchor`) need `Z` or an offset.
 *
 * - cron and at are evaluated in `timezone` (IANA, default UTC). Following EventBridge Scheduler's documented DST
 *   rules: a time that a spring-forward skips does not fire that day, and a time that a fall-back repeats fires once,
 *   at its first occurrence. croner itself differs (a single-time job such as 02:30 fires at 03:00 after the gap, and
 *   a job with lists, ranges or steps in minutes or hours fires on both passes of a repeated hour), so its runs are
 *   filtered: a run whose wall clock does not match the pattern, or that repeats an earlier wall-clock time, is dropped.
 * - rate fires at `anchor + k * every` for k >= 1, independent of time zone (days are 24 hours). `anchor` is the
 *   schedule's creation time; without it, `after` is used (a preview of a schedule created now).
 * - at fires at most once; a wall-clock time skipped by a spring-forward fires after the gap (see localToInstant).
 * A cron that never fires (30 February, years past) gives []. Check `timezone` with {@link timeZoneProblem} first:
 * an unknown zone throws, as do instants without an offset and a negative or fractional `count`.
 */
export function nextFireTimes(
  expression: ScheduleExpression,
  options: { after: string; timezone?: string; anchor?: string; count: number; until?: string },
): string[] {
  const after = instant('after', options.after);
  const until = options.until === undefined ? Infinity : instant('until', options.until);
  const timezone = options.timezone ?? 'UTC';
  const { count } = options;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const times: number[] = [];
  if (expression.kind === 'rate') {
    const anchor = options.anchor === undefined ? after : instant('anchor', options.anchor);
    let k = Math.max(1, Math.floor((after - anchor) / expression.everyMs) + 1);
    while (anchor + k * expression.everyMs <= after) k += 1;
    for (let time = anchor + k * expression.everyMs; times.length < count && time < until; time += expression.everyMs) times.push(time);
  } else if (expression.kind === 'at') {
    const time = localToInstant(expression.localDateTime, timezone);
    if (count > 0 && time > after && time < until) times.push(time);
  } else {
    const cron = new Cron(expression.pattern, { mode: '7-part', domAndDow: true, timezone });
    let cursor = new Date(after);
    while (times.length < count) {
      const next = cron.nextRun(cursor);
      if (!next || next.getTime() >= until) break;
      cursor = next;
      if (cron.match(next) && !isRepeatedWallTime(timezone, next.getTime())) times.push(next.getTime());
    }
  }
  return times.map((time) => new Date(time).toISOString());
}

