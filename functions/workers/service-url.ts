import { ActionErrorName } from '../../core/errors.ts';
import type { ActionErrorNameValue } from './service-call-errors.ts';
import type { ServiceCallPayload } from './service-call.ts';

/** Why a call's URL cannot be built: the error the runner fails with, and its message. */
export interface UrlProblem {
  readonly error: ActionErrorNameValue;
  readonly message: string;
}

/**
 * The path of a call: the payload's `endpoint`, with each `{}` replaced by the matching `endpoint_values`
 * entry ("0", "1"...) percent-encoded as one path segment (statemachines/paths.ts compiles templated
 * endpoints so), so `..` and `/` in a value cannot climb out of the service's base path:
 * `/items/{}` with `../../admin` is `/items/..%2F..%2Fadmin`. A value that is `.` or `..` is refused (the URL
 * parser would still read it as a dot segment). Without `endpoint_values` (literal endpoints, and payloads of
 * state machines compiled before templated endpoints were encoded), the endpoint is taken as it is; the base
 * path check in serviceUrl still applies.
 */
export function renderEndpoint(payload: Pick<ServiceCallPayload, 'endpoint' | 'endpoint_values'>): { path: string } | UrlProblem {
  const values = payload.endpoint_values;
  if (values === undefined) return { path: payload.endpoint };
  const pieces = payload.endpoint.split('{}');
  const count = Object.keys(values).length;
  if (pieces.length - 1 !== count) {
    return { error: ActionErrorName.ServiceRejected, message: `endpoint ${JSON.stringify(payload.endpoint)} has ${pieces.length - 1} placeholders for ${count} values` };
  }
  let path = pieces[0] ?? '';
  for (let index = 1; index < pieces.length; index++) {
    const key = String(index - 1);
    if (!Object.hasOwn(values, key)) return { error: ActionErrorName.ServiceRejected, message: `endpoint ${JSON.stringify(payload.endpoint)} has no value ${key}` };
    const text = segmentText(values[key]);
    if (text === '.' || text === '..') {
      return { error: ActionErrorName.ForbiddenAddress, message: `a templated path segment of endpoint ${JSON.stringify(payload.endpoint)} is ${JSON.stringify(text)}, which would leave its place in the path` };
    }
    path += `${encodeURIComponent(text)}${pieces[index] ?? ''}`;
  }
  return { path };
}

/** A value as path text, as States.Format wrote it: strings as they are, other scalars as text, objects as JSON. */
function segmentText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  return JSON.stringify(value);
}

/**
 * The service's base URL plus the rendered endpoint; GET and DELETE carry the parameters as the query. The
 * endpoint may hold template values, so the result must stay on the base URL's origin and under its path:
 * `http://svc/api/v1` never becomes `http://svc/api/admin`.
 */
export function serviceUrl(base: string, payload: ServiceCallPayload): URL | UrlProblem {
  let baseUrl: URL;
  try {
    baseUrl = new URL(base);
  } catch {
    return { error: ActionErrorName.ServiceNotFound, message: `the URL configured for service '${payload.service}' is not a valid URL` };
  }
  if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') {
    return { error: ActionErrorName.ForbiddenAddress, message: `service '${payload.service}' has a ${baseUrl.protocol.replace(/:$/, '')} URL; only http and https are called` };
  }
  if (baseUrl.username !== '' || baseUrl.password !== '') {
    return { error: ActionErrorName.ForbiddenAddress, message: `the URL of service '${payload.service}' contains credentials; send them as headers instead` };
  }
  const rendered = renderEndpoint(payload);
  if ('error' in rendered) return rendered;
  const endpoint = rendered.path.startsWith('/') ? rendered.path : `/${rendered.path}`;
  const basePath = baseUrl.pathname.replace(/\/+$/, '');
  let target: URL;
  try {
    target = new URL(`${baseUrl.origin}${basePath}${endpoint}`);
  } catch {
    return { error: ActionErrorName.ServiceRejected, message: `endpoint ${JSON.stringify(payload.endpoint)} does not make a valid URL` };
  }
  if (target.origin !== baseUrl.origin || target.username !== '' || target.password !== '') {
    return { error: ActionErrorName.ForbiddenAddress, message: `endpoint ${JSON.stringify(payload.endpoint)} leaves the service's origin ${baseUrl.origin}` };
  }
  if (basePath !== '' && target.pathname !== basePath && !target.pathname.startsWith(`${basePath}/`)) {
    return { error: ActionErrorName.ForbiddenAddress, message: `endpoint ${JSON.stringify(payload.endpoint)} leaves the service's base path ${basePath} (${target.pathname})` };
  }
  if ((payload.method === 'GET' || payload.method === 'DELETE') && payload.parameters) appendQuery(target, payload.parameters);
  return target;
}

/**
 * Query encoding: scalars as text, arrays as repeated keys (`tag=a&tag=b`), objects as JSON; null and
 * undefined values are left out.
 */
export function appendQuery(url: URL, parameters: Readonly<Record<string, unknown>>): void {
  const text = (value: unknown): string => (typeof value === 'object' ? JSON.stringify(value) : String(value));
  for (const [key, value] of Object.entries(parameters)) {
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) {
      for (const item of value) if (item !== null && item !== undefined) url.searchParams.append(key, text(item));
    } else {
      url.searchParams.append(key, text(value));
    }
  }
}
