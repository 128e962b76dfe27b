import { createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CursorCodec, requiredCursors } from '../../../../../adapters/aws/dynamo/cursor-codec.ts';
import { INVALID_CURSOR_MESSAGE, isRecord } from '../../../../../adapters/aws/dynamo/operations.ts';
import { InvalidCursorError } from '../../../../../core/errors.ts';
import { readLambdaConfig } from '../../../../../functions/config.ts';
import { readLocalConfig } from '../../../../../local/config.ts';

const KEY = randomBytes(32);
const codec = new CursorCodec(KEY);
const CURSOR = { i: 'by-status', p: 'T#acme?status=active', o: 20, l: 10, k: { pk: 'WF#1', sk: 'HEAD' } };
/** What the stores' isValid checks look like: a structure, nothing about where it came from. */
const isAnyRecord = (value: unknown): value is Record<string, unknown> => isRecord(value);
const MAC_CHARS = 22;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The InvalidCursorError decode raised (fails the test when it raised none, or something else). */
function refusal(token: string, decoder: CursorCodec = codec): InvalidCursorError {
  try {
    decoder.decode(token, isAnyRecord);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidCursorError);
    return error as InvalidCursorError;
  }
  throw new Error(`decode accepted ${JSON.stringify(token)}`);
}

const payloadOf = (token: string): string => token.slice(0, -MAC_CHARS);
const macOf = (token: string): string => token.slice(-MAC_CHARS);
const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

describe('CursorCodec', () => {
  it('round-trips a cursor', () => {
    expect(codec.decode(codec.encode(CURSOR), isAnyRecord)).toEqual(CURSOR);
    expect(codec.decode(codec.encode({ p: 'ünïcødé 😀', k: {} }), isAnyRecord)).toEqual({ p: 'ünïcødé 😀', k: {} });
  });

  it('makes tokens of base64url characters only (what the HTTP edge accepts), ending in a 22-character MAC', () => {
    const token = codec.encode(CURSOR);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(payloadOf(token)).toBe(base64url(CURSOR));
    expect(Buffer.from(macOf(token), 'base64url')).toHaveLength(16);
  });

  it('is deterministic for a key, and differs between keys', () => {
    expect(codec.encode(CURSOR)).toBe(new CursorCodec(KEY).encode(CURSOR));
    expect(macOf(codec.encode(CURSOR))).not.toBe(macOf(new CursorCodec(randomBytes(32)).encode(CURSOR)));
  });

  it('refuses a token with any one character changed, in the payload or in the MAC', () => {
    const token = codec.encode(CURSOR);
    for (let position = 0; position < token.length; position++) {
      const original = token[position] ?? '';
      const replacement = BASE64URL[(BASE64URL.indexOf(original) + 1) % BASE64URL.length] ?? 'A';
      refusal(`${token.slice(0, position)}${replacement}${token.slice(position + 1)}`);
    }
  });

  it('refuses a token with one bit of its payload or of its MAC flipped', () => {
    const token = codec.encode(CURSOR);
    const payload = Buffer.from(payloadOf(token), 'base64url');
    const mac = Buffer.from(macOf(token), 'base64url');
    for (let bit = 0; bit < payload.length * 8; bit++) {
      const flipped = Buffer.from(payload);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      refusal(`${flipped.toString('base64url')}${macOf(token)}`);
    }
    for (let bit = 0; bit < mac.length * 8; bit++) {
      const flipped = Buffer.from(mac);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      refusal(`${payloadOf(token)}${flipped.toString('base64url')}`);
    }
  });

  it('refuses a cursor re-encoded with a changed field, keeping the MAC it had', () => {
    const token = codec.encode(CURSOR);
    refusal(`${base64url({ ...CURSOR, o: 0 })}${macOf(token)}`);
  });

  it('refuses a token signed with another key', () => {
    const other = new CursorCodec(randomBytes(32));
    refusal(other.encode(CURSOR));
    // ...even one signed with a key that differs in its last byte.
    const almost = Buffer.from(KEY);
    almost[31]! ^= 1;
    refusal(new CursorCodec(almost).encode(CURSOR));
  });

  it('refuses an unsigned cursor of a valid structure (what this API issued before cursors were signed)', () => {
    refusal(base64url(CURSOR));
    refusal(base64url({ p: 'EXECUTION', k: { pk: 'x', sk: 'y' } }));
  });

  it('refuses empty tokens, tokens too short to hold a MAC, and a MAC alone', () => {
    const token = codec.encode(CURSOR);
    for (const short of ['', 'a', 'x'.repeat(MAC_CHARS), macOf(token), token.slice(0, MAC_CHARS)]) refusal(short);
  });

  it('refuses a dot-separated token, and non-ASCII characters where the MAC is, with InvalidCursorError (never a RangeError)', () => {
    const token = codec.encode(CURSOR);
    refusal(`${payloadOf(token)}.${macOf(token)}`);
    refusal(`${payloadOf(token)}${macOf(token).slice(0, -1)}é`);
    refusal(`${payloadOf(token)}${'😀'.repeat(11)}`);
  });

  it('checks the MAC before parsing: a correctly signed payload that is not JSON, or not a valid cursor, is refused', () => {
    const signed = (payload: string) => `${payload}${createHmac('sha256', KEY).update(payload).digest().subarray(0, 16).toString('base64url')}`;
    // The test's own signature matches the codec's: this is how the codec signs.
    expect(codec.decode(signed(base64url(CURSOR)), isAnyRecord)).toEqual(CURSOR);
    refusal(signed(Buffer.from('not json', 'utf8').toString('base64url')));
    expect(() => codec.decode(codec.encode([1, 2]), isAnyRecord)).toThrow(InvalidCursorError);
    expect(() => codec.decode(codec.encode({ a: 'b' }), (value): value is { p: string } => isRecord(value) && typeof value.p === 'string')).toThrow(InvalidCursorError);
  });

  it('refuses with the message and field clients already know', () => {
    const error = refusal('garbage-that-is-long-enough-to-hold-a-mac');
    expect(error.message).toBe(INVALID_CURSOR_MESSAGE);
    expect(error.details).toEqual([{ field: 'next_token', message: INVALID_CURSOR_MESSAGE }]);
  });

  it('refuses a key shorter than 32 bytes, saying so without echoing it', () => {
    expect(() => new CursorCodec('s3cr3t-but-short')).toThrow(/at least 32 bytes.*got 16/);
    expect(() => new CursorCodec('s3cr3t-but-short')).not.toThrow(/s3cr3t/);
    expect(() => new CursorCodec(randomBytes(31))).toThrow(/at least 32 bytes/);
    expect(() => new CursorCodec('x'.repeat(32))).not.toThrow();
    // A string counts its UTF-8 bytes: 16 two-byte characters are 32 bytes.
    expect(() => new CursorCodec('é'.repeat(16))).not.toThrow();
  });

  it('keeps its key out of what a log would print', () => {
    const key = 'k'.repeat(40);
    const store = { tableName: 'workflows', cursors: new CursorCodec(key) };
    expect(JSON.stringify(store)).toBe('{"tableName":"workflows","cursors":{}}');
    expect(inspect(store, { showHidden: true, depth: 10 })).not.toMatch(/kkkk|6b 6b|Buffer/);
  });
});

describe('requiredCursors', () => {
  it('gives the codec a store was built with, and refuses to list without one (a composition mistake, not the client\'s)', () => {
    expect(requiredCursors(codec, 'Store')).toBe(codec);
    expect(() => requiredCursors(undefined, 'DynamoWorkflowStore')).toThrow(/DynamoWorkflowStore was built without a CursorCodec/);
    expect(() => requiredCursors(undefined, 'DynamoWorkflowStore')).not.toThrow(InvalidCursorError);
  });
});

describe('ORCHESTRATOR_CURSOR_SECRET', () => {
  it('is optional, and when set must be at least 32 characters, locally and in Lambda, the error naming the variable', () => {
    expect(readLocalConfig({}).cursorSecret).toBeUndefined();
    expect(readLocalConfig({ ORCHESTRATOR_CURSOR_SECRET: 'c'.repeat(32) }).cursorSecret).toBe('c'.repeat(32));
    expect(() => readLocalConfig({ ORCHESTRATOR_CURSOR_SECRET: 'c'.repeat(31) })).toThrow(/ORCHESTRATOR_CURSOR_SECRET must be at least 32 characters/);
    expect(readLambdaConfig({}).ORCHESTRATOR_CURSOR_SECRET).toBeUndefined();
    expect(readLambdaConfig({ ORCHESTRATOR_CURSOR_SECRET: 'c'.repeat(48) }).ORCHESTRATOR_CURSOR_SECRET).toBe('c'.repeat(48));
    expect(() => readLambdaConfig({ ORCHESTRATOR_CURSOR_SECRET: 'short' })).toThrow(/ORCHESTRATOR_CURSOR_SECRET must be at least 32 characters/);
  });
});
