import * as z from 'zod';
import type { FieldIssue } from '../errors.ts';
import { JsonValue } from '../workflow/definition.ts';
import { forbiddenHostClass } from './addresses.ts';
import type { ServiceAuth } from './model.ts';
import { parseSecretRef } from './secret-ref.ts';

/**
 * What a caller sends to register a service, and the rules a registration must follow. The HTTP edge and the
 * use case both parse with this schema, so every problem is reported at once, each with its field.
 */

/**
 * Service names are what workflows put in `service_call.config.service`, and what the runner turns into a
 * `<NAME>_URL` configuration variable when a service is not registered. Letters, digits, `_`, `-`, `.`.
 */
export const SERVICE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Metadata is stored with the registration (one DynamoDB item, 400 KB) and listed with it: keep it small. */
export const MAX_METADATA_BYTES = 16 * 1024;

export const DEFAULT_HEALTH_PATH = '/health';

/** The schema-level message covers the type only: zod would give it to every check without a message of its own. */
const typeMessage = (field: string) => (issue: { code: string; input?: unknown }) =>
  issue.code === 'invalid_type' ? (issue.input === undefined ? `${field} is required` : `${field} must be a string`) : undefined;

const requiredString = (field: string) => z.string({ error: typeMessage(field) }).min(1, `${field} is required`);

const pathField = (field: string) =>
  z
    .string({ error: `${field} must be a string` })
    .max(512, `${field} must be at most 512 characters`)
    .regex(/^\/[^\s#]*$/, `${field} must be a path starting with / (no spaces or fragment)`);

/**
 * Names the registry API's own routes take under /registry/ (register, health-check...): a service so named
 * could not be read or removed at /registry/{name}, where API Gateway gives the fixed path precedence.
 * functions/routes.ts is checked against this list by a test.
 */
export const RESERVED_SERVICE_NAMES: readonly string[] = ['register', 'health-check', 'sync-peers', 'replicate', 'poll-openapi'];

export const ServiceNameSchema = requiredString('name')
  .max(128, 'name must be at most 128 characters')
  .regex(SERVICE_NAME_PATTERN, "name must start with a letter or digit and contain only letters, digits, '_', '-' or '.'")
  .refine((name) => !RESERVED_SERVICE_NAMES.includes(name), { message: `name must not be one of the registry's own paths (${RESERVED_SERVICE_NAMES.join(', ')})` });

/**
 * What the OpenAPI document says of a base URL (`format: uri`, this pattern), so that it admits no URL the server
 * refuses for its form; serviceUrlIssues has the rest (credentials, query, forbidden addresses).
 */
export const SERVICE_URL_PATTERN = new RegExp('^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#@]+(?:/[^\\s?#]*)?$');

export const ServiceUrlSchema = requiredString('url')
  .max(2048, 'url must be at most 2048 characters')
  .superRefine((url, context) => {
    const issues = serviceUrlIssues(url);
    // What the URL parser forgives (`http:/host`, spaces it would escape) is refused too, as the document says.
    if (issues.length === 0 && !SERVICE_URL_PATTERN.test(url)) issues.push({ field: 'url', message: 'must be written http(s)://host[:port][/path], like https://analysis.internal:8443' });
    for (const issue of issues) context.addIssue({ code: 'custom', message: `url ${issue.message}` });
  })
  .meta({ format: 'uri', pattern: SERVICE_URL_PATTERN.source, description: 'Base URL: http or https, no credentials, query or fragment' });

/** Instance ids: letters, digits, `.`, `_`, `-` (they become part of a DynamoDB sort key and of URLs). */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const InstanceIdSchema = z
  .string({ error: 'instance_id must be a string' })
  .regex(INSTANCE_ID_PATTERN, "instance_id must start with a letter or digit and contain only letters, digits, '_', '-' or '.' (at most 128)");

export const MAX_TAGS = 20;
/** TTL bounds: short enough for ephemeral instances that renew, long enough not to flap. */
export const MIN_TTL_SECONDS = 10;
export const MAX_TTL_SECONDS = 30 * 24 * 3600;

export const SERVICE_AUTH_TYPES = ['bearer', 'api_key', 'basic'] as const;
export const DEFAULT_API_KEY_HEADER = 'X-API-Key';

/** Headers an api_key may not go in: the HTTP client's own (framing, destination) and the runner's trace headers. */
const RESERVED_AUTH_HEADERS = new Set(['host', 'content-length', 'content-type', 'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', 'cookie', 'traceparent', 'tracestate', 'x-trace-id', 'x-request-id', 'x-workflow-execution-id']);

/**
 * `auth`: how the orchestrator authenticates to the service. `bearer` sends `Authorization: Bearer <secret>`,
 * `basic` sends `Authorization: Basic <base64 of the secret, user:password>`, `api_key` sends the secret in
 * `header` (default X-API-Key). Only the reference is stored (secret-ref.ts for its forms and the prefix rule).
 */
export const ServiceAuthSchema = z
  .strictObject({
    type: z.enum(SERVICE_AUTH_TYPES, { error: `auth.type must be one of ${SERVICE_AUTH_TYPES.join(', ')}` }),
    secret_ref: z
      .string({ error: 'auth.secret_ref must be a string' })
      .max(2048, 'auth.secret_ref must be at most 2048 characters')
      .superRefine((ref, context) => {
        const parsed = parseSecretRef(ref);
        if ('problem' in parsed) context.addIssue({ code: 'custom', message: `auth.secret_ref: ${parsed.problem}` });
      }),
    header: z
      .string({ error: 'auth.header must be a string' })
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'auth.header must be an HTTP header name (at most 128 characters)')
      .refine((header) => !RESERVED_AUTH_HEADERS.has(header.toLowerCase()), { message: 'auth.header must not be a header the HTTP client or the trace context sets' })
      .optional(),
  })
  .superRefine((auth, context) => {
    if (auth.header !== undefined && auth.type !== 'api_key') context.addIssue({ code: 'custom', path: ['header'], message: 'auth.header is for api_key only: bearer and basic use Authorization' });
  })
  .transform((auth): ServiceAuth => (auth.type === 'api_key' ? { ...auth, header: auth.header ?? DEFAULT_API_KEY_HEADER } : auth))
  .describe('How the orchestrator authenticates to the service: a reference to a secret, never the secret');

export const ServiceRegistrationInputSchema = z.strictObject({
  name: ServiceNameSchema,
  url: ServiceUrlSchema,
  instance_id: InstanceIdSchema.optional().describe('Several instances may share a name; default: derived from the URL (host, port, path)'),
  tags: z
    .array(z.string({ error: 'each tag must be a string' }).min(1, 'a tag must not be empty').max(64, 'a tag must be at most 64 characters'), { error: 'tags must be an array of strings' })
    .max(MAX_TAGS, `at most ${MAX_TAGS} tags`)
    .default([])
    .transform((tags) => [...new Set(tags)]),
  ttl_seconds: z
    .number({ error: 'ttl_seconds must be a number' })
    .int('ttl_seconds must be an integer')
    .min(MIN_TTL_SECONDS, `ttl_seconds must be at least ${MIN_TTL_SECONDS}`)
    .max(MAX_TTL_SECONDS, `ttl_seconds must be at most ${MAX_TTL_SECONDS} (30 days)`)
    .optional()
    .describe('The instance disappears this many seconds after its last registration unless registered again'),
  health_path: pathField('health_path').default(DEFAULT_HEALTH_PATH),
  openapi_path: pathField('openapi_path').optional(),
  version: z.string({ error: 'version must be a string' }).min(1, 'version must not be empty').max(64, 'version must be at most 64 characters').optional(),
  metadata: z
    .record(z.string(), JsonValue, { error: 'metadata must be an object' })
    .default({})
    .refine((metadata) => new TextEncoder().encode(JSON.stringify(metadata)).length <= MAX_METADATA_BYTES, {
      message: `metadata must be at most ${MAX_METADATA_BYTES} bytes of JSON`,
    }),
  auth: ServiceAuthSchema.optional(),
});
export type ServiceRegistrationInput = z.input<typeof ServiceRegistrationInputSchema>;
export type ServiceRegistrationFields = z.output<typeof ServiceRegistrationInputSchema>;

/**
 * Problems with a service's base URL: it must be absolute http(s), carry no credentials (send them as
 * headers), no query or fragment (endpoints are appended to it), and its host must not be an address the
 * runner refuses whatever the configuration (link-local, cloud metadata, unspecified, broadcast,
 * multicast). Host *names* are resolved and checked by the runner at call time, when the answer counts.
 */
export function serviceUrlIssues(url: string, field = 'url'): FieldIssue[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [{ field, message: 'must be an absolute http or https URL, like https://analysis.internal:8443' }];
  }
  const issues: FieldIssue[] = [];
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    issues.push({ field, message: `must use http or https, not ${parsed.protocol.replace(/:$/, '')}` });
  }
  if (parsed.username !== '' || parsed.password !== '') {
    issues.push({ field, message: 'must not contain credentials; send them as headers of the service call' });
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    issues.push({ field, message: 'must not have a query string or fragment: endpoints are appended to it' });
  }
  if (parsed.hostname === '') {
    issues.push({ field, message: 'must name a host' });
  } else {
    // The URL parser has already normalized 0xA9FEA9FE, 2852039166 and friends to dotted decimal.
    const addressClass = forbiddenHostClass(parsed.hostname);
    if (addressClass !== undefined) {
      issues.push({ field, message: `must not point at a ${addressClass} address (${parsed.hostname}): the action runner refuses to call it` });
    }
  }
  return issues;
}
