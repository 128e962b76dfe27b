import { InvalidArgumentError } from '@commander-js/extra-typings';

/** An option value that must be a whole number of at least 1 (commander reports the bad value, exit 2). */
export function positiveInteger(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(number) || number < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return number;
}

/** An option value that must be a JSON object. */
export function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('expected a JSON object, like {"team":"payments"}');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidArgumentError('expected a JSON object, like {"team":"payments"}');
  return parsed as Record<string, unknown>;
}

/** An option value that must be an ISO 8601 date-time with a time zone. */
export function isoTime(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('expected an ISO 8601 date-time with a time zone, like 2026-11-24T09:00:00Z');
  }
  return value;
}

/** A repeatable option's values, in the order given. */
export function collect(value: string, previous: readonly string[] = []): string[] {
  return [...previous, value];
}
