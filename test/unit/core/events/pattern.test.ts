import { describe, expect, it } from 'vitest';
import { matchesEventPattern, parseEventPattern, type EventPattern } from '../../../../core/events/pattern.ts';

/** Parses a pattern that must be valid, so a matching test never silently runs on a rejected pattern. */
function valid(input: unknown): EventPattern {
  const result = parseEventPattern(input);
  if ('issues' in result) throw new Error(`pattern rejected: ${JSON.stringify(result.issues)}`);
  return result.pattern;
}

const matches = (pattern: unknown, event: unknown): boolean => matchesEventPattern(valid(pattern), event);

function issuesOf(input: unknown): { field: string; message: string }[] {
  const result = parseEventPattern(input);
  return 'issues' in result ? [...result.issues] : [];
}

// Events modelled on the EventBridge user guide's examples (values reworded where the guide's were incidental).
const ec2StateChange = (state: string): Record<string, unknown> => ({
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state },
});

const autoScalingLaunch = {
  version: '0',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};

/** The sample event of aws/event-ruler's README, which the guide's numeric and cidr patterns are written against. */
const rulerSample = {
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: { 'c-count': 5, 'd-count': 3, 'x-limit': 301.8, 'source-ip': '10.0.0.33', state: 'running' },
};

describe('parseEventPattern accepts', () => {
  it('the documented patterns unchanged', () => {
    const pattern = {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
        'source-ip': [{ cidr: '10.0.0.0/8' }],
        $or: [{ service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] }, { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] }],
        FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }, { wildcard: 'dir/*.png' }, { exists: false }, null, true, ''],
      },
    };
    expect(parseEventPattern(pattern)).toEqual({ pattern });
  });
});

describe('parseEventPattern rejects', () => {
  it.each([
    ['a non-object pattern', ['source'], '(pattern)', 'an event pattern must be a JSON object'],
    ['a null pattern', null, '(pattern)', 'an event pattern must be a JSON object'],
    ['a scalar where a leaf belongs', { detail: { status: 'active' } }, 'detail.status', "a pattern's leaf must be an array of match values"],
    ['an empty leaf', { source: [] }, 'source', 'non-empty array of match values'],
    ['an empty nested object', { detail: {} }, 'detail', 'at least one field'],
    ['a nested array as a match value', { source: [['aws.ec2']] }, 'source[0]', 'a match value must be a string, a finite number'],
    ['a non-finite number', { size: [Number.NaN] }, 'size[0]', 'a match value must be a string, a finite number'],
    ['two operators in one object', { name: [{ prefix: 'a', suffix: 'b' }] }, 'name[0]', 'exactly one key, got 2'],
    ['an unknown operator', { name: [{ contains: 'abc' }] }, 'name[0].contains', 'unknown operator "contains"'],
    ['a numeric prefix', { name: [{ prefix: 5 }] }, 'name[0].prefix', 'prefix takes a string or {"equals-ignore-case": string}'],
    ['a suffix with an unknown option', { name: [{ suffix: { 'ignore-case': '.png' } }] }, 'name[0].suffix', 'suffix takes a string'],
    ['a non-string equals-ignore-case', { name: [{ 'equals-ignore-case': ['a'] }] }, 'name[0].equals-ignore-case', 'equals-ignore-case takes a string'],
    ['numeric without a number', { detail: { amount: [{ numeric: ['>'] }] } }, 'detail.amount[0].numeric', 'numeric needs an operator (<, <=, =, >=, >) followed by a number'],
    ['numeric with an unknown operator', { amount: [{ numeric: ['!=', 3] }] }, 'amount[0].numeric', 'numeric needs an operator'],
    ['numeric with a string bound', { amount: [{ numeric: ['>', '3'] }] }, 'amount[0].numeric', 'numeric needs an operator'],
    ['numeric as a bare number', { amount: [{ numeric: 3 }] }, 'amount[0].numeric', 'numeric needs an operator'],
    ['numeric with three comparisons', { amount: [{ numeric: ['>', 0, '<', 5, '<', 4] }] }, 'amount[0].numeric', 'numeric needs an operator'],
    ['an upper bound before a lower bound', { amount: [{ numeric: ['<', 10, '>', 0] }] }, 'amount[0].numeric', 'a lower bound (> or >=) then an upper bound'],
    ['= in a range', { amount: [{ numeric: ['=', 1, '<', 5] }] }, 'amount[0].numeric', 'a lower bound (> or >=) then an upper bound'],
    ['an empty range', { amount: [{ numeric: ['>=', 5, '<=', 5] }] }, 'amount[0].numeric', 'lower bound must be less than its upper bound'],
    ['anything-but true', { state: [{ 'anything-but': true }] }, 'state[0].anything-but', 'anything-but takes a value, an array of values, or {prefix}/{suffix}/{wildcard}/{equals-ignore-case}'],
    ['anything-but null', { state: [{ 'anything-but': null }] }, 'state[0].anything-but', 'anything-but takes a value'],
    ['anything-but numeric', { state: [{ 'anything-but': { numeric: ['>', 1] } }] }, 'state[0].anything-but', 'anything-but takes a value'],
    ['a mixed anything-but list', { state: [{ 'anything-but': ['stopped', 3] }] }, 'state[0].anything-but', 'only strings or only numbers'],
    ['an empty anything-but list', { state: [{ 'anything-but': [] }] }, 'state[0].anything-but', 'only strings or only numbers'],
    ['an anything-but prefix list', { state: [{ 'anything-but': { prefix: ['init'] } }] }, 'state[0].anything-but', 'prefix or suffix must be a non-empty string'],
    ['an empty anything-but suffix', { state: [{ 'anything-but': { suffix: '' } }] }, 'state[0].anything-but', 'prefix or suffix must be a non-empty string'],
    ['an anything-but equals-ignore-case number', { state: [{ 'anything-but': { 'equals-ignore-case': 1 } }] }, 'state[0].anything-but', 'equals-ignore-case takes a string or an array of strings'],
    ['a bad wildcard inside anything-but', { path: [{ 'anything-but': { wildcard: ['*.png', 'a**'] } }] }, 'path[0].anything-but', 'consecutive *'],
    ['consecutive wildcards', { path: [{ wildcard: 'dir/**.png' }] }, 'path[0].wildcard', 'wildcard cannot hold consecutive * characters'],
    ['a stray backslash in a wildcard', { path: [{ wildcard: 'dir\\x' }] }, 'path[0].wildcard', 'may only escape * or \\'],
    ['exists with a string', { detail: { state: [{ exists: 'yes' }] } }, 'detail.state[0].exists', 'exists takes true or false'],
    ['a cidr prefix length over 32', { ip: [{ cidr: '10.0.0.0/33' }] }, 'ip[0].cidr', 'cidr takes an IPv4 or IPv6 block'],
    ['a cidr without a prefix length', { ip: [{ cidr: '10.0.0.0' }] }, 'ip[0].cidr', 'cidr takes an IPv4 or IPv6 block'],
    ['a cidr with an octet over 255', { ip: [{ cidr: '10.0.300.0/24' }] }, 'ip[0].cidr', 'cidr takes'],
    ['an IPv6 cidr over 128', { ip: [{ cidr: '2001:db8::/129' }] }, 'ip[0].cidr', 'cidr takes'],
    ['an IPv6 cidr with two ::', { ip: [{ cidr: '2001::db8::/64' }] }, 'ip[0].cidr', 'cidr takes'],
    ['$or with one branch', { detail: { $or: [{ state: ['running'] }] } }, 'detail.$or', '$or takes an array of at least two patterns'],
    ['$or holding an object', { $or: { state: ['running'], region: ['us-east-1'] } }, '$or', '$or takes an array of at least two patterns'],
    ['a $or branch that is not an object', { $or: [{ state: ['running'] }, ['terminated']] }, '$or[1]', '$or takes an array of at least two patterns'],
    ['an empty $or branch', { $or: [{ state: ['running'] }, {}] }, '$or[1]', 'at least one field'],
    ['a $or branch field named after an operator', { $or: [{ numeric: [123] }, { source: ['a'] }] }, '$or[0].numeric', 'cannot be named numeric'],
    ['a bad leaf deep inside $or', { $or: [{ a: ['x'] }, { $or: [{ b: 'y' }, { c: ['z'] }] }] }, '$or[1].$or[0].b', "a pattern's leaf must be an array"],
  ])('%s', (_name, pattern, field, message) => {
    const issues = issuesOf(pattern);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.field).toBe(field);
    expect(issues[0]!.message).toContain(message);
  });

  it('reports every problem of a pattern at once', () => {
    const issues = issuesOf({ source: 'aws.ec2', detail: { amount: [{ numeric: ['>', 'x'] }], state: [] } });
    expect(issues.map((issue) => issue.field)).toEqual(['source', 'detail.amount[0].numeric', 'detail.state']);
  });
});

describe('exact matching', () => {
  const ec2Termination = { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['terminated'] } };

  it('matches the EC2 termination event and ignores the fields the pattern does not name', () => {
    expect(matches(ec2Termination, ec2StateChange('terminated'))).toBe(true);
  });

  it('needs every named field to match (AND)', () => {
    expect(matches(ec2Termination, ec2StateChange('running'))).toBe(false);
    expect(matches(ec2Termination, { ...ec2StateChange('terminated'), source: 'aws.fargate' })).toBe(false);
  });

  it('accepts any one of a leaf\'s values (OR)', () => {
    const pattern = { source: ['aws.ec2', 'aws.fargate'] };
    expect(matches(pattern, { source: 'aws.fargate' })).toBe(true);
    expect(matches(pattern, { source: 'aws.ec2' })).toBe(true);
    expect(matches(pattern, { source: 'aws.s3' })).toBe(false);
  });

  it('compares strings character by character, without case folding', () => {
    expect(matches({ source: ['aws.ec2'] }, { source: 'AWS.EC2' })).toBe(false);
    expect(matches({ source: ['aws.ec2'] }, { source: 'aws.ec2 ' })).toBe(false);
  });

  it('matches numbers nested in objects (the Macie risk-score example)', () => {
    const pattern = { source: ['aws.macie'], detail: { 'risk-score': [80], trigger: { risk: [8] } } };
    const event = { source: 'aws.macie', detail: { 'risk-score': 80, trigger: { 'alert-type': 'basic', risk: 8 } } };
    expect(matches(pattern, event)).toBe(true);
    expect(matches(pattern, { ...event, detail: { ...event.detail, trigger: { risk: 7 } } })).toBe(false);
  });

  it('compares numbers by value: 300 matches 300.0 and 3.0e2', () => {
    expect(matches({ limit: [300] }, JSON.parse('{"limit": 300.0}'))).toBe(true);
    expect(matches(JSON.parse('{"limit": [3.0e2]}'), { limit: 300 })).toBe(true);
    expect(matches({ limit: [300] }, { limit: 300.5 })).toBe(false);
  });

  it('never matches a string against a number, either way round', () => {
    expect(matches({ limit: [300] }, { limit: '300' })).toBe(false);
    expect(matches({ limit: ['300'] }, { limit: 300 })).toBe(false);
  });

  it('matches booleans only against booleans', () => {
    expect(matches({ enabled: [true] }, { enabled: true })).toBe(true);
    expect(matches({ enabled: [true] }, { enabled: 'true' })).toBe(false);
    expect(matches({ enabled: [false] }, { enabled: 0 })).toBe(false);
  });

  it('matches null and the empty string separately (the Auto Scaling example)', () => {
    expect(matches({ source: ['aws.autoscaling'], detail: { responseElements: [null] } }, autoScalingLaunch)).toBe(true);
    expect(matches({ detail: { eventVersion: [''] } }, autoScalingLaunch)).toBe(true);
    expect(matches({ detail: { responseElements: [''] } }, autoScalingLaunch)).toBe(false);
    expect(matches({ detail: { eventVersion: [null] } }, autoScalingLaunch)).toBe(false);
  });

  it('does not match null against a missing field', () => {
    expect(matches({ detail: { missing: [null] } }, autoScalingLaunch)).toBe(false);
  });

  it('fails when a named field is absent, at any depth', () => {
    expect(matches({ detail: { state: ['running'] } }, { source: 'aws.ec2' })).toBe(false);
    expect(matches({ region: ['us-east-1'] }, { detail: { region: 'us-east-1' } })).toBe(false);
  });

  it('does not descend into a scalar where the pattern expects an object', () => {
    expect(matches({ detail: { state: ['running'] } }, { detail: 'running' })).toBe(false);
  });

  it('treats an object in the event as no leaf value at all', () => {
    expect(matches({ detail: ['x'] }, { detail: { x: 'x' } })).toBe(false);
  });

  it('matches nothing against an event that is not an object', () => {
    expect(matches({ source: ['aws.ec2'] }, null)).toBe(false);
    expect(matches({ source: ['aws.ec2'] }, 'aws.ec2')).toBe(false);
  });

  it('reads only the event\'s own fields', () => {
    expect(matches({ toString: [{ exists: true }] }, {})).toBe(false);
  });
});

describe('arrays in the event', () => {
  it('matches when the pattern and event arrays intersect (the resources example)', () => {
    const pattern = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    };
    const event = {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    };
    expect(matches(pattern, event)).toBe(true);
    expect(matches(pattern, { resources: [event.resources[0]] })).toBe(false);
  });

  it('flattens nested arrays', () => {
    expect(matches({ tags: ['b'] }, { tags: [['a'], [['b']]] })).toBe(true);
  });

  it('applies operators element by element', () => {
    expect(matches({ sizes: [{ numeric: ['>', 10] }] }, { sizes: [1, 50] })).toBe(true);
    expect(matches({ sizes: [{ numeric: ['>', 10] }] }, { sizes: [1, 5] })).toBe(false);
    expect(matches({ states: [{ 'anything-but': 'stopped' }] }, { states: ['stopped', 'running'] })).toBe(true);
    expect(matches({ states: [{ 'anything-but': 'stopped' }] }, { states: ['stopped', 'stopped'] })).toBe(false);
  });

  it('matches a nested pattern against one element of an array of objects', () => {
    const employees = {
      employees: [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
        [{ firstName: 'Peter', lastName: 'Jones' }],
      ],
    };
    expect(matches({ employees: { firstName: ['Anna'] } }, employees)).toBe(true);
    expect(matches({ employees: { firstName: ['Peter'], lastName: ['Jones'] } }, employees)).toBe(true);
    // Fields from different elements never combine into a match.
    expect(matches({ employees: { firstName: ['Anna'], lastName: ['Jones'] } }, employees)).toBe(false);
  });

  it('treats an empty array as an absent field', () => {
    expect(matches({ resources: [{ exists: true }] }, autoScalingLaunch)).toBe(false);
    expect(matches({ resources: [{ exists: false }] }, autoScalingLaunch)).toBe(true);
  });
});

describe('prefix and suffix', () => {
  it('matches a prefix (the time example)', () => {
    expect(matches({ time: [{ prefix: '2017-10-02' }] }, { time: '2017-10-02T18:43:48Z' })).toBe(true);
    expect(matches({ time: [{ prefix: '2017-10-02' }] }, { time: '2017-10-03T18:43:48Z' })).toBe(false);
  });

  it('matches Auto Scaling events from European regions', () => {
    const pattern = { source: ['aws.autoscaling'], region: [{ prefix: 'eu-' }] };
    expect(matches(pattern, { ...autoScalingLaunch, region: 'eu-west-1' })).toBe(true);
    expect(matches(pattern, autoScalingLaunch)).toBe(false);
  });

  it('matches a prefix regardless of case with equals-ignore-case', () => {
    const pattern = { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } };
    for (const service of ['EventBridge', 'EVENTBRIDGE', 'eventb']) expect(matches(pattern, { detail: { service } })).toBe(true);
    expect(matches(pattern, { detail: { service: 'Event Bus' } })).toBe(false);
    expect(matches({ detail: { service: [{ prefix: 'EventB' }] } }, { detail: { service: 'eventbridge' } })).toBe(false);
  });

  it('matches a suffix (the FileName example), case-sensitively unless asked', () => {
    expect(matches({ FileName: [{ suffix: '.png' }] }, { FileName: 'image.png' })).toBe(true);
    expect(matches({ FileName: [{ suffix: '.png' }] }, { FileName: 'image.PNG' })).toBe(false);
    expect(matches({ FileName: [{ suffix: '.png' }] }, { FileName: 'image.png.zip' })).toBe(false);
    expect(matches({ detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, { detail: { FileName: 'IMAGE.PNG' } })).toBe(true);
  });

  it('applies only to strings', () => {
    expect(matches({ year: [{ prefix: '20' }] }, { year: 2017 })).toBe(false);
    expect(matches({ year: [{ suffix: '17' }] }, { year: 2017 })).toBe(false);
  });
});

describe('equals-ignore-case', () => {
  it('matches a name in any casing (the Alice example)', () => {
    expect(matches({ Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'Alice' })).toBe(true);
    expect(matches({ Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'ALICE' })).toBe(true);
    expect(matches({ Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'Alicia' })).toBe(false);
  });
});

describe('wildcard', () => {
  it('matches *.png', () => {
    expect(matches({ key: [{ wildcard: '*.png' }] }, { key: 'photos/cat.png' })).toBe(true);
    expect(matches({ key: [{ wildcard: '*.png' }] }, { key: 'photos/cat.jpg' })).toBe(false);
  });

  it('matches several wildcards, each spanning zero or more characters', () => {
    expect(matches({ source: [{ wildcard: 'Simple*Service' }] }, { source: 'Simple Queue Service' })).toBe(true);
    expect(matches({ source: [{ wildcard: 'Simple*Service' }] }, { source: 'SimpleService' })).toBe(true);
    expect(matches({ title: [{ wildcard: '*Title*' }] }, { title: 'A Title Here' })).toBe(true);
    expect(matches({ title: [{ wildcard: '*Title*' }] }, { title: 'A title here' })).toBe(false);
  });

  it('anchors at both ends', () => {
    expect(matches({ key: [{ wildcard: 'dir/*.png' }] }, { key: 'other/dir/a.png' })).toBe(false);
    expect(matches({ key: [{ wildcard: 'dir/*.png' }] }, { key: 'dir/a.png.bak' })).toBe(false);
  });

  it('treats an escaped \\* as a literal asterisk and \\\\ as a backslash', () => {
    expect(matches({ name: [{ wildcard: 'report\\*.txt' }] }, { name: 'report*.txt' })).toBe(true);
    expect(matches({ name: [{ wildcard: 'report\\*.txt' }] }, { name: 'report1.txt' })).toBe(false);
    expect(matches({ name: [{ wildcard: 'C:\\\\*' }] }, { name: 'C:\\temp' })).toBe(true);
    expect(matches({ name: [{ wildcard: 'a\\**' }] }, { name: 'a*bc' })).toBe(true);
  });

  it('gives regular-expression characters no special meaning', () => {
    expect(matches({ name: [{ wildcard: 'a.c' }] }, { name: 'abc' })).toBe(false);
    expect(matches({ name: [{ wildcard: '(a|b)+' }] }, { name: '(a|b)+' })).toBe(true);
  });

  it('lets * span line breaks and match the empty string, but never a number', () => {
    expect(matches({ text: [{ wildcard: 'a*z' }] }, { text: 'a\nz' })).toBe(true);
    expect(matches({ text: [{ wildcard: '*' }] }, { text: '' })).toBe(true);
    expect(matches({ text: [{ wildcard: '*' }] }, { text: 7 })).toBe(false);
  });
});

describe('anything-but', () => {
  it('excludes one string (the initializing example)', () => {
    const pattern = { detail: { state: [{ 'anything-but': 'initializing' }] } };
    expect(matches(pattern, ec2StateChange('running'))).toBe(true);
    expect(matches(pattern, ec2StateChange('initializing'))).toBe(false);
  });

  it('excludes one number, compared by value', () => {
    const pattern = { detail: { 'x-limit': [{ 'anything-but': 123 }] } };
    expect(matches(pattern, { detail: { 'x-limit': 124 } })).toBe(true);
    expect(matches(pattern, JSON.parse('{"detail": {"x-limit": 123.0}}'))).toBe(false);
  });

  it('excludes a list of strings or numbers', () => {
    expect(matches({ detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, ec2StateChange('stopped'))).toBe(false);
    expect(matches({ detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, ec2StateChange('pending'))).toBe(true);
    expect(matches({ detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, { detail: { 'x-limit': 200 } })).toBe(false);
    expect(matches({ detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, { detail: { 'x-limit': 250 } })).toBe(true);
  });

  it('lets a value of the other type through: the string "123" is not the number 123', () => {
    expect(matches({ limit: [{ 'anything-but': 123 }] }, { limit: '123' })).toBe(true);
  });

  it('excludes a prefix (the init and us- examples)', () => {
    expect(matches({ detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, ec2StateChange('initializing'))).toBe(false);
    expect(matches({ detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, ec2StateChange('running'))).toBe(true);
    expect(matches({ Region: [{ 'anything-but': { prefix: 'us-' } }] }, { Region: 'us-east-1' })).toBe(false);
    expect(matches({ Region: [{ 'anything-but': { prefix: 'us-' } }] }, { Region: 'eu-west-1' })).toBe(true);
  });

  it('excludes a suffix', () => {
    expect(matches({ FileName: [{ 'anything-but': { suffix: '.png' } }] }, { FileName: 'a.png' })).toBe(false);
    expect(matches({ FileName: [{ 'anything-but': { suffix: '.png' } }] }, { FileName: 'a.gif' })).toBe(true);
  });

  it('excludes values in any casing with equals-ignore-case, one or several', () => {
    const one = { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] };
    expect(matches(one, { state: 'INITIALIZING' })).toBe(false);
    expect(matches(one, { state: 'running' })).toBe(true);
    const several = { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'overloaded'] } }] };
    expect(matches(several, { state: 'OVERLOADED' })).toBe(false);
    expect(matches(several, { state: 'stopped' })).toBe(false);
    expect(matches(several, { state: 'pending' })).toBe(true);
  });

  it('excludes wildcard matches (the /lib/ example), one or several', () => {
    const one = { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] };
    expect(matches(one, { FilePath: 'usr/lib/x.so' })).toBe(false);
    expect(matches(one, { FilePath: 'usr/bin/x' })).toBe(true);
    const several = { FilePath: [{ 'anything-but': { wildcard: ['*/lib/*', '*.tmp'] } }] };
    expect(matches(several, { FilePath: 'a/b.tmp' })).toBe(false);
    expect(matches(several, { FilePath: 'a/b.txt' })).toBe(true);
  });

  it('does not match a missing field', () => {
    expect(matches({ detail: { state: [{ 'anything-but': 'initializing' }] } }, { detail: {} })).toBe(false);
    expect(matches({ detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, {})).toBe(false);
  });

  it('matches a present null, which is none of the excluded strings', () => {
    expect(matches({ state: [{ 'anything-but': 'initializing' }] }, { state: null })).toBe(true);
  });
});

describe('numeric', () => {
  const numericPattern = {
    detail: {
      'c-count': [{ numeric: ['>', 0, '<=', 5] }],
      'd-count': [{ numeric: ['<', 10] }],
      'x-limit': [{ numeric: ['=', 3.018e2] }],
    },
  };

  it('matches the documented pattern only when every comparison holds', () => {
    expect(matches(numericPattern, rulerSample)).toBe(true);
    expect(matches(numericPattern, { detail: { ...rulerSample.detail, 'c-count': 6 } })).toBe(false);
    expect(matches(numericPattern, { detail: { ...rulerSample.detail, 'd-count': 10 } })).toBe(false);
    expect(matches(numericPattern, { detail: { ...rulerSample.detail, 'x-limit': 301.81 } })).toBe(false);
  });

  it('respects open and closed bounds', () => {
    const range = { n: [{ numeric: ['>', 0, '<=', 5] }] };
    expect(matches(range, { n: 0 })).toBe(false);
    expect(matches(range, { n: 0.000001 })).toBe(true);
    expect(matches(range, { n: 5 })).toBe(true);
    expect(matches(range, { n: 5.000001 })).toBe(false);
    const closed = { n: [{ numeric: ['>=', -10, '<', -1] }] };
    expect(matches(closed, { n: -10 })).toBe(true);
    expect(matches(closed, { n: -1 })).toBe(false);
  });

  it('supports each single comparison', () => {
    expect(matches({ n: [{ numeric: ['>=', 3] }] }, { n: 3 })).toBe(true);
    expect(matches({ n: [{ numeric: ['>', 3] }] }, { n: 3 })).toBe(false);
    expect(matches({ n: [{ numeric: ['<=', 3] }] }, { n: 3 })).toBe(true);
    expect(matches({ n: [{ numeric: ['<', 3] }] }, { n: 3 })).toBe(false);
    expect(matches({ n: [{ numeric: ['=', 300] }] }, JSON.parse('{"n": 300.0}'))).toBe(true);
  });

  it('works only on JSON numbers', () => {
    expect(matches({ n: [{ numeric: ['>', 0] }] }, { n: '5' })).toBe(false);
    expect(matches({ n: [{ numeric: ['>', 0] }] }, { n: true })).toBe(false);
    expect(matches({ n: [{ numeric: ['>', 0] }] }, {})).toBe(false);
  });
});

describe('cidr', () => {
  it('matches IPv4 addresses in the block (the 10.0.0.0/24 example)', () => {
    const pattern = { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } };
    expect(matches(pattern, { detail: { sourceIPAddress: '10.0.0.0' } })).toBe(true);
    expect(matches(pattern, { detail: { sourceIPAddress: '10.0.0.255' } })).toBe(true);
    expect(matches(pattern, { detail: { sourceIPAddress: '10.0.1.0' } })).toBe(false);
    expect(matches(pattern, { detail: { sourceIPAddress: '9.255.255.255' } })).toBe(false);
  });

  it('matches the complex example\'s 10.0.0.0/8 and handles /32 and /0', () => {
    expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '10.200.3.4' })).toBe(true);
    expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '11.0.0.1' })).toBe(false);
    expect(matches({ ip: [{ cidr: '192.168.1.7/32' }] }, { ip: '192.168.1.7' })).toBe(true);
    expect(matches({ ip: [{ cidr: '192.168.1.7/32' }] }, { ip: '192.168.1.8' })).toBe(false);
    expect(matches({ ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '203.0.113.9' })).toBe(true);
  });

  it('ignores host bits set in the block', () => {
    expect(matches({ ip: [{ cidr: '10.0.0.77/24' }] }, { ip: '10.0.0.1' })).toBe(true);
  });

  it('matches IPv6 addresses, compressed or not, in any case', () => {
    const pattern = { ip: [{ cidr: '2001:db8::/32' }] };
    expect(matches(pattern, { ip: '2001:db8:1234::1' })).toBe(true);
    expect(matches(pattern, { ip: '2001:0DB8:0000:0000:0000:0000:0000:0001' })).toBe(true);
    expect(matches(pattern, { ip: '2001:db9::1' })).toBe(false);
    expect(matches({ ip: [{ cidr: 'fe80::/10' }] }, { ip: 'febf::1' })).toBe(true);
    expect(matches({ ip: [{ cidr: 'fe80::/10' }] }, { ip: 'fec0::1' })).toBe(false);
    expect(matches({ ip: [{ cidr: '::1/128' }] }, { ip: '0:0:0:0:0:0:0:1' })).toBe(true);
  });

  it('reads an IPv4 tail inside an IPv6 address', () => {
    expect(matches({ ip: [{ cidr: '::ffff:10.0.0.0/120' }] }, { ip: '::ffff:10.0.0.9' })).toBe(true);
    expect(matches({ ip: [{ cidr: '::ffff:10.0.0.0/120' }] }, { ip: '::ffff:10.0.1.9' })).toBe(false);
  });

  it('never matches across families, non-addresses or non-strings', () => {
    expect(matches({ ip: [{ cidr: '::/0' }] }, { ip: '10.0.0.1' })).toBe(false);
    expect(matches({ ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '::1' })).toBe(false);
    expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: 'localhost' })).toBe(false);
    expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '10.0.0' })).toBe(false);
    expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '10.0.0.1.5' })).toBe(false);
    expect(matches({ ip: [{ cidr: '::/0' }] }, { ip: '1:2:3:4:5:6:7:8:9' })).toBe(false);
    expect(matches({ ip: [{ cidr: '10.0.0.0/8' }] }, { ip: 167772161 })).toBe(false);
  });
});

describe('exists', () => {
  const pendingInstance = { ...ec2StateChange('pending'), detail: { 'instance-id': 'i-abcd1111', state: 'pending' } };
  const withoutState = { 'detail-type': 'EC2 Instance State-change Notification', detail: { 'c-count': { c1: 100 } } };

  it('exists: true matches a present field and not a missing one (the detail.state example)', () => {
    expect(matches({ detail: { state: [{ exists: true }] } }, pendingInstance)).toBe(true);
    expect(matches({ detail: { state: [{ exists: true }] } }, withoutState)).toBe(false);
  });

  it('exists: false matches a missing field and not a present one', () => {
    expect(matches({ detail: { 'c-count': [{ exists: false }] } }, pendingInstance)).toBe(true);
    expect(matches({ detail: { state: [{ exists: false }] } }, pendingInstance)).toBe(false);
  });

  it('works on leaves only: a field holding an object counts as missing (the c-count example)', () => {
    expect(matches({ detail: { 'c-count': [{ exists: false }] } }, withoutState)).toBe(true);
    expect(matches({ detail: { 'c-count': [{ exists: true }] } }, withoutState)).toBe(false);
  });

  it('counts a null value as present', () => {
    expect(matches({ detail: { responseElements: [{ exists: true }] } }, autoScalingLaunch)).toBe(true);
    expect(matches({ detail: { responseElements: [{ exists: false }] } }, autoScalingLaunch)).toBe(false);
  });

  it('counts a field under a missing or scalar parent as missing', () => {
    expect(matches({ detail: { state: [{ exists: false }] } }, { source: 'aws.ec2' })).toBe(true);
    expect(matches({ detail: { state: [{ exists: false }] } }, { detail: 'pending' })).toBe(true);
    expect(matches({ detail: { state: [{ exists: true }] } }, { source: 'aws.ec2' })).toBe(false);
  });

  it('still requires the pattern\'s other fields', () => {
    const pattern = { source: ['aws.ec2'], detail: { 'c-count': [{ exists: false }] } };
    expect(matches(pattern, pendingInstance)).toBe(true);
    expect(matches(pattern, { ...pendingInstance, source: 'aws.s3' })).toBe(false);
  });
});

describe('several match values in one leaf', () => {
  it('ORs values and operators of different kinds', () => {
    const pattern = { region: ['eu-west-1', { prefix: 'us-' }, { numeric: ['>', 100] }, null] };
    expect(matches(pattern, { region: 'eu-west-1' })).toBe(true);
    expect(matches(pattern, { region: 'us-east-2' })).toBe(true);
    expect(matches(pattern, { region: 101 })).toBe(true);
    expect(matches(pattern, { region: null })).toBe(true);
    expect(matches(pattern, { region: 'ap-south-1' })).toBe(false);
    expect(matches(pattern, { region: 100 })).toBe(false);
  });

  it('combines exists: false with a value: missing or that value', () => {
    const pattern = { detail: { tier: [{ exists: false }, 'gold'] } };
    expect(matches(pattern, { detail: {} })).toBe(true);
    expect(matches(pattern, { detail: { tier: 'gold' } })).toBe(true);
    expect(matches(pattern, { detail: { tier: 'silver' } })).toBe(false);
  });

  it('combines anything-but with numeric: any value, unless it is the one excluded string', () => {
    const pattern = { code: [{ 'anything-but': 'none' }, { numeric: ['<', 0] }] };
    expect(matches(pattern, { code: -1 })).toBe(true);
    expect(matches(pattern, { code: 'none' })).toBe(false);
    expect(matches(pattern, {})).toBe(false);
  });

  it('matches the documented complex example, which mixes operators across fields', () => {
    const pattern = {
      time: [{ prefix: '2017-10-02' }],
      detail: {
        state: [{ 'anything-but': 'initializing' }],
        'c-count': [{ numeric: ['>', 0, '<=', 5] }],
        'd-count': [{ numeric: ['<', 10] }],
        'x-limit': [{ 'anything-but': [100, 200, 300] }],
        'source-ip': [{ cidr: '10.0.0.0/8' }],
      },
    };
    expect(matches(pattern, rulerSample)).toBe(true);
    expect(matches(pattern, { ...rulerSample, time: '2017-10-03T00:00:00Z' })).toBe(false);
    expect(matches(pattern, { ...rulerSample, detail: { ...rulerSample.detail, state: 'initializing' } })).toBe(false);
    expect(matches(pattern, { ...rulerSample, detail: { ...rulerSample.detail, 'x-limit': 300 } })).toBe(false);
    expect(matches(pattern, { ...rulerSample, detail: { ...rulerSample.detail, 'source-ip': '192.168.0.1' } })).toBe(false);
  });
});

describe('$or', () => {
  const alarm = (fields: Record<string, unknown>): Record<string, unknown> => ({ source: 'aws.cloudwatch', ...fields });

  it('matches either state (the User Notifications example)', () => {
    const pattern = { detail: { $or: [{ state: ['running'] }, { state: ['terminated'] }] } };
    expect(matches(pattern, ec2StateChange('running'))).toBe(true);
    expect(matches(pattern, ec2StateChange('terminated'))).toBe(true);
    expect(matches(pattern, ec2StateChange('pending'))).toBe(false);
  });

  it('ANDs the $or with its sibling fields: source && (metricName || namespace)', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    };
    expect(matches(pattern, alarm({ metricName: 'ReadLatency' }))).toBe(true);
    expect(matches(pattern, alarm({ namespace: 'AWS/ES' }))).toBe(true);
    expect(matches(pattern, alarm({ metricName: 'DiskIO', namespace: 'AWS/S3' }))).toBe(false);
    expect(matches(pattern, { source: 'aws.ec2', metricName: 'ReadLatency' })).toBe(false);
  });

  it('evaluates parallel $or at different levels independently', () => {
    const pattern = {
      $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
      detail: { $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }] },
    };
    expect(matches(pattern, { namespace: 'AWS/EC2', detail: { 'detail-type': 'CloudWatch Alarm State Change' } })).toBe(true);
    expect(matches(pattern, { namespace: 'AWS/EC2', detail: { source: 'aws.ec2' } })).toBe(false);
    expect(matches(pattern, { metricName: 'Other', detail: { source: 'aws.cloudwatch' } })).toBe(false);
  });

  it('ANDs the fields inside one branch', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization'] }, { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'] }, { scope: ['Service'] }],
    };
    expect(matches(pattern, alarm({ metricType: 'MetricType', namespace: 'AWS/ES' }))).toBe(true);
    expect(matches(pattern, alarm({ metricType: 'MetricType' }))).toBe(false);
    expect(matches(pattern, alarm({ scope: 'Service' }))).toBe(true);
  });

  it('nests: source && (metricName || (metricType && namespace && (metricId || spaceId)) || scope)', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization', 'ReadLatency'] },
        { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'], $or: [{ metricId: [1234] }, { spaceId: [1000] }] },
        { scope: ['Service'] },
      ],
    };
    expect(matches(pattern, alarm({ metricType: 'MetricType', namespace: 'AWS/EC2', spaceId: 1000 }))).toBe(true);
    expect(matches(pattern, alarm({ metricType: 'MetricType', namespace: 'AWS/EC2', metricId: 1234 }))).toBe(true);
    expect(matches(pattern, alarm({ metricType: 'MetricType', namespace: 'AWS/EC2', metricId: 999 }))).toBe(false);
    expect(matches(pattern, alarm({ metricType: 'MetricType', metricId: 1234 }))).toBe(false);
    expect(matches(pattern, alarm({ metricName: 'CPUUtilization' }))).toBe(true);
  });

  it('takes operators and nested objects inside branches', () => {
    const pattern = {
      detail: {
        $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }, { limits: { x: [{ exists: false }] } }],
      },
    };
    expect(matches(pattern, { detail: { 'c-count': 9, 'd-count': 3, limits: { x: 1 } } })).toBe(true);
    expect(matches(pattern, { detail: { 'c-count': 9, 'd-count': 30, limits: {} } })).toBe(true);
    expect(matches(pattern, { detail: { 'c-count': 9, 'd-count': 30, limits: { x: 1 } } })).toBe(false);
  });

  it('is matched within one element of an array of objects', () => {
    const pattern = { items: { $or: [{ kind: ['a'] }, { size: [{ numeric: ['>', 10] }] }] } };
    expect(matches(pattern, { items: [{ kind: 'b', size: 1 }, { kind: 'c', size: 11 }] })).toBe(true);
    expect(matches(pattern, { items: [{ kind: 'b', size: 1 }, { kind: 'c', size: 2 }] })).toBe(false);
  });
});
