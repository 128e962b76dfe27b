import fc from 'fast-check';
import type { OpenApiDocument } from '../../functions/http/openapi.ts';
import { invalidValue, ODD_STRINGS, validValue, type JsonSchema, type SchemaScope } from './fuzz-arbitraries.ts';
import type { FuzzRequest } from './fuzz-oracle.ts';

/**
 * Requests generated from the OpenAPI document, per operation: valid ones (path, query, headers and body
 * as documented, with ids that exist mixed with ids that do not) and invalid ones (one thing wrong each:
 * a body field, a query value, an undeclared query parameter, a path parameter with odd characters,
 * malformed JSON, a wrong content type, a bad header or credential, a body or URL over the limits).
 */

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly required: boolean;
  readonly schema: JsonSchema;
}

export interface Operation {
  readonly operationId: string;
  readonly method: string;
  readonly template: string;
  readonly parameters: readonly Parameter[];
  readonly body?: JsonSchema;
}

export function operationsOf(document: OpenApiDocument): Operation[] {
  return Object.entries(document.paths).flatMap(([template, item]) =>
    Object.entries(item).map(([method, raw]) => {
      const operation = raw as { operationId: string; parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } };
      const body = operation.requestBody?.content['application/json']?.schema;
      return { operationId: operation.operationId, method: method.toUpperCase(), template, parameters: operation.parameters ?? [], ...(body ? { body } : {}) };
    }),
  );
}

export interface RequestContext {
  readonly scope: SchemaScope;
  /** Ids that exist, by path parameter name (workflow_id, execution_id, name, key_id). */
  readonly existing: Readonly<Record<string, readonly string[]>>;
  /** Fixed words of every path: a parameter spelled like one would reach another route. */
  readonly literals: ReadonlySet<string>;
}

export function literalSegments(document: OpenApiDocument): Set<string> {
  return new Set(Object.keys(document.paths).flatMap((template) => template.split('/').filter((segment) => segment !== '' && !segment.startsWith('{'))));
}

/** Path-segment encoding that survives lone surrogates, and never yields a dot segment the URL parser would remove. */
function segment(value: string, literals: ReadonlySet<string>): string {
  const safe = literals.has(value) ? `${value}-x` : value;
  const encoded = encodeURIComponent(wellFormed(safe));
  return encoded === '.' || encoded === '..' ? `${encoded}x` : encoded;
}

/** Lone surrogates become U+FFFD (String.prototype.toWellFormed, which the ES2023 lib does not declare). */
function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function queryString(entries: readonly (readonly [string, string])[]): string {
  if (entries.length === 0) return '';
  return `?${entries.map(([name, value]) => `${encodeURIComponent(wellFormed(name))}=${encodeURIComponent(wellFormed(value))}`).join('&')}`;
}

/** Header values must be ByteStrings without CR, LF or NUL. */
function headerSafe(text: string): string {
  return text.replace(/[^\u0020-\u007e\u0080-\u00ff\t]/g, '?');
}

const JSON_TYPE = { 'content-type': 'application/json' } as const;

/** Every kind of request for one operation, valid ones weighted most. */
export function requestArbitrary(operation: Operation, context: RequestContext): fc.Arbitrary<FuzzRequest> {
  const { scope, existing, literals } = context;
  const pathParameters = operation.parameters.filter((parameter) => parameter.in === 'path');
  const queryParameters = operation.parameters.filter((parameter) => parameter.in === 'query');
  const headerNames = new Set(operation.parameters.filter((parameter) => parameter.in === 'header').map((parameter) => parameter.name.toLowerCase()));

  /** Ids that exist, mixed with generated ones (which mostly name nothing). */
  const pooledValue = (parameter: Parameter): fc.Arbitrary<string> => {
    const known = existing[parameter.name] ?? [];
    const generated = validValue(parameter.schema, scope).map(asText);
    return known.length > 0 ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: generated }) : generated;
  };
  const pathOf = (values: Readonly<Record<string, string>>, raw = false) =>
    operation.template.replace(/\{(\w+)\}/g, (_, name: string) => (raw ? values[name]! : segment(values[name]!, literals)));
  const validPathValues: fc.Arbitrary<Record<string, string>> = fc.record(Object.fromEntries(pathParameters.map((parameter) => [parameter.name, pooledValue(parameter)])));

  const validQuery: fc.Arbitrary<[string, string][]> = fc
    .tuple(...queryParameters.map((parameter) => (parameter.required ? pooledValue(parameter) : fc.option(pooledValue(parameter), { nil: undefined })).map((value) => [parameter.name, value] as const)))
    .map((entries) => entries.filter((entry): entry is readonly [string, string] => entry[1] !== undefined).map(([name, value]) => [name, value]));

  const validHeaders: fc.Arbitrary<Record<string, string>> = fc
    .record(
      {
        'x-user-id': fc.string({ minLength: 1, maxLength: 40 }).map((text) => headerSafe(text).trim() || 'fuzzer'),
        ...(headerNames.has('if-match') ? { 'if-match': fc.constantFrom('*', '"1"', '"2"', 'W/"1"', '3') } : {}),
        ...(headerNames.has('idempotency-key') ? { 'idempotency-key': fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme-ascii' }).map((text) => text.trim() || 'key') } : {}),
      },
      { requiredKeys: [] },
    )
    .map((headers) => Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined)));

  const validBody: fc.Arbitrary<string | undefined> = operation.body ? validValue(operation.body, scope).map((value) => JSON.stringify(value)) : fc.constant(undefined);

  const make = (kind: string, values: Record<string, string>, query: readonly (readonly [string, string])[], headers: Record<string, string>, body: string | undefined, rawPath = false): FuzzRequest => ({
    operationId: operation.operationId,
    method: operation.method,
    path: pathOf(values, rawPath),
    query: queryString(query),
    headers: body === undefined ? headers : { ...JSON_TYPE, ...headers },
    ...(body === undefined ? {} : { body }),
    kind,
  });

  const valid = fc.tuple(validPathValues, validQuery, validHeaders, validBody).map(([values, query, headers, body]) => make('valid', values, query, headers, body));
  const kinds: fc.WeightedArbitrary<FuzzRequest>[] = [{ weight: 10, arbitrary: valid }];

  if (operation.body) {
    const body = operation.body;
    kinds.push({
      weight: 8,
      arbitrary: fc.tuple(validPathValues, validQuery, invalidValue(body, scope)).map(([values, query, mutation]) => make(`body: ${mutation.why}`, values, query, {}, mutation.value === undefined ? '' : JSON.stringify(mutation.value))),
    });
    kinds.push({
      weight: 2,
      arbitrary: fc.tuple(validPathValues, fc.constantFrom(...MALFORMED_BODIES)).map(([values, text]) => make(`malformed JSON ${JSON.stringify(truncated(text))}`, values, [], {}, text)),
    });
    kinds.push({
      weight: 2,
      arbitrary: fc.tuple(validPathValues, validBody, fc.constantFrom(...CONTENT_TYPES)).map(([values, text, contentType]) => {
        const request = make(`content-type ${JSON.stringify(contentType)}`, values, [], {}, text);
        const headers: Record<string, string> = { ...request.headers };
        if (contentType === undefined) delete headers['content-type'];
        else headers['content-type'] = contentType;
        return { ...request, headers };
      }),
    });
    kinds.push({
      weight: 1,
      arbitrary: validPathValues.map((values) => {
        const request = make('no body, no content type', values, [], {}, undefined);
        return request;
      }),
    });
  }

  if (queryParameters.length > 0) {
    const badQuery = fc.oneof(
      ...queryParameters.map((parameter) =>
        fc.tuple(fc.constant(parameter.name), fc.oneof(fc.constantFrom(...QUERY_VALUES), invalidValue(parameter.schema, scope).map((mutation) => (mutation.value === undefined ? '' : asText(mutation.value))))),
      ),
    );
    kinds.push({
      weight: 4,
      arbitrary: fc.tuple(validPathValues, validQuery, badQuery).map(([values, query, [parameter, text]]) =>
        make(`query ${parameter}=${truncated(JSON.stringify(text))}`, values, [...query.filter(([name]) => name !== parameter), [parameter, text]], {}, undefined),
      ),
    });
    kinds.push({
      weight: 1,
      arbitrary: fc.tuple(validPathValues, validQuery, fc.constantFrom(...queryParameters)).map(([values, query, parameter]) => {
        const first = query.find(([name]) => name === parameter.name)?.[1] ?? '1';
        return make(`query ${parameter.name} twice`, values, [...query, [parameter.name, first], [parameter.name, 'second']], {}, undefined);
      }),
    });
    const required = queryParameters.filter((parameter) => parameter.required);
    if (required.length > 0) {
      kinds.push({
        weight: 1,
        arbitrary: fc.tuple(validPathValues, validQuery, fc.constantFrom(...required)).map(([values, query, parameter]) => make(`query ${parameter.name} missing`, values, query.filter(([name]) => name !== parameter.name), {}, undefined)),
      });
    }
  }
  kinds.push({
    weight: 2,
    arbitrary: fc
      .tuple(validPathValues, validQuery, validBody, fc.constantFrom('stauts', 'verbose', 'page', 'limit', 'q', 'tenant', 'next_token', '__proto__', 'x'.repeat(300), '😀', ''), fc.constantFrom('1', '', 'true', '😀'))
      .map(([values, query, body, name, value]) => {
        const declared = queryParameters.some((parameter) => parameter.name === name);
        const unknown = declared ? `${name}_unknown` : name;
        return make(`undeclared query parameter ${JSON.stringify(truncated(unknown))}`, values, [...query, [unknown, value]], {}, body);
      }),
  });

  if (pathParameters.length > 0) {
    kinds.push({
      weight: 4,
      arbitrary: fc
        .tuple(validPathValues, fc.constantFrom(...pathParameters), fc.oneof(fc.constantFrom(...ODD_PATH_VALUES), fc.constantFrom(...ODD_STRINGS), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 })), validQuery, validBody)
        .map(([values, parameter, odd, query, body]) => make(`path ${parameter.name}=${truncated(JSON.stringify(odd))}`, { ...values, [parameter.name]: odd }, query, {}, body)),
    });
    kinds.push({
      weight: 2,
      arbitrary: fc
        .tuple(validPathValues, fc.constantFrom(...pathParameters), fc.constantFrom(...RAW_PATH_VALUES), validBody)
        .map(([values, parameter, raw, body]) => {
          const encoded = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, name === parameter.name ? raw : segment(value, literals)]));
          return make(`raw path ${parameter.name}=${JSON.stringify(raw)}`, encoded, [], {}, body, true);
        }),
    });
  }

  kinds.push({
    weight: 2,
    arbitrary: fc.tuple(validPathValues, validQuery, validBody, fc.constantFrom(...headerMutations(headerNames))).map(([values, query, body, [why, headers]]) => make(why, values, query, headers, body)),
  });
  kinds.push({
    weight: 1,
    arbitrary: fc.tuple(validPathValues, validQuery, validBody, fc.constantFrom(...CREDENTIALS)).map(([values, query, body, [why, headers]]) => make(why, values, query, headers, body)),
  });
  return fc.oneof(...kinds);
}

/** Requests over the server's limits, a few per run: a URL past the header limit, a body past 1 MiB, deep JSON. */
export function limitRequests(operation: Operation, context: RequestContext): FuzzRequest[] {
  const pathValues = Object.fromEntries(operation.parameters.filter((parameter) => parameter.in === 'path').map((parameter) => [parameter.name, context.existing[parameter.name]?.[0] ?? 'fuzz-none']));
  const path = operation.template.replace(/\{(\w+)\}/g, (_, name: string) => segment(pathValues[name]!, context.literals));
  const base = { operationId: operation.operationId, method: operation.method, path, query: '', headers: {} };
  const requests: FuzzRequest[] = [
    { ...base, query: `?${'q'.repeat(5)}=${'x'.repeat(20_000)}`, kind: 'URL past the 16 KiB header limit' },
    { ...base, headers: { 'x-user-id': 'u'.repeat(300) }, kind: 'X-User-ID over 256 characters' },
  ];
  if (operation.body) {
    requests.push(
      { ...base, headers: JSON_TYPE, body: JSON.stringify({ padding: 'p'.repeat(1024 * 1024 + 10) }), kind: 'body over 1 MiB' },
      { ...base, headers: JSON_TYPE, body: `${'['.repeat(100_000)}${']'.repeat(100_000)}`, kind: 'JSON nested 100000 deep' },
      { ...base, headers: JSON_TYPE, body: `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`, kind: 'JSON nested 5000 deep' },
    );
  }
  if (operation.parameters.some((parameter) => parameter.in === 'path')) {
    requests.push({ ...base, path: operation.template.replace(/\{(\w+)\}/g, () => 'i'.repeat(10_000)), kind: 'path parameter of 10000 characters' });
  }
  return requests;
}

function truncated(text: string): string {
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

const MALFORMED_BODIES: readonly string[] = [
  '',
  ' ',
  '{',
  '{"name":',
  '[1,2',
  '{"a":1}}',
  "{'name':'x'}",
  '{name: 1}',
  'nul',
  'undefined',
  'NaN',
  '\ufeff{}',
  '{"a":1,}',
  '{"a":"\\x41"}',
  '{"a":"\u0001"}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  'null',
  '[]',
  '"a string"',
  '42',
  'true',
  '{}',
  '{"a":1e999}',
  '\u0000',
  '{"a":"\ud800"}',
];

const CONTENT_TYPES: readonly (string | undefined)[] = [
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'APPLICATION/JSON',
  'application/json; charset=utf-16',
  'application/vnd.api+json',
  'application/jsonx',
  'json',
  '',
];

const QUERY_VALUES: readonly string[] = ['', ' ', 'abc', '-1', '0', '1.5', '1e3', '0x10', '101', '9007199254740993', 'true', 'null', '[]', '{}', '%', '😀', '\u0000', 'x'.repeat(3000), '2026-13-45T99:99:99Z', 'not-a-token'];

/** Path parameter values that stay one segment once encoded. */
const ODD_PATH_VALUES: readonly string[] = [' ', 'a b', 'a/b', '..%2F', 'x'.repeat(129), 'x'.repeat(2000), '%', '%00', '?', '#', ';', ':', '@', '+', '=', '&', 'ü', '0', '-', '_', 'null', 'undefined', '{workflow_id}', 'UPPER', 'does-not-exist-0000'];

/** Path segments sent as they are (not encoded): invalid percent-encodings and encoded separators. */
const RAW_PATH_VALUES: readonly string[] = ['%FF', '%C0%AF', '%E0%80%80', '%', '%zz', '%00', '%2F', '%2f..%2f', '%5C', '%25', '%0A', '%20', 'a%2Fb', '%ED%A0%80', ';x=1', '..;', '~'];

function headerMutations(headerNames: ReadonlySet<string>): [string, Record<string, string>][] {
  const mutations: [string, Record<string, string>][] = [
    ['X-User-ID of 257 characters', { 'x-user-id': 'u'.repeat(257) }],
    ['X-User-ID blank', { 'x-user-id': '   ' }],
    ['X-User-ID with latin-1 characters', { 'x-user-id': 'J\u00f6rg \u00ff' }],
    ['Accept text/html', { accept: 'text/html' }],
  ];
  if (headerNames.has('if-match')) {
    mutations.push(['If-Match garbage', { 'if-match': 'garbage' }], ['If-Match of another revision', { 'if-match': '"987654"' }], ['If-Match empty', { 'if-match': '' }], ['If-Match huge number', { 'if-match': `"${'9'.repeat(40)}"` }]);
  }
  if (headerNames.has('idempotency-key')) {
    mutations.push(['Idempotency-Key blank', { 'idempotency-key': ' ' }], ['Idempotency-Key of 256 characters', { 'idempotency-key': 'k'.repeat(256) }]);
  }
  return mutations;
}

/** Credentials that do not verify: 401 wherever a credential is checked. */
const CREDENTIALS: readonly [string, Record<string, string>][] = [
  ['X-API-Key that does not exist', { 'x-api-key': 'oak_0123456789abcdef_notarealsecret' }],
  ['X-API-Key garbage', { 'x-api-key': 'garbage' }],
  ['Authorization Bearer not a JWT', { authorization: 'Bearer not-a-jwt' }],
  ['Authorization Basic', { authorization: 'Basic dXNlcjpwYXNz' }],
  ['Authorization and X-API-Key both', { authorization: 'Bearer x.y.z', 'x-api-key': 'k' }],
];
