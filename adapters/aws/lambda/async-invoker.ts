import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DependencyUnavailableError } from '../../../core/errors.ts';

/**
 * Invokes a Lambda function asynchronously (InvocationType Event): Lambda queues the event, answers 202 at
 * once and retries the function twice if it fails. The action runner hands released gated calls to itself this
 * way (ADR 0016), so the producer whose report released the gate does not wait for its waiter's call. An
 * asynchronous event is at most 256 KB, as a state's payload is.
 */
export class LambdaAsyncInvoker {
  private readonly client: LambdaClient;
  private readonly functionName: string;

  constructor(client: LambdaClient, functionName: string) {
    this.client = client;
    this.functionName = functionName;
  }

  async invoke(payload: unknown): Promise<void> {
    let status: number | undefined;
    try {
      ({ StatusCode: status } = await this.client.send(new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(payload)) })));
    } catch (error) {
      throw new DependencyUnavailableError(`invoking ${this.functionName} asynchronously failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, [], { cause: error });
    }
    if (status !== 202) throw new DependencyUnavailableError(`invoking ${this.functionName} asynchronously answered ${status ?? 'no status'}, not 202`);
  }
}
