import {
  AccessDeniedException,
  BedrockRuntimeClient,
  InvokeModelCommand,
  ModelTimeoutException,
  ServiceQuotaExceededException,
  ThrottlingException,
  type InvokeModelCommandOutput,
} from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createBedrockModelInvoker } from '../../../../adapters/aws/bedrock-model-invoker.ts';

/** Bedrock has no emulator: the requests the invoker sends, and what it makes of the answers, are checked on an SDK mock. */
const bedrock = mockClient(BedrockRuntimeClient);
afterEach(() => bedrock.reset());

const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
const request = {
  ModelId: MODEL,
  Body: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 4096, temperature: 0, system: 'You design workflows.', messages: [{ role: 'user', content: 'Goal: x' }] },
};
const invoker = () => createBedrockModelInvoker({ client: new BedrockRuntimeClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }) });
const body = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value)) as InvokeModelCommandOutput['body'];
const signal = () => new AbortController().signal;

describe('the Bedrock model invoker', () => {
  it('sends the Messages body as JSON to InvokeModel for the request\'s model, and answers the Messages response', async () => {
    bedrock.on(InvokeModelCommand).resolves({
      contentType: 'application/json',
      body: body({ id: 'msg-1', type: 'message', role: 'assistant', model: 'claude', content: [{ type: 'text', text: '{"workflow": {}}' }], stop_reason: 'end_turn', usage: { input_tokens: 812, output_tokens: 64 } }),
    });
    const answer = await invoker()(request, signal());
    expect(answer).toEqual({
      ContentType: 'application/json',
      Body: { id: 'msg-1', type: 'message', role: 'assistant', model: 'claude', content: [{ type: 'text', text: '{"workflow": {}}' }], stop_reason: 'end_turn', usage: { input_tokens: 812, output_tokens: 64 } },
    });
    const [sent] = bedrock.commandCalls(InvokeModelCommand).map((call) => call.args[0].input);
    expect(sent).toMatchObject({ modelId: MODEL, contentType: 'application/json', accept: 'application/json' });
    expect(JSON.parse(new TextDecoder().decode(sent!.body as Uint8Array))).toEqual(request.Body);
  });

  it('keeps only the text blocks of an answer', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: body({ content: [{ type: 'thinking', thinking: '...' }, { type: 'text', text: 'plan' }], usage: { input_tokens: 1, output_tokens: 2 } }) });
    const answer = await invoker()(request, signal());
    expect(answer.Body).toMatchObject({ content: [{ type: 'text', text: 'plan' }], model: MODEL, stop_reason: 'end_turn' });
  });

  it.each([
    ['ThrottlingException', new ThrottlingException({ message: 'Too many requests, please wait before trying again.', $metadata: {} })],
    ['ServiceQuotaExceededException', new ServiceQuotaExceededException({ message: 'Too many tokens per minute', $metadata: {} })],
  ])('turns %s into Bedrock.ThrottlingException, saying it is the quota and to try again', async (_name, exception) => {
    bedrock.on(InvokeModelCommand).rejects(exception);
    const error = (await invoker()(request, signal()).catch((caught: unknown) => caught)) as Error;
    expect(error.name).toBe('Bedrock.ThrottlingException');
    expect(error.message).toContain(`Bedrock throttled the call to ${MODEL}`);
    expect(error.message).toMatch(/try again shortly, or ask for a higher quota/);
    expect(error.message).toContain(exception.message);
  });

  it("names other failures as Step Functions names Bedrock's errors, with what to do about access", async () => {
    bedrock.on(InvokeModelCommand).rejectsOnce(new AccessDeniedException({ message: "You don't have access to the model", $metadata: {} })).rejectsOnce(new ModelTimeoutException({ message: 'slow', $metadata: {} })).rejectsOnce(new Error('getaddrinfo ENOTFOUND'));
    const call = () => invoker()(request, signal()).catch((caught: unknown) => caught as Error);
    expect(await call()).toMatchObject({ name: 'Bedrock.AccessDeniedException', message: expect.stringMatching(/Model access.*bedrock:InvokeModel/) });
    expect(await call()).toMatchObject({ name: 'Bedrock.ModelTimeoutException', message: expect.stringContaining('slow') });
    expect(await call()).toMatchObject({ name: 'Bedrock.ServiceUnavailableException', message: expect.stringContaining('ENOTFOUND') });
  });

  it('refuses an answer that is not a Messages response, quoting it', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: body('<html>oops</html>') });
    await expect(invoker()(request, signal())).rejects.toMatchObject({ name: 'Bedrock.ModelErrorException', message: expect.stringContaining('<html>oops</html>') });
  });

  it('lets a cancellation by its caller through as it is, not as a failure of the model', async () => {
    const controller = new AbortController();
    bedrock.on(InvokeModelCommand).callsFake(async () => {
      controller.abort();
      throw Object.assign(new Error('Request aborted'), { name: 'AbortError' });
    });
    await expect(invoker()(request, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });
});
