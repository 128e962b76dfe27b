import { OrchestratorApiError } from '../client/index.ts';

/** The exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  /** The API refused or failed a call, it could not be reached, or a watched run did not complete. */
  failure: 1,
  /** The command line or the definition is wrong: nothing was sent. */
  usage: 2,
  /** Ctrl-C while watching or tailing: the shell's convention for SIGINT. */
  interrupted: 130,
} as const;

export interface Problem {
  readonly field: string;
  readonly message: string;
}

/** A mistake on the command line (bad flag value, unknown parameter): exit 2, nothing was sent. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly details: readonly Problem[];
  constructor(message: string, details: readonly Problem[] = []) {
    super(message);
    this.details = details;
  }
}

/** A definition file the API would refuse: exit 2, with the API's error code and every problem's field path. */
export class InvalidDefinitionError extends Error {
  override readonly name = 'InvalidDefinitionError';
  readonly code: string;
  readonly status: number;
  readonly details: readonly Problem[];
  constructor(message: string, code: string, status: number, details: readonly Problem[]) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** Something the API answered that stops the command (a name two workflows share): exit 1. */
export class CommandFailedError extends Error {
  override readonly name = 'CommandFailedError';
}

/** A watched run that ended failed, cancelled or timed out: exit 1, after its failure was shown. */
export class RunFailedError extends Error {
  override readonly name = 'RunFailedError';
}

/** fetch's "fetch failed" with the socket error as its cause: the server is not there, not an API error. */
export function connectionFailure(error: unknown): string | undefined {
  if (!(error instanceof TypeError)) return undefined;
  const cause = (error as { cause?: unknown }).cause;
  if (cause === undefined) return error.message === 'fetch failed' ? 'fetch failed' : undefined;
  const code = (cause as { code?: unknown }).code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

/** The exit code for an error a command threw, after writing what went wrong to stderr. */
export function reportError(error: unknown, target: string, writeErr: (text: string) => void): number {
  const details = (problems: readonly Problem[]) => problems.map((problem) => `  ${problem.field}: ${problem.message}\n`).join('');
  if (error instanceof OrchestratorApiError) {
    const where = error.requestId ? `, request ${error.requestId}` : '';
    writeErr(`error: ${error.message} (${error.code}, HTTP ${error.status}${where})\n${details(error.details)}`);
    return EXIT.failure;
  }
  if (error instanceof UsageError) {
    writeErr(`error: ${error.message}\n${details(error.details)}`);
    return EXIT.usage;
  }
  if (error instanceof InvalidDefinitionError) {
    writeErr(`error: ${error.message} (${error.code})\n${details(error.details)}`);
    return EXIT.usage;
  }
  if (error instanceof RunFailedError || error instanceof CommandFailedError) {
    writeErr(`error: ${error.message}\n`);
    return EXIT.failure;
  }
  const unreachable = connectionFailure(error);
  if (unreachable !== undefined) {
    writeErr(`error: could not reach the orchestrator at ${target} (${unreachable}); is it running? Set ORCHESTRATOR_URL or --url\n`);
    return EXIT.failure;
  }
  writeErr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.failure;
}
