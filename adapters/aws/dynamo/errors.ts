import { ConflictError, DependencyUnavailableError } from '../../../core/errors.ts';

/** SDK errors a caller can act on become domain errors; anything else propagates unchanged (a 500). */
export function translateDynamoError(error: unknown, conflictMessage: string): unknown {
  const name = error instanceof Error ? error.name : '';
  if (name === 'ConditionalCheckFailedException') return new ConflictError(conflictMessage, [], { cause: error });
  if (
    name === 'ProvisionedThroughputExceededException' ||
    name === 'ThrottlingException' ||
    name === 'RequestLimitExceeded' ||
    name === 'ResourceNotFoundException' ||
    name === 'InternalServerError' ||
    name === 'ServiceUnavailable' ||
    isConnectionError(error)
  ) {
    return new DependencyUnavailableError(`DynamoDB is unavailable: ${error instanceof Error ? error.message : String(error)}`, [], { cause: error });
  }
  return error;
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code);
}
