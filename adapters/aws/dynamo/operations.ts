import { ValidationError } from '../../../core/errors.ts';
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
 * Reads a cursor made by encodeCursor. ValidationError (field `next_token`) when the token is not
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

/** The ValidationError for a cursor the store cannot use, with the reason a client can act on. */
export function invalidCursor(message = INVALID_CURSOR_MESSAGE): ValidationError {
  return new ValidationError([{ field: 'next_token', message }]);
}

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
