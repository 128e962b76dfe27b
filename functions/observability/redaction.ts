/**
 * What every log line goes through before it is written or shipped: a bounded deep copy with credentials
 * replaced by `***`. Secrets are recognised by the key that holds them (`authorization`, `*_token`...), by their
 * shape inside any string (`Bearer <token>`, `user:pass@` in a URL, `password=...`, `"api_key": "..."`), and
 * by value (the secrets the composition root knows: its API keys, service credentials). Bounded so that a
 * huge or cyclic entry costs little: depth 8, 200 items per array or object, strings cut at 8 KiB.
 */

export const REDACTED = '***';
export const MAX_DEPTH = 8;
export const MAX_STRING_CHARS = 8 * 1024;
export const MAX_ITEMS = 200;
/** Known secret values shorter than this are not searched for in strings: they would match ordinary text. */
export const MIN_SECRET_LENGTH = 6;

/** Key names (normalised: snake_case, lower case) whose values are always credentials. */
const SENSITIVE_KEYS = new Set([
  'authorization',
  'proxy_authorization',
  'cookie',
  'set_cookie',
  'x_api_key',
  'api_key',
  'apikey',
  'password',
  'passwd',
  'secret',
  'client_secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'jwt',
  'private_key',
]);
const SENSITIVE_SUFFIXES = ['_secret', '_token', '_password'];
/** Query parameters of signed URLs (S3 presigned, SAS): credentials although their names are not. */
const SIGNED_URL_PARAMETERS = new Set(['signature', 'sig', 'x_amz_signature', 'x_amz_credential']);

/** `accessToken`, `Access-Token` and `access_token` alike: snake_case, lower case. */
function normaliseKey(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/-/g, '_');
}

/** Whether a field (or header, or parameter) of this name holds a credential, whatever its case or separators. */
export function isSensitiveKey(key: string): boolean {
  const normalised = normaliseKey(key);
  return SENSITIVE_KEYS.has(normalised) || SENSITIVE_SUFFIXES.some((suffix) => normalised.endsWith(suffix));
}

// `Bearer <token>` (RFC 6750 token68 characters).
const BEARER = /\b(bearer)\s+[A-Za-z0-9\-._~+/]+=*/gi;
// `scheme://userinfo@`: the userinfo stops before any `/`, `?`, `#` or `@`, so a path's `@` is not taken for it.
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@'"<>]+@/gi;
// `key=value`, `key: value`, `"key": "value"`, `key='value'`, and JSON encoded within JSON (`\"key\":\"value\"`): the key and
// separator are found first, and the value is read (VALUE) only after a sensitive key, so that the value of
// another key (`url=https://host/?token=...`) is still searched for keys.
const KEY_AND_SEPARATOR = /\b([A-Za-z][\w-]{0,63})((?:\\?["'])?\s*[:=]\s*)/g;
const VALUE = /\\"(?:[^\\]|\\(?!"))*?(?:\\"|$)|"(?:[^"\\]|\\.)*(?:"|$)|'[^']*(?:'|$)|[^\s"'&,;\\]+/y;

/** `text` with the value after every sensitive key masked. */
function maskKeyValues(text: string): string {
  let out = '';
  let copied = 0;
  const keys = new RegExp(KEY_AND_SEPARATOR.source, 'g');
  for (let found = keys.exec(text); found !== null; found = keys.exec(text)) {
    const key = found[1]!;
    if (!isSensitiveKey(key) && !SIGNED_URL_PARAMETERS.has(normaliseKey(key))) continue;
    const start = found.index + found[0].length;
    VALUE.lastIndex = start;
    const value = VALUE.exec(text)?.[0];
    if (value === undefined || value === '') continue;
    out += text.slice(copied, start) + maskedValue(value);
    copied = start + value.length;
    keys.lastIndex = copied;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

function maskedValue(value: string): string {
  if (value.startsWith('\\"')) return `\\"${REDACTED}\\"`;
  if (value.startsWith('"')) return `"${REDACTED}"`;
  if (value.startsWith("'")) return `'${REDACTED}'`;
  return REDACTED;
}

/** Redacts one value deeply; reusable, for a fixed set of known secret values. */
export type Redactor = (value: unknown) => unknown;

export interface RedactOptions {
  /** Secret values to scrub wherever they appear (API keys, credentials the runtime resolved). */
  readonly secrets?: readonly string[];
}

/** A redactor for a fixed set of known secrets (sorted once, longest first, so none is left half-scrubbed). */
export function createRedactor(options: RedactOptions = {}): Redactor {
  const secrets = [...new Set(options.secrets ?? [])].filter((secret) => secret.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
  const longestSecret = secrets[0]?.length ?? 0;

  const scrub = (value: string): string => {
    // Cut first (so that the work is bounded), but past the limit by the longest secret: one that straddles the
    // limit is still whole, scrubbed, and then cut.
    let text = value.length > MAX_STRING_CHARS + longestSecret ? value.slice(0, MAX_STRING_CHARS + longestSecret) : value;
    for (const secret of secrets) {
      if (text.includes(secret)) text = text.split(secret).join(REDACTED);
    }
    text = text
      .replace(URL_USERINFO, `$1${REDACTED}@`)
      .replace(BEARER, `$1 ${REDACTED}`);
    text = maskKeyValues(text);
    if (text.length > MAX_STRING_CHARS) text = `${text.slice(0, MAX_STRING_CHARS)}…[truncated from ${value.length} characters]`;
    return text;
  };

  const walk = (value: unknown, depth: number, ancestors: object[]): unknown => {
    switch (typeof value) {
      case 'string':
        return scrub(value);
      case 'number':
      case 'boolean':
      case 'undefined':
        return value;
      case 'bigint':
        return value.toString();
      case 'symbol':
      case 'function':
        return undefined;
    }
    if (value === null) return null;
    const object = value as object;
    if (depth >= MAX_DEPTH) return '[nested too deep]';
    if (ancestors.includes(object)) return '[circular]';
    if (object instanceof Date) return Number.isNaN(object.getTime()) ? 'Invalid Date' : object.toISOString();
    if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) return `[${object.byteLength} bytes]`;
    const inside = [...ancestors, object];
    if (object instanceof Error) return errorFields(object, (child) => walk(child, depth + 1, inside));
    if (Array.isArray(object) || object instanceof Set) {
      const items = Array.isArray(object) ? object : [...object];
      const copy = items.slice(0, MAX_ITEMS).map((item) => walk(item, depth + 1, inside));
      if (items.length > MAX_ITEMS) copy.push(`…[${items.length - MAX_ITEMS} more items]`);
      return copy;
    }
    const toJson = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJson === 'function') {
      try {
        return walk(toJson.call(object), depth + 1, inside);
      } catch {
        return '[unserialisable]';
      }
    }
    const entries = object instanceof Map ? [...object.entries()].map(([key, item]) => [String(key), item] as const) : Object.entries(object);
    const copy: Record<string, unknown> = {};
    for (const [key, item] of entries.slice(0, MAX_ITEMS)) {
      copy[key] = isSensitiveKey(key) && item !== undefined && item !== null && item !== '' ? REDACTED : walk(item, depth + 1, inside);
    }
    if (entries.length > MAX_ITEMS) copy['…'] = `${entries.length - MAX_ITEMS} more fields`;
    return copy;
  };

  return (value) => walk(value, 0, []);
}

/** An error as plain fields: name, message, stack, cause, and its own fields (an HTTP error's `url`...). */
function errorFields(error: Error, walk: (value: unknown) => unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = { name: error.name, message: walk(error.message) };
  for (const [key, value] of Object.entries(error)) {
    if (key === 'name' || key === 'message' || key === 'stack' || key === 'cause') continue;
    fields[key] = isSensitiveKey(key) ? REDACTED : walk(value);
  }
  if (error.stack !== undefined) fields.stack = walk(error.stack);
  if (error.cause !== undefined) fields.cause = walk(error.cause);
  return fields;
}

/** `value` deeply copied with its credentials replaced by `***` (see the module comment for what is found). */
export function redact(value: unknown, options: RedactOptions = {}): unknown {
  return createRedactor(options)(value);
}
