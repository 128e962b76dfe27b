import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalConfig, type LocalConfig } from '../../local/config.ts';
import { runtimeOptionsFrom } from '../../local/settings-runtime.ts';
import { EffectiveConfigResponse, InfoResponse } from '../../functions/http/observability-schemas.ts';
import type { EffectiveConfig, InfoDocument } from '../../functions/http/observability-services.ts';
import { startTestApi } from '../support/api.ts';

/**
 * GET /info and GET /config/effective over HTTP, on a runtime given what `npm start` gives it from
 * readLocalConfig (local/settings-runtime.ts): the configuration report, the build settings and the
 * observability settings.
 */

const JWT_SECRET = 'config-api-jwt-secret-0123456789abcdef';
const API_KEY = 'config-api-admin-key-0123456789';
const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const BUILD_TIME = '2026-01-02T03:04:05Z';

/** The runtime options `npm start` derives from its configuration that /info and /config/effective report (ports and tables stay the test API's). */
function reportedFrom(config: LocalConfig) {
  const { configReport, build, observability, logCollectorUrl } = runtimeOptionsFrom(config);
  return { configReport, build, observability, logCollectorUrl };
}

let dir: string;
let file: string;
let config: LocalConfig;
let api: Awaited<ReturnType<typeof startTestApi>>;
let viewerApi: Awaited<ReturnType<typeof startTestApi>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orchestrator-config-api-'));
  file = join(dir, 'app.yaml');
  await writeFile(
    file,
    ['monitoring:', '  log_level: warn', '  tracing_enabled: false', 'security:', `  jwt_secret: ${JWT_SECRET}`, 'services:', '  REPORTING_URL: http://report-user:report-password@reporting:5030', 'redis:', '  host: redis', ''].join('\n'),
  );
  config = readLocalConfig({ ORCHESTRATOR_CONFIG_FILE: file, ORCHESTRATOR_COMMIT: COMMIT, ORCHESTRATOR_BUILD_TIME: BUILD_TIME, ORCHESTRATOR_API_KEY: API_KEY });
  const reported = reportedFrom(config);
  api = await startTestApi({ ...reported });
  viewerApi = await startTestApi({ ...reported, auth: { mode: 'optional', anonymousRole: 'viewer' } });
});

afterAll(async () => {
  await api?.runtime.close();
  await viewerApi?.runtime.close();
  await rm(dir, { recursive: true, force: true });
});

describe('GET /info', () => {
  it('says what is running: name, version, commit, build time, runtime, start, uptime, auth mode and features', async () => {
    const before = Date.now();
    const reply = await api.call<InfoDocument>('GET', '/info');
    expect(reply.status).toBe(200);
    const info = InfoResponse.parse(reply.body.data);
    expect(info).toMatchObject({
      name: 'orchestrator',
      version: 'test',
      commit: COMMIT,
      build_time: BUILD_TIME,
      runtime: { kind: 'local', region: 'us-east-1', node: process.version },
      auth_mode: 'optional',
    });
    expect(Date.parse(info.started_at)).toBeLessThanOrEqual(before);
    expect(info.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(info.features).toMatchObject({ tracing: false, metrics: true, otlp_export: false, log_collector: false, tls: false, mutual_tls: false, peers: false });
  });

  it('is open to viewers', async () => {
    expect((await viewerApi.call('GET', '/info')).status).toBe(200);
  });
});

describe('GET /config/effective', () => {
  it('lists every setting with its value and source, the file read, and what was ignored', async () => {
    const reply = await api.call<EffectiveConfig>('GET', '/config/effective');
    expect(reply.status).toBe(200);
    const report = EffectiveConfigResponse.parse(reply.body.data);
    expect(report.file).toBe(file);
    const setting = (key: string) => report.settings.find((candidate) => candidate.key === key);
    expect(setting('LOG_LEVEL')).toMatchObject({ value: 'WARN', source: 'file', file_key: 'monitoring.log_level' });
    expect(setting('ORCHESTRATOR_TRACING_ENABLED')).toMatchObject({ value: false, source: 'file' });
    expect(setting('ORCHESTRATOR_COMMIT')).toMatchObject({ value: COMMIT, source: 'env' });
    expect(setting('PORT')).toMatchObject({ value: 5099, source: 'default' });
    expect(setting('ORCHESTRATOR_JWT_SECRET')).toMatchObject({ value: '***', source: 'file', secret: true });
    expect(setting('ORCHESTRATOR_API_KEY')).toMatchObject({ value: '***', source: 'env', secret: true });
    expect(setting('REPORTING_URL')).toMatchObject({ value: 'http://***@reporting:5030', source: 'file', file_key: 'services.REPORTING_URL' });
    expect(report.notes).toEqual([expect.stringContaining('the redis section is ignored')]);
    const text = JSON.stringify(reply.body);
    for (const secret of [JWT_SECRET, API_KEY, 'report-password']) expect(text).not.toContain(secret);
  });

  it('is for admins only', async () => {
    expect((await viewerApi.call('GET', '/config/effective')).status).toBe(403);
  });
});
