import { ConflictError, DependencyUnavailableError, NotFoundError } from '../../../core/errors.ts';

/** The SDK error's name (`StateMachineDoesNotExist`...), or '' for anything else. */
export function sdkErrorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

const NOT_FOUND = new Set(['StateMachineDoesNotExist', 'ResourceNotFound', 'ExecutionDoesNotExist']);
/** The account or the resource is in a state that refuses the request; retrying as is will not help. */
const CONFLICT = new Set(['ConflictException', 'StateMachineDeleting', 'StateMachineAlreadyExists', 'StateMachineLimitExceeded', 'ServiceQuotaExceededException']);
/** Step Functions (or KMS behind it) is busy or down: trying again later may work. */
const UNAVAILABLE = new Set([
  'ThrottlingException',
  'TooManyRequestsException',
  'ExecutionLimitExceeded',
  'KmsThrottlingException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'TimeoutError',
]);
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SDK errors a caller can act on become domain errors (NotFoundError, ConflictError,
 * DependencyUnavailableError); anything else (an invalid definition, a missing permission: bugs or
 * misconfiguration) propagates unchanged and becomes a 500.
 */
export function translateStepFunctionsError(error: unknown, what: string): unknown {
  const name = sdkErrorName(error);
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
  if (NOT_FOUND.has(name)) return new NotFoundError(message, [], { cause: error });
  if (CONFLICT.has(name)) return new ConflictError(message, [], { cause: error });
  if (UNAVAILABLE.has(name) || isServerFault(error) || isConnectionError(error)) {
    return new DependencyUnavailableError(`Step Functions is unavailable (${message})`, [], { cause: error });
  }
  return error;
}

function isServerFault(error: unknown): boolean {
  return (error as { $fault?: unknown } | undefined)?.$fault === 'server';
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && CONNECTION_CODES.has(code);
}
