/**
 * What keeps credentials out of tool descriptions. Services' documents are written by their owners and read by
 * any viewer of `/tools` (and by agents, which repeat what they read): a document that shows a real token as an
 * example, a default or in prose must not pass it on. Values are recognised by the name that holds them
 * (`password`, `*_token`, `Authorization`...) and by their shape (`Bearer <token>`, `user:pass@` in a URL,
 * `api_key=...`, JWTs, well-known key prefixes). The same rules as the log redaction
 * (functions/observability/redaction.ts), restated here because core/ imports nothing outside it.
 */

export const MASK = '***';

const SENSITIVE_NAMES = new Set([
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
  'credentials',
]);
const SENSITIVE_SUFFIXES = ['_secret', '_token', '_password', '_api_key', '_apikey'];

/** `accessToken`, `Access-Token` and `access_token` alike. */
function normalise(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/-/g, '_');
}

/** Whether a field, header or parameter of this name holds a credential, whatever its case or separators. */
export function isCredentialName(name: string): boolean {
  const normalised = normalise(name);
  return SENSITIVE_NAMES.has(normalised) || SENSITIVE_SUFFIXES.some((suffix) => normalised.endsWith(suffix));
}

// A scheme followed by a token: at least 16 characters with a digit or punctuation, so that prose such as
// "Bearer authentication" is left alone.
const BEARER = /\b(bearer|basic)\s+(?=[A-Za-z0-9\-._~+/]*[0-9\-._~+/])[A-Za-z0-9\-._~+/]{16,}=*/gi;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@'"<>]+@/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*/g;
// Keys whose prefix says what they are: AWS access keys, GitHub, Slack, Stripe/OpenAI-style and this API's own keys.
const PREFIXED_KEY = /\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9_-]{16,}|sk_(?:live|test)_[A-Za-z0-9]{10,}|ork_[A-Za-z0-9_-]{10,})/g;
// `api_key=...`, `"password": "..."`, `token: ...`: the value after a sensitive key.
const KEY_VALUE = /\b([A-Za-z][\w-]{0,63})(["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s"'&,;)]+)/g;

/** `text` with every credential-shaped value masked. */
export function scrubText(text: string): string {
  return text
    .replace(URL_USERINFO, `$1${MASK}@`)
    .replace(BEARER, `$1 ${MASK}`)
    .replace(JWT, MASK)
    .replace(PREFIXED_KEY, MASK)
    .replace(KEY_VALUE, (whole: string, key: string, separator: string, value: string) => {
      if (!isCredentialName(key)) return whole;
      // `key=value` is configuration; `key: value` is often prose ("token: the caller's token"), masked only
      // when the value is quoted or looks generated (a digit, or long).
      const quoted = value.startsWith('"') || value.startsWith("'");
      if (!separator.includes('=') && !quoted && !/\d/.test(value) && value.length < 16) return whole;
      const quote = quoted ? value[0]! : '';
      return `${key}${separator}${quote}${MASK}${quote}`;
    });
}

/** Whether a string looks like a credential by its shape alone. */
export function looksLikeCredential(text: string): boolean {
  return scrubText(text) !== text;
}

/**
 * `value` (a default, a const) without credentials: undefined when it is one (a credential-shaped string);
 * objects lose the fields whose names hold credentials, and their strings are checked the same way.
 */
export function withoutCredentials(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return looksLikeCredential(value) ? undefined : value;
  if (value === null || typeof value !== 'object') return value;
  // Defaults are small; a deep one is not worth walking (and cannot loop: it came from JSON).
  if (depth > 16) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => withoutCredentials(item, depth + 1));
    return items.some((item) => item === undefined) ? undefined : items;
  }
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (isCredentialName(key)) continue;
    const clean = withoutCredentials(item, depth + 1);
    if (clean !== undefined) copy[key] = clean;
  }
  return copy;
}
