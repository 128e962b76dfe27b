import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local/runtime.ts';
import { MAX_BODY_BYTES } from '../../functions/middleware/http-handler.ts';
import { startTestApi } from '../support/api.ts';

/**
 * An oversized upload always gets its 413, never a connection reset: the local server reads the rest of the
 * body (and throws it away) before it answers and closes, and with `Expect: 100-continue` it answers on the
 * Content-Length without asking for the body at all.
 */

let runtime: LocalRuntime;
beforeAll(async () => {
  ({ runtime } = await startTestApi());
});
afterAll(() => runtime.close());

const MB = 1024 * 1024;
const SIZES = [Math.round(1.1 * MB), 2 * MB, 8 * MB];
const ROUNDS = 5;

interface RawReply {
  readonly status: number;
  readonly body: string;
  readonly continued: boolean;
}

/** A POST with node:http, writing `body` in chunks; `expectContinue` holds the body until a 100 Continue. */
function post(path: string, body: Buffer, options: { expectContinue?: boolean; chunked?: boolean; paced?: boolean } = {}): Promise<RawReply> {
  const { port } = new URL(runtime.url);
  return new Promise((resolve, reject) => {
    let continued = false;
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(options.chunked ? {} : { 'content-length': String(body.length) }), ...(options.expectContinue ? { expect: '100-continue' } : {}) };
    const req = request({ host: '127.0.0.1', port: Number(port), path, method: 'POST', headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), continued }));
      response.on('error', reject);
    });
    req.on('error', reject);
    const write = () => {
      if (!options.paced) {
        for (let offset = 0; offset < body.length; offset += 64 * 1024) req.write(body.subarray(offset, offset + 64 * 1024));
        req.end();
        return;
      }
      // A slow client: still sending, a millisecond per 64 KiB, long after the server has seen the headers.
      let offset = 0;
      const next = () => {
        if (req.destroyed) return;
        if (offset >= body.length) {
          req.end();
          return;
        }
        req.write(body.subarray(offset, offset + 64 * 1024));
        offset += 64 * 1024;
        setTimeout(next, 1);
      };
      next();
    };
    if (options.expectContinue) {
      req.on('continue', () => {
        continued = true;
        write();
      });
      // Headers only: the body goes after a 100 Continue, if one comes.
      req.flushHeaders();
    } else {
      write();
    }
  });
}

const oversized = (bytes: number) => Buffer.from(`{"name":"${'x'.repeat(bytes)}"}`);

describe('an oversized body', () => {
  it.each(SIZES)('of %i bytes sent with fetch gets 413 PAYLOAD_TOO_LARGE every time', async (bytes) => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const reply = await fetch(`${runtime.url}/workflows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: oversized(bytes) });
      expect(reply.status, `round ${round}`).toBe(413);
      expect(((await reply.json()) as { error_code: string }).error_code).toBe('PAYLOAD_TOO_LARGE');
    }
  });

  it.each(SIZES)('of %i bytes written in chunks with node:http, with and without Content-Length, gets 413 every time', async (bytes) => {
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const chunked of [false, true]) {
        const reply = await post('/workflows', oversized(bytes), { chunked });
        expect(reply.status, `round ${round}, chunked ${chunked}`).toBe(413);
        expect(JSON.parse(reply.body)).toMatchObject({ error_code: 'PAYLOAD_TOO_LARGE', details: [{ field: '(body)', message: `at most ${MAX_BODY_BYTES} bytes` }] });
      }
    }
  });

  it.each(SIZES)('of %i bytes from a slow client, still sending when the server knows it is too large, gets 413, not a reset', async (bytes) => {
    for (const chunked of [false, true]) {
      const reply = await post('/workflows', oversized(bytes), { paced: true, chunked });
      expect(reply.status, `chunked ${chunked}`).toBe(413);
    }
  });

  it.each(SIZES)('of %i bytes announced with Expect: 100-continue gets 413 without being asked for', async (bytes) => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const reply = await post('/workflows', oversized(bytes), { expectContinue: true });
      expect(reply.status, `round ${round}`).toBe(413);
      expect(reply.continued, 'no 100 Continue').toBe(false);
    }
  });
});

describe('Expect: 100-continue within the limit', () => {
  it('is asked for its body and handled as usual', async () => {
    const body = Buffer.from(JSON.stringify({ name: 'continued', actions: [{ action_id: 'a', action_type: 'notification', config: { message: 'hi' } }] }));
    const reply = await post('/workflows', body, { expectContinue: true });
    expect(reply.continued).toBe(true);
    expect(reply.status).toBe(201);
  });

  it('is refused before its body is asked for when the route does not exist', async () => {
    const reply = await post('/nowhere', Buffer.from('{}'), { expectContinue: true });
    expect([reply.status, reply.continued]).toEqual([404, false]);
  });
});
