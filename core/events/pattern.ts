import ipaddr from 'ipaddr.js';
import type { FieldIssue } from '../errors.ts';

/**
 * Amazon EventBridge event patterns (content filtering), checked and matched the way EventBridge does it:
 * fields are ANDed, a leaf's alternatives are ORed, arrays in the event are flattened, `$or` forks a level.
 * Semantics follow the EventBridge user guide and its reference matcher, aws/event-ruler.
 */

export type MatchValue = string | number | boolean | null;
type IgnoreCase = { 'equals-ignore-case': string };
export type AnythingBut =
  | string | number | string[] | number[]
  | { prefix: string } | { suffix: string }
  | { 'equals-ignore-case': string | string[] } | { wildcard: string | string[] };
export type MatchOperator =
  | { prefix: string | IgnoreCase } | { suffix: string | IgnoreCase } | IgnoreCase | { wildcard: string }
  | { 'anything-but': AnythingBut } | { numeric: (string | number)[] } | { exists: boolean } | { cidr: string };
export type PatternLeaf = (MatchValue | MatchOperator)[];
/** A JSON object: each field holds a leaf (an array of alternatives), a nested pattern, or (under `$or`) branches. */
export interface EventPattern {
  [field: string]: PatternLeaf | EventPattern | EventPattern[];
}

const OR = '$or';
const OPERATORS = ['prefix', 'suffix', 'equals-ignore-case', 'wildcard', 'anything-but', 'numeric', 'exists', 'cidr'];
const LOWER_BOUNDS = new Set(['>', '>=']);
const UPPER_BOUNDS = new Set(['<', '<=']);
const COMPARISONS = new Set(['<', '<=', '=', '>=', '>']);

const MESSAGES = {
  root: 'an event pattern must be a JSON object',
  empty: 'a pattern object must name at least one field',
  leaf: "a pattern's leaf must be an array of match values",
  emptyLeaf: "a pattern's leaf must be a non-empty array of match values",
  value: 'a match value must be a string, a finite number, true, false, null or an operator object',
  oneKey: 'an operator object must have exactly one key',
  or: '$or takes an array of at least two patterns',
  numeric: 'numeric needs an operator (<, <=, =, >=, >) followed by a number',
  range: "numeric's two comparisons must be a lower bound (> or >=) then an upper bound (< or <=)",
  bounds: "numeric's lower bound must be less than its upper bound",
  anythingBut: 'anything-but takes a value, an array of values, or {prefix}/{suffix}/{wildcard}/{equals-ignore-case}',
  anythingButList: "anything-but's array must hold only strings or only numbers, at least one",
  anythingButAffix: "anything-but's prefix or suffix must be a non-empty string",
  exists: 'exists takes true or false',
  cidr: 'cidr takes an IPv4 or IPv6 block such as 10.0.0.0/24 or 2001:db8::/32',
} as const;

// ---- validation -------------------------------------------------------------------------------------------

/** Checks a pattern as PutRule would, naming every broken rule by its field path (`detail.amount[0].numeric`). */
export function parseEventPattern(input: unknown): { pattern: EventPattern } | { issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  if (isObject(input)) checkObject(input, '', false, issues);
  else issues.push({ field: '(pattern)', message: MESSAGES.root });
  return issues.length > 0 ? { issues } : { pattern: input as EventPattern };
}

function checkObject(object: Record<string, unknown>, path: string, inOr: boolean, issues: FieldIssue[]): void {
  const keys = Object.keys(object);
  if (keys.length === 0) issues.push({ field: path || '(pattern)', message: MESSAGES.empty });
  for (const key of keys) {
    const value = object[key];
    const field = path ? `${path}.${key}` : key;
    if (key === OR) {
      checkOr(value, field, issues);
      continue;
    }
    // event-ruler refuses these names inside $or branches so a branch can never be mistaken for an operator.
    if (inOr && OPERATORS.includes(key)) issues.push({ field, message: `a field inside $or cannot be named ${key}, an operator name` });
    if (Array.isArray(value)) checkLeaf(value, field, issues);
    else if (isObject(value)) checkObject(value, field, inOr, issues);
    else issues.push({ field, message: MESSAGES.leaf });
  }
}

function checkOr(value: unknown, field: string, issues: FieldIssue[]): void {
  if (!Array.isArray(value) || value.length < 2) {
    issues.push({ field, message: MESSAGES.or });
    return;
  }
  value.forEach((branch, index) => {
    if (isObject(branch)) checkObject(branch, `${field}[${index}]`, true, issues);
    else issues.push({ field: `${field}[${index}]`, message: MESSAGES.or });
  });
}

function checkLeaf(values: unknown[], field: string, issues: FieldIssue[]): void {
  if (values.length === 0) issues.push({ field, message: MESSAGES.emptyLeaf });
  values.forEach((value, index) => {
    const at = `${field}[${index}]`;
    if (isObject(value)) {
      const keys = Object.keys(value);
      if (keys.length !== 1) issues.push({ field: at, message: `${MESSAGES.oneKey}, got ${keys.length}` });
      else {
        const problem = operatorProblem(keys[0]!, value[keys[0]!]);
        if (problem) issues.push({ field: `${at}.${keys[0]!}`, message: problem });
      }
    } else if (!isMatchValue(value)) issues.push({ field: at, message: MESSAGES.value });
  });
}

function operatorProblem(name: string, argument: unknown): string | undefined {
  switch (name) {
    case 'prefix':
    case 'suffix':
      return typeof argument === 'string' || isIgnoreCase(argument) ? undefined : `${name} takes a string or {"equals-ignore-case": string}`;
    case 'equals-ignore-case':
      return typeof argument === 'string' ? undefined : 'equals-ignore-case takes a string';
    case 'wildcard':
      return typeof argument === 'string' ? wildcardProblem(argument) : 'wildcard takes a string';
    case 'anything-but':
      return anythingButProblem(argument);
    case 'numeric':
      return numericProblem(argument);
    case 'exists':
      return typeof argument === 'boolean' ? undefined : MESSAGES.exists;
    case 'cidr':
      return typeof argument === 'string' && parseCidr(argument) ? undefined : MESSAGES.cidr;
    default:
      return `unknown operator "${name}"; expected one of ${OPERATORS.join(', ')}`;
  }
}

function wildcardProblem(wildcard: string): string | undefined {
  // With the escapes (\* and \\) set aside, any backslash left is ambiguous and any ** is two wildcards in a row.
  const unescaped = wildcard.replace(/\\[*\\]/g, '_');
  if (unescaped.includes('\\')) return 'wildcard may only escape * or \\ with a backslash';
  if (unescaped.includes('**')) return 'wildcard cannot hold consecutive * characters';
  return undefined;
}

function anythingButProblem(argument: unknown): string | undefined {
  if (typeof argument === 'string' || isFiniteNumber(argument)) return undefined;
  if (Array.isArray(argument)) {
    const uniform = argument.length > 0 && (argument.every((item) => typeof item === 'string') || argument.every(isFiniteNumber));
    return uniform ? undefined : MESSAGES.anythingButList;
  }
  if (!isObject(argument) || Object.keys(argument).length !== 1) return MESSAGES.anythingBut;
  const [name, inner] = Object.entries(argument)[0]!;
  const strings = typeof inner === 'string' || (Array.isArray(inner) && inner.length > 0 && inner.every((item) => typeof item === 'string'));
  switch (name) {
    case 'prefix':
    case 'suffix':
      return typeof inner === 'string' && inner !== '' ? undefined : MESSAGES.anythingButAffix;
    case 'equals-ignore-case':
      return strings ? undefined : 'anything-but equals-ignore-case takes a string or an array of strings';
    case 'wildcard':
      if (!strings) return 'anything-but wildcard takes a string or an array of strings';
      return ([] as string[]).concat(inner as string | string[]).map(wildcardProblem).find(Boolean);
    default:
      return MESSAGES.anythingBut;
  }
}

function numericProblem(argument: unknown): string | undefined {
  if (!Array.isArray(argument) || (argument.length !== 2 && argument.length !== 4)) return MESSAGES.numeric;
  for (let index = 0; index < argument.length; index += 2) {
    if (!COMPARISONS.has(argument[index] as string) || !isFiniteNumber(argument[index + 1])) return MESSAGES.numeric;
  }
  if (argument.length === 2) return undefined;
  if (!LOWER_BOUNDS.has(argument[0] as string) || !UPPER_BOUNDS.has(argument[2] as string)) return MESSAGES.range;
  return (argument[1] as number) < (argument[3] as number) ? undefined : MESSAGES.bounds;
}

// ---- matching ---------------------------------------------------------------------------------------------

/** Whether an event matches a pattern that parseEventPattern accepted. */
export function matchesEventPattern(pattern: EventPattern, event: unknown): boolean {
  return matchesObject(pattern, event);
}

function matchesObject(pattern: EventPattern, value: unknown): boolean {
  // An array of objects matches when one element matches the whole sub-pattern ("array-consistent" matching:
  // fields from different elements never combine into a match).
  if (Array.isArray(value)) {
    const objects = value.flat(Infinity).filter(isObject);
    return objects.length > 0 ? objects.some((object) => matchesFields(pattern, object)) : matchesFields(pattern, undefined);
  }
  return matchesFields(pattern, isObject(value) ? value : undefined);
}

function matchesFields(pattern: EventPattern, object: Record<string, unknown> | undefined): boolean {
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === OR) return (sub as EventPattern[]).some((branch) => matchesFields(branch, object));
    const value = object && Object.hasOwn(object, key) ? object[key] : undefined;
    return Array.isArray(sub) ? matchesLeaf(sub as PatternLeaf, leafValues(value)) : matchesObject(sub as EventPattern, value);
  });
}

/** The scalar values at a path; objects are not leaves, so a field holding only objects counts as absent. */
function leafValues(value: unknown): MatchValue[] {
  if (value === undefined || isObject(value)) return [];
  return Array.isArray(value) ? (value.flat(Infinity) as unknown[]).filter(isMatchValue) : [value as MatchValue];
}

function matchesLeaf(alternatives: PatternLeaf, values: MatchValue[]): boolean {
  return alternatives.some((alternative) => {
    if (values.length === 0) return isObject(alternative) && 'exists' in alternative && alternative.exists === false;
    return values.some((value) => matchesValue(alternative, value));
  });
}

function matchesValue(alternative: MatchValue | MatchOperator, value: MatchValue): boolean {
  // Numbers compare by value (300 matches 300.0); a string never matches a number.
  if (!isObject(alternative)) return alternative === value;
  if ('exists' in alternative) return alternative.exists;
  if ('numeric' in alternative) return typeof value === 'number' && inRange(alternative.numeric, value);
  if ('anything-but' in alternative) return !excluded(alternative['anything-but'], value);
  if (typeof value !== 'string') return false;
  if ('prefix' in alternative) return affix(alternative.prefix, value, (text, part) => text.startsWith(part));
  if ('suffix' in alternative) return affix(alternative.suffix, value, (text, part) => text.endsWith(part));
  if ('equals-ignore-case' in alternative) return sameIgnoringCase(alternative['equals-ignore-case'], value);
  if ('wildcard' in alternative) return wildcardRegExp(alternative.wildcard).test(value);
  return inCidr(alternative.cidr, value);
}

function affix(spec: string | IgnoreCase, value: string, test: (text: string, part: string) => boolean): boolean {
  return typeof spec === 'string' ? test(value, spec) : test(value.toLowerCase(), spec['equals-ignore-case'].toLowerCase());
}

function excluded(spec: AnythingBut, value: MatchValue): boolean {
  if (!isObject(spec)) return ([] as MatchValue[]).concat(spec).includes(value);
  if (typeof value !== 'string') return false;
  if ('prefix' in spec) return value.startsWith(spec.prefix);
  if ('suffix' in spec) return value.endsWith(spec.suffix);
  if ('wildcard' in spec) return ([] as string[]).concat(spec.wildcard).some((wildcard) => wildcardRegExp(wildcard).test(value));
  return ([] as string[]).concat(spec['equals-ignore-case']).some((text) => sameIgnoringCase(text, value));
}

function inRange(comparisons: (string | number)[], value: number): boolean {
  for (let index = 0; index < comparisons.length; index += 2) {
    const bound = comparisons[index + 1] as number;
    const holds = { '<': value < bound, '<=': value <= bound, '=': value === bound, '>=': value >= bound, '>': value > bound }[comparisons[index] as '<'];
    if (!holds) return false;
  }
  return true;
}

const sameIgnoringCase = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function wildcardRegExp(wildcard: string): RegExp {
  const source = wildcard.replace(/\\([*\\])|(\*)|[.+?^${}()|[\]\\]/g, (token, escaped?: string, star?: string) =>
    star ? '.*' : `\\${escaped ?? token}`);
  return new RegExp(`^${source}$`, 's');
}

// ---- IP addresses (ipaddr.js; only the plain four-part decimal IPv4 form, as EventBridge reads them) -----

type Block = [ipaddr.IPv4 | ipaddr.IPv6, number];

function parseIp(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  return text.includes(':') && ipaddr.IPv6.isValid(text) ? ipaddr.IPv6.parse(text) : undefined;
}

function parseCidr(text: string): Block | undefined {
  const [ip, length, extra] = text.split('/');
  const address = ip === undefined ? undefined : parseIp(ip);
  const bits = address?.kind() === 'ipv4' ? 32 : 128;
  if (!address || extra !== undefined || !/^\d{1,3}$/.test(length ?? '') || Number(length) > bits) return undefined;
  return [address, Number(length)];
}

function inCidr(cidr: string, text: string): boolean {
  const block = parseCidr(cidr);
  const address = parseIp(text);
  return block !== undefined && address !== undefined && address.kind() === block[0].kind() && address.match(block);
}

// ---- helpers ----------------------------------------------------------------------------------------------

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isMatchValue(value: unknown): value is MatchValue {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || isFiniteNumber(value);
}

function isIgnoreCase(value: unknown): value is IgnoreCase {
  return isObject(value) && Object.keys(value).length === 1 && typeof value['equals-ignore-case'] === 'string';
}
