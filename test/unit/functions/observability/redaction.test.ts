import { describe, expect, it } from 'vitest';
import { isSensitiveKey, MAX_DEPTH, MAX_ITEMS, MAX_STRING_CHARS, redact, REDACTED } from '../../../../functions/observability/redaction.ts';

describe('redact', () => {
  it('replaces the value of every sensitive key, whatever its case, separators or nesting', () => {
    const keys = [
      'authorization', 'Authorization', 'proxy-authorization', 'Cookie', 'set-cookie', 'X-Api-Key', 'api_key', 'apiKey', 'APIKEY', 'password', 'passwd',
      'secret', 'client_secret', 'clientSecret', 'token', 'access_token', 'accessToken', 'refresh_token', 'id_token', 'jwt', 'private_key', 'privateKey',
      'webhook_secret', 'session_token', 'task_token', 'db_password', 'DB-PASSWORD',
    ];
    const entry = Object.fromEntries(keys.map((key, index) => [key, `value-${index}-sensitive`]));
    const copy = redact({ nested: { deeper: [entry] } }) as { nested: { deeper: Record<string, unknown>[] } };
    for (const key of keys) expect(copy.nested.deeper[0]![key], key).toBe(REDACTED);
    expect(JSON.stringify(copy)).not.toContain('-sensitive');
  });

  it('leaves other keys and values as they were, and never changes its input', () => {
    const input = { execution_id: 'exec-1', tokens_used: 3, status: 'running', max_tokens: 10, secret_ref: 'env:API_KEY', nested: { count: 2, ok: true, none: null } };
    const before = structuredClone(input);
    expect(redact(input)).toEqual(input);
    expect(input).toEqual(before);
    for (const key of ['execution_id', 'tokens_used', 'max_tokens', 'secret_ref', 'kind', 'service']) expect(isSensitiveKey(key), key).toBe(false);
  });

  it('scrubs Bearer tokens, URL userinfo, sensitive query parameters and key=value pairs inside any string', () => {
    const cases: [string, string][] = [
      ['call failed: Authorization: Bearer eyJhbGciOi.J9eyJzdWIi.Oi_xyz-1==', 'eyJhbGciOi'],
      ['retry with bearer abc123.def456', 'abc123'],
      ['GET https://alice:s3cr3tpw@api.example.com/v1/items', 's3cr3tpw'],
      ['redis://:hunter22@cache:6379/0', 'hunter22'],
      ['https://api.example.com/v1?access_token=tok-987654&page=2', 'tok-987654'],
      ['https://bucket.s3.amazonaws.com/k?X-Amz-Signature=abcdef0123&X-Amz-Credential=AKIA123', 'abcdef0123'],
      ['login failed for password=pw-4567, user=bob', 'pw-4567'],
      ["config: api_key='key-13579'", 'key-13579'],
      ['body {"client_secret":"cs-24680","name":"x"}', 'cs-24680'],
      ['double encoded {\\"refresh_token\\":\\"rt-11223\\"}', 'rt-11223'],
    ];
    for (const [text, secret] of cases) {
      const scrubbed = redact(text) as string;
      expect(scrubbed, text).not.toContain(secret);
      expect(scrubbed, text).toContain(REDACTED);
    }
    expect(redact('https://api.example.com/v1?page=2&name=x')).toBe('https://api.example.com/v1?page=2&name=x');
    expect(redact('mail bob@example.com about https://host/path/@user')).toBe('mail bob@example.com about https://host/path/@user');
  });

  it('scrubs known secret values inside longer strings, in keys of any name', () => {
    const known = 'sk_live_51Hx9QkLongSecret';
    const copy = redact({ note: `the key ${known} was refused`, list: [`prefix${known}suffix`], short: 'abc' }, { secrets: [known, 'abc'] });
    expect(JSON.stringify(copy)).not.toContain(known);
    // Secrets shorter than the minimum would match ordinary text: they are not searched for.
    expect((copy as { short: string }).short).toBe('abc');
  });

  it('turns errors into plain fields, redacted, with their cause', () => {
    const error = new Error('upstream said Bearer tok-abcdef', { cause: new Error('password=pw-cause-1') });
    const copy = redact({ error }) as { error: { name: string; message: string; stack: string; cause: { message: string } } };
    expect(copy.error.name).toBe('Error');
    expect(JSON.stringify(copy)).not.toMatch(/tok-abcdef|pw-cause-1/);
    expect(copy.error.stack).toContain('Bearer ***');
  });

  it('is bounded: long strings are cut, deep nesting and cycles stop, big arrays and objects are capped', () => {
    const secret = 'x'.repeat(20) + 'the-straddling-secret';
    const long = 'a'.repeat(MAX_STRING_CHARS - 10) + secret + 'b'.repeat(1_000_000);
    const cut = redact(long, { secrets: [secret] }) as string;
    expect(cut.length).toBeLessThan(MAX_STRING_CHARS + 100);
    expect(cut).not.toContain('the-straddling');
    expect(cut).toContain('truncated');

    let deep: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 100; i++) deep = { child: deep };
    expect(JSON.stringify(redact(deep))).toContain('[nested too deep]');
    expect(JSON.stringify(redact(deep)).split('child').length - 1).toBe(MAX_DEPTH);

    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    expect(redact(cyclic)).toEqual({ name: 'a', self: '[circular]' });

    const items = redact(Array.from({ length: 10_000 }, (_, i) => i)) as unknown[];
    expect(items).toHaveLength(MAX_ITEMS + 1);
    const fields = redact(Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i]))) as Record<string, unknown>;
    expect(Object.keys(fields)).toHaveLength(MAX_ITEMS + 1);
  });

  it('keeps JSON-safe values only: bigints as strings, dates as ISO strings, functions and symbols dropped', () => {
    expect(redact({ n: 12n, at: new Date('2026-01-01T00:00:00.000Z'), f: () => 1, s: Symbol('x'), url: new URL('https://u:p@h/x') })).toEqual({ n: '12', at: '2026-01-01T00:00:00.000Z', f: undefined, s: undefined, url: 'https://***@h/x' });
  });
});
