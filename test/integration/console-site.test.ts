import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi } from '../support/api.ts';

/** The local server serving the built console (local/console-site.ts), as CloudFront does in AWS. */
const root = mkdtempSync(join(tmpdir(), 'console-site-'));
const built = join(root, 'console');
mkdirSync(join(built, 'assets'), { recursive: true });
writeFileSync(join(built, 'index.html'), '<!doctype html><title>console</title>');
writeFileSync(join(built, 'assets', 'index-abc.js'), 'console.log(1)');
writeFileSync(join(root, 'secret.txt'), 'outside the console');

let api: Awaited<ReturnType<typeof startTestApi>>;
let unbuilt: Awaited<ReturnType<typeof startTestApi>>;
beforeAll(async () => {
  api = await startTestApi({ consoleDirectory: built });
  unbuilt = await startTestApi({ consoleDirectory: join(root, 'missing') });
});
afterAll(async () => {
  await Promise.all([api.runtime.close(), unbuilt.runtime.close()]);
  rmSync(root, { recursive: true, force: true });
});

/** A raw request, so that `..` and encoded separators reach the server as written. */
function raw(base: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const sent = request({ host: url.hostname, port: url.port, path, method }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    sent.on('error', reject);
    sent.end();
  });
}

describe('the console on the local server', () => {
  it('redirects / and /console to /console/, and serves index.html there with a strict policy', async () => {
    for (const path of ['/', '/console']) expect(await raw(api.runtime.url, path)).toMatchObject({ status: 302, headers: { location: '/console/' } });
    const page = await raw(api.runtime.url, '/console/');
    expect(page).toMatchObject({ status: 200, body: '<!doctype html><title>console</title>' });
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'self';.*connect-src 'self';.*frame-ancestors 'none'/);
    expect(page.headers['x-frame-options']).toBe('DENY');
  });

  it("answers the app's routes with index.html, an asset with its type and a year's cache, a missing asset with 404", async () => {
    expect(await raw(api.runtime.url, '/console/workflows/wf-1/runs')).toMatchObject({ status: 200, body: '<!doctype html><title>console</title>' });
    const asset = await raw(api.runtime.url, '/console/assets/index-abc.js');
    expect(asset).toMatchObject({ status: 200, body: 'console.log(1)' });
    expect(asset.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await raw(api.runtime.url, '/console/assets/gone.js')).status).toBe(404);
    expect(await raw(api.runtime.url, '/console/assets/index-abc.js', 'HEAD')).toMatchObject({ status: 200, body: '' });
  });

  it("answers config.json with an empty apiUrl (the API is this origin), where CloudFront's names the API", async () => {
    const config = await raw(api.runtime.url, '/console/config.json');
    expect(config.status).toBe(200);
    expect(JSON.parse(config.body)).toEqual({ apiUrl: '' });
  });

  it('never serves a file outside the built console, however the path climbs', async () => {
    for (const path of ['/console/../secret.txt', '/console/%2e%2e/secret.txt', '/console/..%2fsecret.txt', '/console/assets/..%2f..%2fsecret.txt']) {
      const answer = await raw(api.runtime.url, path);
      expect(answer.body, path).not.toContain('outside the console');
    }
  });

  it('leaves the API as it was: its routes answer, and other methods on /console get no console', async () => {
    expect((await api.call('GET', '/health')).status).toBe(200);
    expect((await raw(api.runtime.url, '/console/', 'POST')).status).toBe(404);
  });

  it('says how to build the console when it is not built', async () => {
    const answer = await raw(unbuilt.runtime.url, '/console/');
    expect(answer.status).toBe(503);
    expect(answer.body).toContain('npm run build:console');
  });
});
