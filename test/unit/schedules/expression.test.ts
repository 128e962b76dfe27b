import { describe, it, expect } from 'vitest';
import { cronProblem, nextFireTimes } from '../../../core/schedules/fire-times.ts';
import {
  parseScheduleExpression,
  ScheduleExpressionText,
  timeZoneProblem,
  TimeZoneText,
  type ScheduleExpression,
} from '../../../core/schedules/expression.ts';

/** EventBridge Scheduler expressions of core/schedules/expression.ts and fire-times.ts, checked against known calendars (2027 begins on a Friday). */

function parsed(text: string): ScheduleExpression {
  const result = parseScheduleExpression(text);
  if ('problems' in result) throw new Error(`expected ${text} to parse: ${JSON.stringify(result.problems)}`);
  return result.expression;
}

function messages(text: string): string[] {
  const result = parseScheduleExpression(text);
  return 'problems' in result ? result.problems.map((problem) => problem.message) : [];
}

function fires(text: string, after: string, count = 5, timezone?: string): string[] {
  return nextFireTimes(parsed(text), { after, count, ...(timezone ? { timezone } : {}) });
}

describe('cron day-of-month', () => {
  it('L fires on the last day of each month', () => {
    expect(fires('cron(0 12 L * ? *)', '2027-01-15T00:00:00Z')).toEqual([
      '2027-01-31T12:00:00.000Z',
      '2027-02-28T12:00:00.000Z',
      '2027-03-31T12:00:00.000Z',
      '2027-04-30T12:00:00.000Z',
      '2027-05-31T12:00:00.000Z',
    ]);
  });

  it('L fires on 29 February in the leap year 2028', () => {
    expect(fires('cron(0 12 L * ? *)', '2028-02-01T00:00:00Z', 1)).toEqual(['2028-02-29T12:00:00.000Z']);
  });

  it('W picks the nearest weekday: Saturday 15 May moves to Friday 14, Sunday 15 August to Monday 16', () => {
    const times = fires('cron(0 9 15W * ? *)', '2027-01-01T00:00:00Z', 8);
    expect(times).toContain('2027-01-15T09:00:00.000Z'); // a Friday, kept
    expect(times).toContain('2027-05-14T09:00:00.000Z');
    expect(times).toContain('2027-08-16T09:00:00.000Z');
    expect(times).not.toContain('2027-05-15T09:00:00.000Z');
  });

  it('LW fires on the last weekday of the month', () => {
    expect(fires('cron(0 9 LW * ? *)', '2027-01-01T00:00:00Z', 3)).toEqual(['2027-01-29T09:00:00.000Z', '2027-02-26T09:00:00.000Z', '2027-03-31T09:00:00.000Z']);
  });
});

describe('cron day-of-week (1 = SUN ... 7 = SAT)', () => {
  const weekdays = ['2027-01-01', '2027-01-04', '2027-01-05', '2027-01-06', '2027-01-07', '2027-01-08'].map((day) => `${day}T09:00:00.000Z`);

  it('MON-FRI skips the weekend', () => {
    expect(fires('cron(0 9 ? * MON-FRI *)', '2027-01-01T00:00:00Z', 6)).toEqual(weekdays);
  });

  it('numeric 2-6 means Monday to Friday, the same times as MON-FRI', () => {
    expect(fires('cron(0 9 ? * 2-6 *)', '2027-01-01T00:00:00Z', 6)).toEqual(weekdays);
  });

  it('names are read case-insensitively and 1 is Sunday', () => {
    expect(fires('cron(0 9 ? * mon-fri *)', '2027-01-01T00:00:00Z', 6)).toEqual(weekdays);
    expect(fires('cron(0 9 ? * 1 *)', '2027-01-01T00:00:00Z', 2)).toEqual(['2027-01-03T09:00:00.000Z', '2027-01-10T09:00:00.000Z']);
    expect(fires('cron(0 9 ? * SUN *)', '2027-01-01T00:00:00Z', 2)).toEqual(['2027-01-03T09:00:00.000Z', '2027-01-10T09:00:00.000Z']);
    expect(fires('cron(0 9 ? * 7 *)', '2027-01-01T00:00:00Z', 1)).toEqual(['2027-01-02T09:00:00.000Z']);
  });

  it('6L fires on the last Friday of the month', () => {
    expect(fires('cron(0 10 ? * 6L *)', '2027-01-01T00:00:00Z', 4)).toEqual([
      '2027-01-29T10:00:00.000Z',
      '2027-02-26T10:00:00.000Z',
      '2027-03-26T10:00:00.000Z',
      '2027-04-30T10:00:00.000Z',
    ]);
  });

  it('2#1 fires on the first Monday of the month, like MON#1', () => {
    const expected = ['2027-01-04T10:00:00.000Z', '2027-02-01T10:00:00.000Z', '2027-03-01T10:00:00.000Z', '2027-04-05T10:00:00.000Z'];
    expect(fires('cron(0 10 ? * 2#1 *)', '2027-01-01T00:00:00Z', 4)).toEqual(expected);
    expect(fires('cron(0 10 ? * MON#1 *)', '2027-01-01T00:00:00Z', 4)).toEqual(expected);
  });

  it('L alone is Saturday, the last day of the week', () => {
    expect(fires('cron(0 9 ? * L *)', '2027-01-01T00:00:00Z', 2)).toEqual(['2027-01-02T09:00:00.000Z', '2027-01-09T09:00:00.000Z']);
  });
});

describe('cron minutes, months and years', () => {
  it('0/15 fires every quarter hour and 1/10 from minute 1 every ten minutes', () => {
    expect(fires('cron(0/15 * * * ? *)', '2027-01-01T00:00:00Z', 3)).toEqual(['2027-01-01T00:15:00.000Z', '2027-01-01T00:30:00.000Z', '2027-01-01T00:45:00.000Z']);
    expect(fires('cron(1/10 * * * ? *)', '2027-01-01T00:00:00Z', 3)).toEqual(['2027-01-01T00:01:00.000Z', '2027-01-01T00:11:00.000Z', '2027-01-01T00:21:00.000Z']);
  });

  it('month names and year lists restrict the runs', () => {
    expect(fires('cron(0 0 1 JAN,JUL ? 2027-2028)', '2027-01-01T00:00:00Z')).toEqual(['2027-07-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z', '2028-07-01T00:00:00.000Z']);
  });

  it('a cron that never fires (30 February, a year in the past) gives no times instead of looping', () => {
    expect(fires('cron(0 0 30 2 ? *)', '2027-01-01T00:00:00Z')).toEqual([]);
    expect(fires('cron(0 0 1 1 ? 2020)', '2027-01-01T00:00:00Z')).toEqual([]);
  });

  it('fire times are strictly after `after` and before `until`', () => {
    expect(fires('cron(0 9 * * ? *)', '2027-01-01T09:00:00Z', 2)).toEqual(['2027-01-02T09:00:00.000Z', '2027-01-03T09:00:00.000Z']);
    expect(nextFireTimes(parsed('cron(0 9 * * ? *)'), { after: '2027-01-01T00:00:00Z', until: '2027-01-03T09:00:00Z', count: 5 })).toEqual([
      '2027-01-01T09:00:00.000Z',
      '2027-01-02T09:00:00.000Z',
    ]);
  });

  it('`after` takes any offset and is read as an instant', () => {
    expect(fires('cron(0 9 * * ? *)', '2027-01-01T10:30:00+02:00', 1)).toEqual(['2027-01-01T09:00:00.000Z']);
  });

  it('refuses an `after` without an offset, which would depend on the machine time zone', () => {
    expect(() => fires('cron(0 9 * * ? *)', '2027-01-01T00:00:00')).toThrow(/after must be an ISO 8601 date-time with Z or an offset/);
  });
});

describe('cron in a time zone', () => {
  it('09:00 in Europe/Berlin is 08:00Z in winter and 07:00Z in summer', () => {
    expect(fires('cron(0 9 * * ? *)', '2027-01-10T00:00:00Z', 1, 'Europe/Berlin')).toEqual(['2027-01-10T08:00:00.000Z']);
    expect(fires('cron(0 9 * * ? *)', '2027-07-10T00:00:00Z', 1, 'Europe/Berlin')).toEqual(['2027-07-10T07:00:00.000Z']);
  });

  it('09:00 in Europe/Berlin moves one hour earlier in UTC on 28 March 2027, when summer time starts', () => {
    expect(fires('cron(0 9 * * ? *)', '2027-03-26T00:00:00Z', 4, 'Europe/Berlin')).toEqual([
      '2027-03-26T08:00:00.000Z',
      '2027-03-27T08:00:00.000Z',
      '2027-03-28T07:00:00.000Z',
      '2027-03-29T07:00:00.000Z',
    ]);
  });

  it('02:30 in America/New_York does not fire on 14 March 2027, when 02:00-03:00 does not exist (as EventBridge Scheduler skips it)', () => {
    // croner alone would fire at 03:00 EDT (07:00Z) that day.
    expect(fires('cron(30 2 * * ? *)', '2027-03-12T12:00:00Z', 3, 'America/New_York')).toEqual([
      '2027-03-13T07:30:00.000Z', // 02:30 EST
      '2027-03-15T06:30:00.000Z', // 02:30 EDT
      '2027-03-16T06:30:00.000Z',
    ]);
  });

  it('every half hour in America/New_York skips the missing hour on 14 March 2027', () => {
    expect(fires('cron(0/30 * * * ? *)', '2027-03-14T06:00:00Z', 3, 'America/New_York')).toEqual([
      '2027-03-14T06:30:00.000Z', // 01:30 EST
      '2027-03-14T07:00:00.000Z', // 03:00 EDT
      '2027-03-14T07:30:00.000Z',
    ]);
  });

  it('01:30 in America/New_York fires once on 7 November 2027, at the first 01:30 (EDT)', () => {
    expect(fires('cron(30 1 * * ? *)', '2027-11-05T12:00:00Z', 3, 'America/New_York')).toEqual([
      '2027-11-06T05:30:00.000Z',
      '2027-11-07T05:30:00.000Z', // 01:30 EDT; 01:30 EST (06:30Z) does not fire
      '2027-11-08T06:30:00.000Z',
    ]);
  });

  it('times in a repeated hour fire once even for lists and steps, which croner alone runs twice', () => {
    expect(fires('cron(30 1,2 * * ? *)', '2027-11-07T00:00:00Z', 3, 'America/New_York')).toEqual([
      '2027-11-07T05:30:00.000Z', // 01:30 EDT
      '2027-11-07T07:30:00.000Z', // 02:30 EST
      '2027-11-08T06:30:00.000Z',
    ]);
    expect(fires('cron(0/30 * * * ? *)', '2027-11-07T04:45:00Z', 4, 'America/New_York')).toEqual([
      '2027-11-07T05:00:00.000Z', // 01:00 EDT
      '2027-11-07T05:30:00.000Z', // 01:30 EDT; 01:00 and 01:30 EST do not fire again
      '2027-11-07T07:00:00.000Z', // 02:00 EST
      '2027-11-07T07:30:00.000Z',
    ]);
  });

  it('an `after` between the two 01:30s of 7 November 2027 does not fire the second', () => {
    expect(fires('cron(30 1 * * ? *)', '2027-11-07T06:00:00Z', 1, 'America/New_York')).toEqual(['2027-11-08T06:30:00.000Z']);
  });
});

describe('rate', () => {
  const anchor = '2027-01-01T00:00:00Z';

  it('rate(5 minutes) fires at anchor + 5m, + 10m ... strictly after `after`', () => {
    const rate = parsed('rate(5 minutes)');
    expect(rate).toMatchObject({ kind: 'rate', value: 5, unit: 'minutes', everyMs: 300_000 });
    expect(nextFireTimes(rate, { after: '2027-01-01T00:12:00Z', anchor, count: 3 })).toEqual(['2027-01-01T00:15:00.000Z', '2027-01-01T00:20:00.000Z', '2027-01-01T00:25:00.000Z']);
    expect(nextFireTimes(rate, { after: '2027-01-01T00:15:00Z', anchor, count: 1 })).toEqual(['2027-01-01T00:20:00.000Z']);
  });

  it('the first rate time is one interval after the anchor, even when `after` is earlier', () => {
    expect(nextFireTimes(parsed('rate(1 hour)'), { after: '2026-12-31T00:00:00Z', anchor, count: 2 })).toEqual(['2027-01-01T01:00:00.000Z', '2027-01-01T02:00:00.000Z']);
  });

  it('rate counts whole 24-hour days whatever the time zone, and is fast far from the anchor', () => {
    const times = nextFireTimes(parsed('rate(1 day)'), { after: '2027-03-13T12:30:00Z', anchor: '2027-03-01T12:00:00Z', count: 2, timezone: 'America/New_York' });
    expect(times).toEqual(['2027-03-14T12:00:00.000Z', '2027-03-15T12:00:00.000Z']);
    expect(nextFireTimes(parsed('rate(1 minute)'), { after: '2199-01-01T00:00:30Z', anchor: '1970-01-01T00:00:00Z', count: 1 })).toEqual(['2199-01-01T00:01:00.000Z']);
  });

  it('rate stops before `until`', () => {
    expect(nextFireTimes(parsed('rate(10 minutes)'), { after: anchor, anchor, count: 5, until: '2027-01-01T00:30:00Z' })).toEqual(['2027-01-01T00:10:00.000Z', '2027-01-01T00:20:00.000Z']);
  });

  it('refuses a plural unit with 1, a singular unit otherwise, zero and unknown units, naming the rule', () => {
    expect(messages('rate(1 minutes)')).toEqual(['rate(1 ...) takes the singular unit, as in rate(1 minute)']);
    expect(messages('rate(5 minute)')).toEqual(['rate with a value other than 1 takes the plural unit, as in rate(5 minutes)']);
    expect(messages('rate(0 hours)')).toEqual(['rate value must be a positive integer, got 0']);
    expect(messages('rate(1.5 hours)')).toEqual(['rate value must be a positive integer, got 1.5']);
    expect(messages('rate(2 weeks)')).toEqual(['rate unit must be minute(s), hour(s) or day(s), got "weeks"']);
    expect(messages('rate(5)')[0]).toMatch(/rate\(\.\.\.\) needs a value and a unit/);
  });
});

describe('at', () => {
  it('at(2027-06-01T10:00:00) in Asia/Tokyo fires at 01:00Z', () => {
    expect(fires('at(2027-06-01T10:00:00)', '2027-01-01T00:00:00Z', 5, 'Asia/Tokyo')).toEqual(['2027-06-01T01:00:00.000Z']);
  });

  it('at fires in UTC by default and not at all when already past', () => {
    expect(fires('at(2027-06-01T10:00:00)', '2027-01-01T00:00:00Z')).toEqual(['2027-06-01T10:00:00.000Z']);
    expect(fires('at(2027-06-01T10:00:00)', '2027-06-01T10:00:00Z')).toEqual([]);
  });

  it('a skipped wall-clock time fires after the gap, a repeated one at its first occurrence', () => {
    expect(fires('at(2027-03-14T02:30:00)', '2027-01-01T00:00:00Z', 1, 'America/New_York')).toEqual(['2027-03-14T07:30:00.000Z']); // 03:30 EDT
    expect(fires('at(2027-11-07T01:30:00)', '2027-01-01T00:00:00Z', 1, 'America/New_York')).toEqual(['2027-11-07T05:30:00.000Z']); // 01:30 EDT
  });

  it('refuses dates that do not exist and other formats', () => {
    expect(messages('at(2027-02-30T10:00:00)')[0]).toMatch(/^at\(\.\.\.\) date-time 2027-02-30T10:00:00 does not exist/);
    expect(messages('at(2027-06-01T24:00:00)')[0]).toMatch(/does not exist/);
    expect(messages('at(1969-12-31T23:59:59)')).toEqual(['at(...) year 1969 is out of range 1970-2199']);
    expect(messages('at(2027-06-01 10:00)')).toEqual(['at(...) needs a date-time yyyy-mm-ddThh:mm:ss, got "2027-06-01 10:00"']);
  });
});

describe('problems', () => {
  it('names the six fields when the count is wrong, including cron()', () => {
    expect(messages('cron(0 12 * * ?)')).toEqual(['cron(...) needs 6 fields (minutes hours day-of-month month day-of-week year), got 5']);
    expect(messages('cron()')).toEqual(['cron(...) needs 6 fields (minutes hours day-of-month month day-of-week year), got 0']);
  });

  it('reports every out-of-range value with its field and range', () => {
    expect(messages('cron(60 24 32 13 ? 2200)')).toEqual([
      'minutes 60 is out of range 0-59',
      'hours 24 is out of range 0-23',
      'day-of-month 32 is out of range 1-31',
      'month 13 is out of range 1-12',
      'year 2200 is out of range 1970-2199',
    ]);
    expect(messages('cron(0 9 ? * 9 *)')).toEqual(['day-of-week 9 is out of range 1-7 (1 = SUN)']);
    expect(messages('cron(0 9 ? * 0 *)')).toEqual(['day-of-week 0 is out of range 1-7 (1 = SUN)']);
    expect(messages('cron(0 9 1 1 ? 1969)')).toEqual(['year 1969 is out of range 1970-2199']);
  });

  it('requires exactly one of day-of-month and day-of-week to be ?', () => {
    expect(messages('cron(0 9 1 * MON *)')).toEqual(['one of day-of-month and day-of-week must be ? (they cannot both be set)']);
    expect(messages('cron(0 9 * * * *)')).toEqual(['one of day-of-month and day-of-week must be ? (they cannot both be set)']);
    expect(messages('cron(0 9 ? * ? *)')).toEqual(['only one of day-of-month and day-of-week can be ?; use * in the other']);
  });

  it('names misplaced wildcards and malformed items', () => {
    expect(messages('cron(? 9 * * ? *)')).toEqual(['minutes does not allow ? (only day-of-month and day-of-week do)']);
    expect(messages('cron(0 9 ? * MON/2 *)')).toEqual(['day-of-week does not allow / (increments)']);
    expect(messages('cron(0 9 1,L * ? *)')).toEqual(['day-of-month L, LW and nW must stand alone, not in a list']);
    expect(messages('cron(0 9 ? * 6#6 *)')).toEqual(['day-of-week 6#6: the occurrence after # must be 1-5']);
    expect(messages('cron(0 9 ? * FRI-MON *)')).toEqual(['day-of-week range FRI-MON must go from low to high']);
    expect(messages('cron(0/0 9 * * ? *)')).toEqual(['minutes increment "0" must be an integer from 1 to 60']);
    expect(messages('cron(0 9 * FOO ? *)')).toEqual(['month value "FOO" is not a number or a name JAN-DEC']);
    expect(messages('cron(0 9 * 1L ? *)')).toEqual(['month does not allow L, W or #']);
  });

  it('refuses text that is no expression', () => {
    expect(messages('every day')).toEqual(['expression must be cron(...), rate(...) or at(...), got "every day"']);
  });

  it('reports problems under the caller field name', () => {
    expect(parseScheduleExpression('every day', 'schedule.expression')).toEqual({ problems: [{ field: 'schedule.expression', message: expect.any(String) }] });
  });

  it('refuses an unknown time zone, offsets and wrong case, and accepts IANA names', () => {
    expect(timeZoneProblem('Mars/Olympus')).toEqual({ field: 'timezone', message: 'time zone "Mars/Olympus" is not a known IANA time zone (e.g. Europe/Berlin, UTC)' });
    expect(timeZoneProblem('+01:00', 'tz')).toEqual({ field: 'tz', message: 'time zone "+01:00" must be an IANA time zone name (e.g. Europe/Berlin), not a UTC offset' });
    expect(timeZoneProblem('europe/berlin')?.message).toBe('time zone names are case-sensitive: use Europe/Berlin');
    for (const timezone of ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Tokyo']) expect(timeZoneProblem(timezone)).toBeUndefined();
  });
});

describe('zod helpers', () => {
  it('ScheduleExpressionText adds one issue per problem', () => {
    const result = ScheduleExpressionText.safeParse('cron(60 24 * * ? *)');
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message)).toEqual(['minutes 60 is out of range 0-59', 'hours 24 is out of range 0-23']);
    expect(ScheduleExpressionText.safeParse('rate(5 minutes)').success).toBe(true);
  });

  it('TimeZoneText refuses unknown zones', () => {
    expect(TimeZoneText.safeParse('Mars/Olympus').success).toBe(false);
    expect(TimeZoneText.safeParse('Asia/Tokyo').success).toBe(true);
  });
});

describe('the parser and croner agree', () => {
  it.each(['cron(0 12 L * ? *)', 'cron(0 9 15W * ? *)', 'cron(0 9 ? * MON-FRI *)', 'cron(0 9 ? * 2-6 *)', 'cron(0 10 ? * 6L *)', 'cron(0 10 ? * 2#1 *)', 'cron(0/15 8-18 ? * * 2027-2030)', 'cron(5,35 */2 1/3 JAN,JUL ? *)'])(
    'croner accepts the pattern %s was translated to',
    (text) => {
      const parsed = parseScheduleExpression(text);
      if (!('expression' in parsed)) throw new Error(`${text} did not parse: ${JSON.stringify(parsed.problems)}`);
      expect(cronProblem(parsed.expression)).toBeUndefined();
    },
  );
});
