import { describe, expect, it } from 'vitest';
import { isCredentialName, scrubText, withoutCredentials } from '../../../../core/ai/credentials.ts';

describe("credentials in services' documents", () => {
  it('are masked by their shape in text, and prose about credentials is left as it is', () => {
    expect(scrubText('curl -H "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4"')).toBe('curl -H "Authorization: Bearer ***"');
    expect(scrubText('https://robot:s3cr3t@api.example.com/x')).toBe('https://***@api.example.com/x');
    expect(scrubText('GET /items?api_key=abc&page=2')).toBe('GET /items?api_key=***&page=2');
    expect(scrubText('{"password": "hunter2"}')).toBe('{"password": "***"}');
    expect(scrubText('use AKIAIOSFODNN7EXAMPLE or ghp_0123456789abcdefghijABCDEFGHIJ')).toBe('use *** or ***');
    expect(scrubText('token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl')).toBe('token ***');
    for (const prose of ['Bearer authentication is required.', 'token: the caller\'s session token', 'Returns the password policy', 'Basic information about a pet']) {
      expect(scrubText(prose)).toBe(prose);
    }
  });

  it('are recognised by the names that hold them, whatever their case or separators', () => {
    for (const name of ['password', 'Authorization', 'X-API-Key', 'accessToken', 'client_secret', 'github_token']) expect(isCredentialName(name), name).toBe(true);
    for (const name of ['name', 'token_type', 'author', 'secretary']) expect(isCredentialName(name), name).toBe(false);
  });

  it('are removed from values: a credential string goes whole, an object loses its credential fields', () => {
    expect(withoutCredentials('Bearer 9f8e7d6c5b4a39281706f5e4')).toBeUndefined();
    expect(withoutCredentials({ region: 'eu', client_secret: 'x', nested: { refresh_token: 'y', size: 2 } })).toEqual({ region: 'eu', nested: { size: 2 } });
    expect(withoutCredentials(['a', 'sk-0123456789abcdefghij'])).toBeUndefined();
    expect(withoutCredentials(42)).toBe(42);
  });
});
