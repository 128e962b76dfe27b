import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A scripted OpenAI-compatible endpoint on loopback (what LLM_GATEWAY_URL names): `POST /v1/chat/completions`
 * answers `reply(body)` as the assistant's message, with the usage it gives; other paths answer what `documents`
 * holds for them (a service's API document, a fetched page), else 404. Every chat request is kept, in order.
 */

export interface ChatStubRequest<B> {
  readonly headers: IncomingHttpHeaders;
  readonly body: B;
}

export interface ChatReply {
  readonly content: string;
  readonly usage: { readonly prompt_tokens: number; readonly completion_tokens: number };
}

export interface ChatStub<B> {
  readonly url: string;
  readonly requests: ChatStubRequest<B>[];
  close(): Promise<void>;
}

export async function startChatStub<B extends { readonly model: string }>(reply: (body: B) => ChatReply, documents: Readonly<Record<string, unknown>> = {}): Promise<ChatStub<B>> {
  const requests: ChatStubRequest<B>[] = [];
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      response.setHeader('content-type', 'application/json');
      const document = documents[request.url ?? ''];
      if (document !== undefined) {
        response.end(JSON.stringify(document));
        return;
      }
      if (request.url !== '/v1/chat/completions' || request.method !== 'POST') {
        response.statusCode = 404;
        response.end('{}');
        return;
      }
      const body = JSON.parse(text) as B;
      requests.push({ headers: request.headers, body });
      const { content, usage } = reply(body);
      response.end(JSON.stringify({ id: 'chatcmpl-1', model: body.model, choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
