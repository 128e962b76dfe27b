import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { TaskTokens } from '../../../core/execution/held-calls.ts';
import type { GateRelease } from '../../../core/execution/dependency-gates.ts';
import type { GateReleases, TaskAnswers } from '../../../core/ports.ts';
import { sdkErrorName, translateStepFunctionsError } from './errors.ts';

/** The token's execution ended (stopped, timed out, or the token is from another run): nothing to resume. */
const GONE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/** Sends a parked call's token back (SendTaskSuccess): its callback state ends and the call is made again. */
export class StepFunctionsTaskTokens implements TaskTokens {
  private readonly client: SFNClient;

  constructor(client: SFNClient) {
    this.client = client;
  }

  async resume(taskToken: string): Promise<void> {
    // The callback state discards its result (ResultPath null): the output only has to be JSON.
    await answer(this.client, taskToken, '{}', 'resuming a parked service call');
  }
}

/**
 * Answers a released dependency gate's waiting state (ADR 0016): SendTaskSuccess with the producers' outputs,
 * which become the state's result. A token whose execution is over, or that was answered already (a release
 * delivered twice by a retried report), is not an error: nobody is left waiting on it.
 */
export class StepFunctionsGateReleases implements GateReleases {
  private readonly client: SFNClient;

  constructor(client: SFNClient) {
    this.client = client;
  }

  async release(release: GateRelease): Promise<void> {
    await answer(this.client, release.token, JSON.stringify(release.outputs), 'releasing a dependency gate');
  }
}

/**
 * Answers a gated call's waiting state (ADR 0016) with the call's outcome: SendTaskSuccess with its result, or
 * SendTaskFailure with its error (Step Functions allows 256 characters of error name and 32,768 of cause).
 */
export class StepFunctionsTaskAnswers implements TaskAnswers {
  private readonly client: SFNClient;

  constructor(client: SFNClient) {
    this.client = client;
  }

  async succeed(token: string, output: unknown): Promise<void> {
    await answer(this.client, token, JSON.stringify(output ?? null), 'answering a gated call');
  }

  async fail(token: string, error: string, cause: string): Promise<void> {
    try {
      await this.client.send(new SendTaskFailureCommand({ taskToken: token, error: error.slice(0, 256), cause: cause.slice(0, 32_768) }));
    } catch (failure) {
      if (GONE.has(sdkErrorName(failure))) return;
      throw translateStepFunctionsError(failure, 'answering a gated call');
    }
  }
}

/** SendTaskSuccess, where a token nobody waits on any more is not an error. */
async function answer(client: SFNClient, taskToken: string, output: string, doing: string): Promise<void> {
  try {
    await client.send(new SendTaskSuccessCommand({ taskToken, output }));
  } catch (error) {
    if (GONE.has(sdkErrorName(error))) return;
    throw translateStepFunctionsError(error, doing);
  }
}
