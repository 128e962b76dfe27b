import { SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { TaskTokens } from '../../../core/execution/held-calls.ts';
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
    try {
      // The callback state discards its result (ResultPath null): the output only has to be JSON.
      await this.client.send(new SendTaskSuccessCommand({ taskToken, output: '{}' }));
    } catch (error) {
      if (GONE.has(sdkErrorName(error))) return;
      throw translateStepFunctionsError(error, 'resuming a parked service call');
    }
  }
}
