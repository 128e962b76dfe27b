import { InvalidCursorError } from '../../../core/errors.ts';
import { translateDynamoError } from './errors.ts';

/** What every store says about a cursor it cannot read: the caller sent something it was never given. */
export const INVALID_CURSOR_MESSAGE = 'next_token is not a token this API issued';

/**
 * Runs one DynamoDB operation, turning the SDK errors a caller can act on into domain errors; a failed
 * condition becomes a ConflictError with `conflictMessage`.
 */
export async function dynamoCall<Output>(operation: () => Promise<Output>, conflictMessage: string): Promise<Output> {
  try {
    return await operation();
  } catch (error) {
    throw translateDynamoError(error, conflictMessage);
  }
}

/** True for the error DynamoDB returns when a write's ConditionExpression does not hold. */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * Runs one conditional write: true when it was applied, false when its condition did not hold. Other
 * errors are translated as by dynamoCall.
 */
export async function conditionalWrite(operation: () => Promise<unknown>): Promise<boolean> {
  try {
    await operation();
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw translateDynamoError(error, '');
  }
}

/** A cursor the API hands out: the JSON of `value`, base64url-encoded (opaque to clients, safe in a URL). */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/**
 * Reads a cursor made by encodeCursor. InvalidCursorError (field `next_token`) when the token is not
 * base64url JSON or its content fails `isValid`.
 */
export function decodeCursor<Cursor>(token: string, isValid: (value: unknown) => value is Cursor): Cursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!isValid(value)) throw invalidCursor();
  return value;
}

/** The InvalidCursorError for a cursor the store cannot use, with the reason a client can act on. */
export function invalidCursor(message = INVALID_CURSOR_MESSAGE): InvalidCursorError {
  return new InvalidCursorError(message);
}

/**
 * A cursor's DynamoDB start key, checked before DynamoDB sees it: exactly the table's and the index's key
 * attributes, all strings, in the partition the query reads. Anything else would reach DynamoDB as a
 * ValidationException (a 500) or page another partition.
 */
export function startKeyOf(value: unknown, keyAttributes: readonly string[], partition: { attribute: string; value: string }): Record<string, string> {
  if (!isRecord(value)) throw invalidCursor();
  const names = Object.keys(value);
  const expected = [...new Set(keyAttributes)];
  if (names.length !== expected.length || !expected.every((name) => typeof value[name] === 'string')) throw invalidCursor();
  if (value[partition.attribute] !== partition.value) throw invalidCursor('next_token belongs to another listing; repeat the filters of the request that gave it');
  return value as Record<string, string>;
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
