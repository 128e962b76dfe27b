import * as z from 'zod';

/**
 * EventBridge Scheduler schedule expressions (`cron(...)`, `rate(...)`, `at(...)`): parsing with problems that
 * name the rule, and the next fire times, computed the way EventBridge Scheduler fires them. Evaluation uses
 * croner; every "now" is a parameter.
 */

/** The six fields of a `cron(...)` expression as written. */
export interface CronFields { minutes: string; hours: string; dayOfMonth: string; month: string; dayOfWeek: string; year: string }

/** A parsed schedule expression. `text` is the expression exactly as given. */
export type ScheduleExpression =
  /** `pattern` is the equivalent 7-part croner pattern (seconds first, day-of-week 0 = SUN), used with `domAndDow`. */
  | { kind: 'cron'; text: string; fields: CronFields; pattern: string }
  | { kind: 'rate'; text: string; value: number; unit: 'minutes' | 'hours' | 'days'; everyMs: number }
  /** `localDateTime` is `yyyy-mm-ddThh:mm:ss`, a wall-clock time in the schedule's time zone. */
  | { kind: 'at'; text: string; localDateTime: string };

/** One thing wrong with an expression or a time zone; `field` is the caller's field name. */
export interface ExpressionProblem { field: string; message: string }

interface FieldSpec { name: string; min: number; max: number; names?: readonly string[]; step: boolean; offset?: number; hint?: string }
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] as const;
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
const FIELDS: readonly FieldSpec[] = [
  { name: 'minutes', min: 0, max: 59, step: true },
  { name: 'hours', min: 0, max: 23, step: true },
  { name: 'day-of-month', min: 1, max: 31, step: true },
  { name: 'month', min: 1, max: 12, names: MONTHS, step: true },
  // EventBridge numbers days 1 = SUN ... 7 = SAT; croner 0 = SUN ... 6 = SAT, hence the offset of -1.
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, step: false, offset: -1, hint: ' (1 = SUN)' },
  { name: 'year', min: 1970, max: 2199, step: true },
];
const FIELD_LIST = 'minutes hours day-of-month month day-of-week year';

/** Reads one value (a number or, where the field has them, a name) and checks its range; returns a problem text or the value. */
function readValue(spec: FieldSpec, text: string): number | string {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  const value = named >= 0 ? named + 1 : /^\d+$/.test(text) ? Number(text) : NaN;
  if (Number.isNaN(value)) return `${spec.name} value ${JSON.stringify(text)} is not a number${spec.names ? ` or a name ${spec.names[0]}-${spec.names.at(-1)}` : ''}`;
  if (value < spec.min || value > spec.max) return `${spec.name} ${text} is out of range ${spec.min}-${spec.max}${spec.hint ?? ''}`;
  return value;
}

/** Records a problem; returns '' so that translators can `return fail(...)`. */
function fail(problems: string[], message: string): string {
  problems.push(message);
  return '';
}

/** Translates one comma-separated item (`*`, `n`, `a-b`, with an optional `/step`) to croner syntax. */
function translateItem(spec: FieldSpec, item: string, problems: string[]): string {
  const shift = (value: number) => String(value + (spec.offset ?? 0));
  const special = spec.name === 'day-of-month' ? /^(L|LW|\d+W)$/i : spec.name === 'day-of-week' ? /^(L|\w+L|\w+#\d+)$/i : /#|^\d*[LW]$/i;
  if (special.test(item)) {
    if (spec.name === 'day-of-month') return fail(problems, 'day-of-month L, LW and nW must stand alone, not in a list');
    if (spec.name === 'day-of-week') return fail(problems, 'day-of-week L, nL and n#k must stand alone, not in a list');
    return fail(problems, `${spec.name} does not allow L, W or #`);
  }
  const [range = '', step, extra] = item.split('/');
  if (extra !== undefined || step === '' || range === '') return fail(problems, `${spec.name} item ${JSON.stringify(item)} is malformed`);
  let stepText = '';
  if (step !== undefined) {
    if (!spec.step) return fail(problems, `${spec.name} does not allow / (increments)`);
    const span = spec.max - spec.min + 1;
    if (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > span) return fail(problems, `${spec.name} increment ${JSON.stringify(step)} must be an integer from 1 to ${span}`);
    stepText = `/${Number(step)}`;
  }
  if (range === '*') return step === undefined ? '*' : `${shift(spec.min)}-${shift(spec.max)}${stepText}`;
  const bounds = range.split('-');
  if (bounds.length > 2) return fail(problems, `${spec.name} item ${JSON.stringify(item)} is malformed`);
  const values = bounds.map((bound) => readValue(spec, bound));
  const texts = values.filter((value): value is string => typeof value === 'string');
  if (texts.length > 0) return texts.map((text) => fail(problems, text)).join('');
  const [low, high] = values as [number, number | undefined];
  if (high === undefined) return step === undefined ? shift(low) : `${shift(low)}-${shift(spec.max)}${stepText}`; // a/s runs from a to the end
  if (low > high) return fail(problems, `${spec.name} range ${range} must go from low to high`);
  return `${shift(low)}-${shift(high)}${stepText}`;
}

/** Translates a whole field; `L`, `LW`, `nW` (day-of-month) and `L`, `nL`, `n#k` (day-of-week) stand alone, as in Quartz. */
function translateField(spec: FieldSpec, text: string, problems: string[]): string {
  if (text === '?') return '*'; // where ? may stand and the pair rule are checked by the caller
  const upper = text.toUpperCase();
  if (spec.name === 'day-of-month') {
    if (upper === 'L' || upper === 'LW') return upper;
    const weekday = /^(\d+)W$/.exec(upper);
    if (weekday) {
      const day = readValue(spec, weekday[1]!);
      return typeof day === 'string' ? fail(problems, day) : `${day}W`;
    }
  }
  if (spec.name === 'day-of-week') {
    if (upper === 'L') return '6'; // L alone is the last day of the week, Saturday
    const special = /^(\w+?)(L|#(\d+))$/.exec(upper);
    if (special) {
      const day = readValue(spec, special[1]!);
      if (typeof day === 'string') return fail(problems, day);
      if (special[2] === 'L') return `${day - 1}#L`;
      const nth = Number(special[3]);
      if (nth < 1 || nth > 5) return fail(problems, `day-of-week ${text}: the occurrence after # must be 1-5`);
      return `${day - 1}#${nth}`;
    }
  }
  return text.split(',').map((item) => translateItem(spec, item, problems)).join(',');
}

function parseCron(text: string, body: string, field: string): { expression: ScheduleExpression } | { problems: ExpressionProblem[] } {
  const parts = body.trim() === '' ? [] : body.trim().split(/\s+/);
  if (parts.length !== 6) return { problems: [{ field, message: `cron(...) needs 6 fields (${FIELD_LIST}), got ${parts.length}` }] };
  const messages: string[] = [];
  parts.forEach((part, index) => {
    if (part === '?' && index !== 2 && index !== 4) messages.push(`${FIELDS[index]!.name} does not allow ? (only day-of-month and day-of-week do)`);
  });
  const translated = parts.map((part, index) => translateField(FIELDS[index]!, part, messages));
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts as [string, string, string, string, string, string];
  if (dayOfMonth !== '?' && dayOfWeek !== '?') messages.push('one of day-of-month and day-of-week must be ? (they cannot both be set)');
  if (dayOfMonth === '?' && dayOfWeek === '?') messages.push('only one of day-of-month and day-of-week can be ?; use * in the other');
  if (messages.length > 0) return { problems: messages.map((message) => ({ field, message })) };
  // croner reads the pattern only when times are asked for (fire-times.ts), so that parsing, which every
  // function's configuration does, does not load it; its own check is cronProblem there.
  const pattern = `0 ${translated.join(' ')}`;
  return { expression: { kind: 'cron', text, fields: { minutes, hours, dayOfMonth, month, dayOfWeek, year }, pattern } };
}

const UNIT_MS = { minutes: 60_000, hours: 3_600_000, days: 86_400_000 } as const;

function parseRate(text: string, body: string, field: string): { expression: ScheduleExpression } | { problems: ExpressionProblem[] } {
  const parts = body.trim() === '' ? [] : body.trim().split(/\s+/);
  const refuse = (message: string) => ({ problems: [{ field, message }] });
  if (parts.length !== 2) return refuse(`rate(...) needs a value and a unit, as in rate(5 minutes), got ${JSON.stringify(body)}`);
  const [valueText, unitText] = parts as [string, string];
  if (!/^\d+$/.test(valueText) || Number(valueText) < 1) return refuse(`rate value must be a positive integer, got ${valueText}`);
  const value = Number(valueText);
  const unit = /^(minute|hour|day)s?$/.exec(unitText) ? ((unitText.endsWith('s') ? unitText : `${unitText}s`) as keyof typeof UNIT_MS) : undefined;
  if (!unit) return refuse(`rate unit must be minute(s), hour(s) or day(s), got ${JSON.stringify(unitText)}`);
  if (value === 1 && unitText.endsWith('s')) return refuse(`rate(1 ...) takes the singular unit, as in rate(1 ${unit.slice(0, -1)})`);
  if (value !== 1 && !unitText.endsWith('s')) return refuse(`rate with a value other than 1 takes the plural unit, as in rate(${value} ${unit})`);
  const everyMs = value * UNIT_MS[unit];
  if (!Number.isSafeInteger(everyMs)) return refuse(`rate value ${value} is too large`);
  return { expression: { kind: 'rate', text, value, unit, everyMs } };
}

function parseAt(text: string, body: string, field: string): { expression: ScheduleExpression } | { problems: ExpressionProblem[] } {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  if (!match) return { problems: [{ field, message: `at(...) needs a date-time yyyy-mm-ddThh:mm:ss, got ${JSON.stringify(body)}` }] };
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  if (year < 1970 || year > 2199) return { problems: [{ field, message: `at(...) year ${year} is out of range 1970-2199` }] };
  const probe = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day || probe.getUTCHours() !== hour || probe.getUTCMinutes() !== minute || probe.getUTCSeconds() !== second || hour > 23) {
    return { problems: [{ field, message: `at(...) date-time ${body} does not exist (month 01-12, a day of that month, hh 00-23, mm and ss 00-59)` }] };
  }
  return { expression: { kind: 'at', text, localDateTime: body } };
}

/**
 * Parses and checks an EventBridge Scheduler expression: `cron(minutes hours day-of-month month day-of-week year)`,
 * `rate(value unit)` or `at(yyyy-mm-ddThh:mm:ss)`. Every problem names the cron field or rule, e.g.
 * "day-of-week 9 is out of range 1-7 (1 = SUN)" or "one of day-of-month and day-of-week must be ? (...)".
 * Names (JAN-DEC, SUN-SAT) are read case-insensitively; `L`, `LW`, `nW`, `nL` and `n#k` must stand alone in their field.
 * @param field the caller's name for the expression, reported in every problem (default `expression`)
 */
export function parseScheduleExpression(text: string, field = 'expression'): { expression: ScheduleExpression } | { problems: ExpressionProblem[] } {
  const match = /^(cron|rate|at)\((.*)\)$/s.exec(text);
  if (!match) {
    const shown = text.length > 60 ? `${text.slice(0, 60)}...` : text;
    return { problems: [{ field, message: `expression must be cron(...), rate(...) or at(...), got ${JSON.stringify(shown)}` }] };
  }
  const [, kind, body = ''] = match;
  return kind === 'cron' ? parseCron(text, body, field) : kind === 'rate' ? parseRate(text, body, field) : parseAt(text, body, field);
}

/**
 * Checks an IANA time zone name with `Intl.DateTimeFormat` (no Node APIs). Offsets such as `+01:00` are refused,
 * and names are case-sensitive (`europe/berlin` is refused with the right spelling in the message).
 */
export function timeZoneProblem(timezone: string, field = 'timezone'): ExpressionProblem | undefined {
  // Intl accepts UTC offsets such as +01:00 as time zones since ES2024; EventBridge Scheduler wants IANA names.
  if (/^[+-]\d/.test(timezone)) return { field, message: `time zone ${JSON.stringify(timezone)} must be an IANA time zone name (e.g. Europe/Berlin), not a UTC offset` };
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    return { field, message: `time zone ${JSON.stringify(timezone)} is not a known IANA time zone (e.g. Europe/Berlin, UTC)` };
  }
  if (resolved !== timezone && resolved.toLowerCase() === timezone.toLowerCase()) return { field, message: `time zone names are case-sensitive: use ${resolved}` };
  return undefined;
}

/** A zod string schema that accepts a valid schedule expression and adds one issue per problem. */
export const ScheduleExpressionText = z.string().superRefine((text, context) => {
  const parsed = parseScheduleExpression(text);
  if ('problems' in parsed) for (const problem of parsed.problems) context.addIssue({ code: 'custom', message: problem.message });
});

/** A zod string schema for an IANA time zone name. */
export const TimeZoneText = z.string().superRefine((timezone, context) => {
  const problem = timeZoneProblem(timezone);
  if (problem) context.addIssue({ code: 'custom', message: problem.message });
});
