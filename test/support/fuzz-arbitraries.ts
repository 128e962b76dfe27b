import fc from 'fast-check';

/**
 * fast-check arbitraries from the JSON Schemas of the OpenAPI document (zod-fast-check supports zod 3 and
 * fast-check 3 only): values a schema accepts, and values that break it in one place, saying how.
 * Handles what zod emits: type (and type lists), const, enum, properties/required/additionalProperties/
 * propertyNames, items/minItems/maxItems, minimum/maximum/exclusive*, minLength/maxLength/pattern/format,
 * anyOf/oneOf/allOf and local $refs (recursive ones are cut at a depth).
 */

export type JsonSchema = { readonly [keyword: string]: unknown };

export interface SchemaScope {
  /** The schema a `$ref` names (`#/components/schemas/X`). */
  readonly resolve: (ref: string) => JsonSchema;
  /** Values for a property, by its name (ids that exist, URLs of a loopback stub), instead of the schema's own. */
  readonly override?: (property: string, schema: JsonSchema) => fc.Arbitrary<unknown> | undefined;
  /** Past this many `$ref` hops, optional parts are left out and recursive alternatives avoided. */
  readonly maxDepth: number;
}

/** Strings that trip parsers, stores and loggers: control characters, bidi overrides, lone surrogates, emoji, markup. */
export const ODD_STRINGS: readonly string[] = [
  '\u0000',
  'a\u0000b',
  '\u202eevil\u202c',
  '\ud800',
  'x\udfff',
  '😀',
  '👩‍👩‍👧‍👦',
  'e\u0301\u0301\u0301',
  '\ufeffbom',
  '\u200b',
  '\r\n',
  '\t',
  ' ',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'ﷺ',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  '%s%n%x',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '../../etc/passwd',
  '\\',
  '"',
  'null',
  '__proto__',
  'constructor',
  'NaN',
  '-0',
];

const MAX_ARRAY_EXTRA = 3;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

type Cache = WeakMap<object, Map<string, fc.Arbitrary<unknown>>>;

/** Values `schema` accepts (up to the differences between JSON Schema and zod, e.g. how lengths are counted). */
export function validValue(schema: JsonSchema, scope: SchemaScope, cache: Cache = new WeakMap()): fc.Arbitrary<unknown> {
  return valid(schema, scope, 0, undefined, cache);
}

function memo(cache: Cache, schema: JsonSchema, key: string, build: () => fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  let byKey = cache.get(schema);
  if (!byKey) cache.set(schema, (byKey = new Map()));
  const found = byKey.get(key);
  if (found) return found;
  const built = build();
  byKey.set(key, built);
  return built;
}

function valid(schema: JsonSchema, scope: SchemaScope, depth: number, property: string | undefined, cache: Cache): fc.Arbitrary<unknown> {
  if (property !== undefined) {
    const overridden = scope.override?.(property, schema);
    if (overridden) return overridden;
  }
  return memo(cache, schema, `${depth >= scope.maxDepth ? 'min' : depth}`, () => build(schema, scope, depth, cache));
}

function build(schema: JsonSchema, scope: SchemaScope, depth: number, cache: Cache): fc.Arbitrary<unknown> {
  const shallow = depth >= scope.maxDepth;
  if (typeof schema['$ref'] === 'string') {
    const target = scope.resolve(schema['$ref']);
    return fc.constant(null).chain(() => valid(target, scope, depth + 1, undefined, cache));
  }
  if ('const' in schema) return fc.constant(schema['const']);
  if (Array.isArray(schema['enum'])) return fc.constantFrom(...(schema['enum'] as unknown[]));
  const alternatives = (schema['anyOf'] ?? schema['oneOf']) as JsonSchema[] | undefined;
  if (alternatives) {
    // Deep down, prefer alternatives that do not recurse, so that generation ends.
    const leaves = alternatives.filter((alternative) => !JSON.stringify(alternative).includes('"$ref"'));
    const chosen = shallow && leaves.length > 0 ? leaves : alternatives;
    return fc.oneof(...chosen.map((alternative) => valid(alternative, scope, depth, undefined, cache)));
  }
  if (Array.isArray(schema['allOf'])) {
    const merged = Object.assign({}, ...(schema['allOf'] as JsonSchema[])) as JsonSchema;
    return valid(merged, scope, depth, undefined, cache);
  }
  const type = schema['type'];
  if (Array.isArray(type)) return fc.oneof(...(type as string[]).map((one) => valid({ ...schema, type: one }, scope, depth, undefined, cache)));
  switch (type) {
    case 'string':
      return stringValue(schema);
    case 'integer':
      return integerValue(schema);
    case 'number':
      return numberValue(schema);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return arrayValue(schema, scope, depth, shallow, cache);
    case 'object':
      return objectValue(schema, scope, depth, shallow, cache);
    default:
      // No type: any JSON value.
      return fc.jsonValue({ maxDepth: shallow ? 0 : 2 });
  }
}

function lengthBounds(schema: JsonSchema): { min: number; max: number } {
  const min = typeof schema['minLength'] === 'number' ? schema['minLength'] : 0;
  const max = typeof schema['maxLength'] === 'number' ? schema['maxLength'] : Infinity;
  return { min, max };
}

/** Code points, as JSON Schema counts string length. */
function codePoints(text: string): number {
  return [...text].length;
}

function stringValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const { min, max } = lengthBounds(schema);
  const fits = (text: string) => codePoints(text) >= min && codePoints(text) <= max;
  if (typeof schema['pattern'] === 'string') {
    const pattern = new RegExp(schema['pattern'], 'u');
    const matching = fc.stringMatching(pattern, { size: 'xsmall' });
    if (min === 0 && max === Infinity) return matching;
    // Small strings rarely reach a minimum length (a filter alone would retry forever): a string repeated still
    // matches the usual `^[class]+$` patterns; the filter drops what it does not fit.
    return matching.map((text) => (text.length === 0 || codePoints(text) >= min ? text : text.repeat(Math.ceil(min / codePoints(text))))).filter(fits);
  }
  if (schema['format'] === 'date-time') return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true }).map((date) => date.toISOString());
  if (schema['format'] === 'uuid') return fc.uuid();
  if (schema['format'] === 'email') return fc.emailAddress().filter(fits);
  if (schema['format'] === 'uri') return fc.webUrl().filter(fits);
  const capped = Math.min(max, min + 40);
  const longest = Math.min(max, Math.max(min, 5000));
  return fc.oneof(
    { weight: 6, arbitrary: fc.string({ minLength: min, maxLength: capped }) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: min, maxLength: capped }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: min, maxLength: capped }) },
    { weight: 1, arbitrary: fc.constantFrom(...ODD_STRINGS).map((odd) => odd.padEnd(min, 'x')).filter(fits) },
    { weight: 1, arbitrary: fc.constant('x'.repeat(longest)) },
  );
}

function numericBounds(schema: JsonSchema, integer: boolean): { min: number; max: number } {
  const step = integer ? 1 : Number.EPSILON;
  let min = typeof schema['minimum'] === 'number' ? schema['minimum'] : -Number.MAX_SAFE_INTEGER;
  let max = typeof schema['maximum'] === 'number' ? schema['maximum'] : Number.MAX_SAFE_INTEGER;
  if (typeof schema['exclusiveMinimum'] === 'number') min = Math.max(min, schema['exclusiveMinimum'] + step);
  if (typeof schema['exclusiveMaximum'] === 'number') max = Math.min(max, schema['exclusiveMaximum'] - step);
  if (integer) {
    min = Math.ceil(min);
    max = Math.floor(max);
  }
  return { min, max };
}

function integerValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const { min, max } = numericBounds(schema, true);
  const smallMin = Math.max(min, -1000, INT32_MIN);
  const smallMax = Math.min(max, 1000, INT32_MAX);
  const choices: fc.Arbitrary<number>[] = [fc.constantFrom(min, max)];
  if (smallMin <= smallMax) choices.push(fc.integer({ min: smallMin, max: smallMax }), fc.integer({ min: smallMin, max: smallMax }));
  // Beyond 32 bits (ids, versions up to 2^53 - 1): large values too, drawn within the bounds rather than filtered.
  if (max - min > INT32_MAX) choices.push(fc.double({ min, max, noNaN: true }).map((value) => Math.min(max, Math.max(min, Math.trunc(value)))));
  return fc.oneof(...choices);
}

function numberValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const { min, max } = numericBounds(schema, false);
  const exclusiveMin = typeof schema['exclusiveMinimum'] === 'number';
  const exclusiveMax = typeof schema['exclusiveMaximum'] === 'number';
  const low = exclusiveMin ? (schema['exclusiveMinimum'] as number) : min;
  const high = exclusiveMax ? (schema['exclusiveMaximum'] as number) : max;
  return fc.oneof(
    fc.double({ min: low, max: high, minExcluded: exclusiveMin, maxExcluded: exclusiveMax, noNaN: true, noDefaultInfinity: true }),
    integerValue(schema),
  );
}

function arrayValue(schema: JsonSchema, scope: SchemaScope, depth: number, shallow: boolean, cache: Cache): fc.Arbitrary<unknown> {
  const minLength = typeof schema['minItems'] === 'number' ? schema['minItems'] : 0;
  const maxItems = typeof schema['maxItems'] === 'number' ? schema['maxItems'] : Infinity;
  const maxLength = shallow ? minLength : Math.min(maxItems, minLength + MAX_ARRAY_EXTRA);
  const items = schema['items'] as JsonSchema | undefined;
  const item = items ? valid(items, scope, depth, undefined, cache) : fc.jsonValue({ maxDepth: 1 });
  return fc.array(item, { minLength, maxLength });
}

function objectValue(schema: JsonSchema, scope: SchemaScope, depth: number, shallow: boolean, cache: Cache): fc.Arbitrary<unknown> {
  const properties = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema['required'] ?? []) as string[]);
  // Deep down, only what is required (recursive optional parts would never end).
  const names = Object.keys(properties).filter((name) => required.has(name) || !shallow);
  const model = Object.fromEntries(names.map((name) => [name, valid(properties[name]!, scope, depth, name, cache)]));
  const fixed = fc.record(model, { requiredKeys: names.filter((name) => required.has(name)) });
  const additional = schema['additionalProperties'];
  if (typeof additional !== 'object' || additional === null || shallow) return fixed;
  const keySchema = (schema['propertyNames'] ?? { type: 'string' }) as JsonSchema;
  const key = (valid(keySchema, scope, depth, undefined, cache) as fc.Arbitrary<string>).filter((name) => !(name in properties) && name !== '__proto__');
  const extra = fc.dictionary(key, valid(additional as JsonSchema, scope, depth, undefined, cache), { maxKeys: 3 });
  return fc.tuple(fixed, extra).map(([own, more]) => ({ ...more, ...own }));
}

/** How a value was made invalid, for the failure message. */
export interface Mutation {
  readonly value: unknown;
  readonly why: string;
}

/** A place in a value with the schema that governs it. */
interface Site {
  readonly path: (string | number)[];
  readonly schema: JsonSchema;
  readonly value: unknown;
}

/**
 * Values that break `schema` in one place: a wrong type, out of range, too long or short, not the pattern,
 * not in the enum, a required key missing, an unknown key, odd unicode, very deep nesting. Made from valid
 * values, so everything else about them is right.
 */
export function invalidValue(schema: JsonSchema, scope: SchemaScope, cache: Cache = new WeakMap()): fc.Arbitrary<Mutation> {
  return fc
    .tuple(validValue(schema, scope, cache), fc.nat(), fc.nat(), fc.nat())
    .map(([value, siteChoice, kindChoice, variant]) => {
      const sites = sitesOf(schema, value, [], scope, 0);
      const site = sites[siteChoice % sites.length]!;
      const candidates = mutationsFor(site, variant);
      const [why, replacement] = candidates[kindChoice % candidates.length]!;
      return { value: replaceAt(value, site.path, replacement), why: `${why} at ${site.path.length === 0 ? '(root)' : site.path.join('.')}` };
    });
}

const REMOVE = Symbol('remove');

function resolved(schema: JsonSchema, scope: SchemaScope): JsonSchema {
  let current = schema;
  for (let hops = 0; typeof current['$ref'] === 'string' && hops < 10; hops++) current = scope.resolve(current['$ref']);
  return current;
}

/** The alternative of an anyOf/oneOf that a value was made from: its JSON type and its const properties agree. */
function branchOf(alternatives: readonly JsonSchema[], value: unknown, scope: SchemaScope): JsonSchema | undefined {
  return alternatives
    .map((alternative) => resolved(alternative, scope))
    .find((alternative) => {
      if ('const' in alternative) return alternative['const'] === value;
      if (Array.isArray(alternative['enum'])) return (alternative['enum'] as unknown[]).includes(value);
      const type = alternative['type'];
      if (type !== undefined && !(Array.isArray(type) ? type : [type]).includes(jsonType(value, type === 'integer'))) return false;
      if (type === 'object' && isPlainObject(value)) {
        const properties = (alternative['properties'] ?? {}) as Record<string, JsonSchema>;
        return Object.entries(properties).every(([name, property]) => !('const' in property) || value[name] === property['const']);
      }
      return true;
    });
}

function sitesOf(schema: JsonSchema, value: unknown, path: (string | number)[], scope: SchemaScope, depth: number): Site[] {
  const own = resolved(schema, scope);
  const alternatives = (own['anyOf'] ?? own['oneOf']) as JsonSchema[] | undefined;
  if (alternatives) {
    const branch = branchOf(alternatives, value, scope);
    return branch && depth < 12 ? sitesOf(branch, value, path, scope, depth + 1) : [{ path, schema: own, value }];
  }
  const sites: Site[] = [{ path, schema: own, value }];
  if (depth > 12) return sites;
  if (Array.isArray(value) && own['items']) {
    value.forEach((item, index) => sites.push(...sitesOf(own['items'] as JsonSchema, item, [...path, index], scope, depth + 1)));
  } else if (isPlainObject(value)) {
    const properties = (own['properties'] ?? {}) as Record<string, JsonSchema>;
    for (const [name, item] of Object.entries(value)) {
      const governing = properties[name] ?? (typeof own['additionalProperties'] === 'object' ? (own['additionalProperties'] as JsonSchema) : undefined);
      if (governing) sites.push(...sitesOf(governing, item, [...path, name], scope, depth + 1));
    }
  }
  return sites;
}

function jsonType(value: unknown, integerWanted = false): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return integerWanted && Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Nested arrays `depth` deep: past DynamoDB's 32 levels, and deep enough to test recursion limits. */
export function deeplyNested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let level = 0; level < depth; level++) value = [value];
  return value;
}

function mutationsFor(site: Site, variant: number): [string, unknown][] {
  const { schema, value } = site;
  const type = jsonType(value);
  const wrongTypes: [string, unknown][] = (
    [
      ['a string', 'not-the-right-type'],
      ['a number', 12345],
      ['a fraction', 1.5],
      ['a boolean', true],
      ['null', null],
      ['an array', ['x']],
      ['an object', { unexpected: 1 }],
    ] as [string, unknown][]
  ).filter(([, replacement]) => jsonType(replacement) !== type && !(type === 'number' && typeof replacement === 'number'));
  const pickedWrong = wrongTypes[variant % wrongTypes.length]!;
  const options: [string, unknown][] = [[`wrong type (${pickedWrong[0]} instead of ${type})`, pickedWrong[1]]];
  if (Array.isArray(schema['enum']) || 'const' in schema) options.push(['a value outside the enum', typeof value === 'string' ? `${value}-not-allowed` : 'not-allowed']);
  if (typeof value === 'string') {
    if (typeof schema['maxLength'] === 'number') options.push(['longer than maxLength', 'x'.repeat(schema['maxLength'] + 1)]);
    if (typeof schema['minLength'] === 'number' && schema['minLength'] > 0) options.push(['shorter than minLength', '']);
    if (typeof schema['pattern'] === 'string') options.push(['not matching the pattern', ['', ' ', '!!', `${value} `, 'ü', '/..', '\u0000'][variant % 7]]);
    options.push(['odd unicode', ODD_STRINGS[variant % ODD_STRINGS.length]]);
    options.push(['a huge string (100 KiB)', 'y'.repeat(100 * 1024)]);
  }
  if (typeof value === 'number') {
    if (typeof schema['maximum'] === 'number') options.push(['above maximum', schema['maximum'] + 1]);
    if (typeof schema['minimum'] === 'number') options.push(['below minimum', schema['minimum'] - 1]);
    if (typeof schema['exclusiveMinimum'] === 'number') options.push(['at exclusiveMinimum', schema['exclusiveMinimum']]);
    if (schema['type'] === 'integer') options.push(['not an integer', value + 0.5]);
    options.push(['an unsafe integer', 2 ** 53 + 2], ['a huge number', 1e308], ['a negative number', -1]);
  }
  if (Array.isArray(value)) {
    if (typeof schema['maxItems'] === 'number') options.push(['more than maxItems', Array.from({ length: schema['maxItems'] + 1 }, (_, index) => value[index % Math.max(1, value.length)] ?? 'x')]);
    if (typeof schema['minItems'] === 'number' && schema['minItems'] > 0) options.push(['fewer than minItems', []]);
  }
  if (isPlainObject(value)) {
    const required = (schema['required'] ?? []) as string[];
    const missing = required[variant % Math.max(1, required.length)];
    if (missing !== undefined && missing in value) options.push([`required '${missing}' missing`, without(value, missing)]);
    if (schema['additionalProperties'] === false) options.push(['an unknown key', { ...value, fuzz_unknown_key: 'x' }]);
    options.push(['a key named __proto__', JSON.parse(`{"__proto__": {"polluted": true}, ${JSON.stringify(value).slice(1, -1) || '"k": 1'}}`) as unknown]);
  }
  // Where any JSON goes (parameters, metadata): nesting deeper than stores and validators expect.
  if (schema['type'] === undefined || schema['additionalProperties'] !== undefined) options.push(['nested 40 deep', deeplyNested(40)], ['nested 3000 deep', deeplyNested(3000)]);
  if (site.path.length > 0) options.push(['removed', REMOVE]);
  return options;
}

function without(object: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...object };
  delete copy[key];
  return copy;
}

function replaceAt(root: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement === REMOVE ? undefined : replacement;
  const [head, ...rest] = path;
  if (Array.isArray(root)) {
    const copy = [...root];
    if (rest.length === 0 && replacement === REMOVE) copy.splice(head as number, 1);
    else copy[head as number] = replaceAt(root[head as number], rest, replacement);
    return copy;
  }
  const object = root as Record<string, unknown>;
  if (rest.length === 0 && replacement === REMOVE) return without(object, head as string);
  return { ...object, [head as string]: replaceAt(object[head as string], rest, replacement) };
}
