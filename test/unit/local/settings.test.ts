import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { problemsOf } from '../../support/config-problems.ts';
import { readLocalConfig } from '../../../local/config.ts';
import { EffectiveConfigResponse } from '../../../functions/http/observability-schemas.ts';
import type { EffectiveConfig } from '../../../functions/http/observability-services.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const JWT_SECRET = 'file-jwt-secret-0123456789-abcdefghij';
const API_KEY = 'env-api-key-0123456789';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orchestrator-settings-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Writes `config/app.yaml` under the temporary working directory. */
async function appYaml(text: string): Promise<string> {
  await mkdir(join(dir, 'config'), { recursive: true });
  const path = join(dir, 'config', 'app.yaml');
  await writeFile(path, text);
  return path;
}

function settingOf(report: EffectiveConfig, key: string) {
  const setting = report.settings.find((candidate) => candidate.key === key);
  if (setting === undefined) throw new Error(`${key} is not in the report`);
  return setting;
}

describe('local settings: environment over config/app.yaml over defaults', () => {
  it('takes each setting from the environment, else the file, else the default, and reports each source', async () => {
    const path = await appYaml(['services:', '  port: 6100', '  host: 0.0.0.0', 'monitoring:', '  log_level: debug', '  health_check_interval: 45', ''].join('\n'));
    const config = readLocalConfig({ PORT: '6200' }, { cwd: dir });

    expect(config.port).toBe(6200);
    expect(config.host).toBe('0.0.0.0');
    expect(config.observability.logLevel).toBe('DEBUG');
    expect(config.healthChecks.intervalSeconds).toBe(45);
    expect(config.healthChecks.timeoutMs).toBe(3000);
    expect(config.configFile).toBe(path);

    const report = config.configReport;
    expect(EffectiveConfigResponse.parse(report)).toEqual(report);
    expect(report.file).toBe(path);
    expect(settingOf(report, 'PORT')).toMatchObject({ value: 6200, source: 'env', file_key: 'services.port', secret: false });
    expect(settingOf(report, 'HOST')).toMatchObject({ value: '0.0.0.0', source: 'file', file_key: 'services.host' });
    expect(settingOf(report, 'LOG_LEVEL')).toMatchObject({ value: 'DEBUG', source: 'file', file_key: 'monitoring.log_level' });
    expect(settingOf(report, 'ORCHESTRATOR_HEALTH_CHECK_TIMEOUT_MS')).toMatchObject({ value: 3000, source: 'default' });
  });

  it('treats an empty environment variable as unset, so the file still applies', async () => {
    await appYaml('services:\n  port: 6100\n');
    const config = readLocalConfig({ PORT: '' }, { cwd: dir });
    expect(config.port).toBe(6100);
    expect(settingOf(config.configReport, 'PORT').source).toBe('file');
  });

  it('reads any setting under orchestrator.<VARIABLE>, and YAML lists and booleans as the variable would hold them', async () => {
    await appYaml(
      ['orchestrator:', '  ORCHESTRATOR_PEERS: [http://peer-a.example:5099, http://peer-b.example:5099]', '  ORCHESTRATOR_CIRCUIT_FAILURE_THRESHOLD: 7', 'monitoring:', '  tracing_enabled: false', ''].join('\n'),
    );
    const config = readLocalConfig({}, { cwd: dir });
    expect(config.peers).toEqual(['http://peer-a.example:5099', 'http://peer-b.example:5099']);
    expect(config.circuitPolicy.failureThreshold).toBe(7);
    expect(config.observability.tracingEnabled).toBe(false);
    expect(settingOf(config.configReport, 'ORCHESTRATOR_PEERS')).toMatchObject({ source: 'file', file_key: 'orchestrator.ORCHESTRATOR_PEERS' });
  });

  it('reads the file ORCHESTRATOR_CONFIG_FILE names instead of config/app.yaml', async () => {
    await appYaml('services:\n  port: 6100\n');
    const elsewhere = join(dir, 'elsewhere.yaml');
    await writeFile(elsewhere, 'services:\n  port: 6300\n');
    const config = readLocalConfig({ ORCHESTRATOR_CONFIG_FILE: elsewhere }, { cwd: dir });
    expect(config.port).toBe(6300);
    expect(config.configReport.file).toBe(elsewhere);
  });

  it('refuses to start when the file ORCHESTRATOR_CONFIG_FILE names does not exist', () => {
    expect(problemsOf(() => readLocalConfig({ ORCHESTRATOR_CONFIG_FILE: 'missing.yaml' }, { cwd: dir }))).toEqual(['ORCHESTRATOR_CONFIG_FILE (env): cannot read missing.yaml (ENOENT)']);
  });

  it('runs on environment and defaults alone when there is no config/app.yaml', () => {
    const config = readLocalConfig({}, { cwd: dir });
    expect(config.configFile).toBeUndefined();
    expect(config.configReport.file).toBeNull();
    expect(config.configReport.settings.filter((setting) => setting.source !== 'default')).toEqual([]);
    expect(config.observability).toEqual({ logLevel: 'INFO', metricsEnabled: true, tracingEnabled: true, spanRetentionDays: 7 });
  });

  it('ignores the redis, database and enterprise sections and the keys it does not use, with a note for each', async () => {
    await appYaml(
      ['redis:', '  host: redis', 'database:', '  path: ./db.sqlite', 'enterprise:', '  service_mesh_enabled: true', 'services:', '  workers: 4', 'monitoring:', '  metrics_interval: 60', ''].join('\n'),
    );
    const config = readLocalConfig({ REDIS_HOST: 'redis' }, { cwd: dir });
    expect(config.notes).toEqual([
      expect.stringMatching(/^config\/app\.yaml: the redis section is ignored: /),
      expect.stringMatching(/^config\/app\.yaml: the database section is ignored: /),
      expect.stringMatching(/^config\/app\.yaml: the enterprise section is ignored: /),
      expect.stringMatching(/^config\/app\.yaml: services\.workers is ignored: /),
      expect.stringMatching(/^config\/app\.yaml: monitoring\.metrics_interval is ignored: /),
      expect.stringMatching(/^REDIS_HOST \(env\) is ignored: /),
    ]);
    expect(config.configReport.notes).toEqual(config.notes);
  });

  it('refuses an unknown key of a known section, and an unknown section, naming the key and the file', async () => {
    await appYaml('monitoring:\n  log_levle: DEBUG\nmonitorng:\n  log_level: DEBUG\n');
    expect(problemsOf(() => readLocalConfig({}, { cwd: dir }))).toEqual([
      expect.stringMatching(/^monitoring\.log_levle \(file config\/app\.yaml\): unknown key; monitoring takes .*\blog_level\b/),
      expect.stringMatching(/^monitorng \(file config\/app\.yaml\): unknown section/),
    ]);
  });

  it('names an invalid value from the file by its file key, and one from the environment by its variable, each with its source', async () => {
    await appYaml('monitoring:\n  health_check_interval: 90000\n  log_level: loud\n');
    expect(problemsOf(() => readLocalConfig({ ORCHESTRATOR_RATE_LIMIT_BURST: '0', PORT: 'eighty' }, { cwd: dir }))).toEqual([
      'PORT (env): PORT must be a port number, 0 to 65535',
      'monitoring.health_check_interval (file config/app.yaml): must be at most 86400',
      'ORCHESTRATOR_RATE_LIMIT_BURST (env): must be at least 1',
      'monitoring.log_level (file config/app.yaml): LOG_LEVEL must be one of DEBUG, INFO, WARN, ERROR, SILENT (any case)',
    ]);
  });

  it('reports a YAML syntax error as one problem with its line and column', async () => {
    await appYaml('services:\n  port: 6100\n  port: 6200\n');
    const problems = problemsOf(() => readLocalConfig({}, { cwd: dir }));
    expect(problems).toEqual([expect.stringMatching(/^config\/app\.yaml: YAML syntax error at line 3, column 3: Map keys must be unique$/)]);
  });

  it('refuses two file keys that set one setting differently', async () => {
    await appYaml('monitoring:\n  enabled: true\n  metrics_enabled: false\n');
    expect(problemsOf(() => readLocalConfig({}, { cwd: dir }))).toEqual([expect.stringMatching(/^monitoring\.metrics_enabled \(file config\/app\.yaml\): sets ORCHESTRATOR_METRICS_ENABLED as monitoring\.enabled does, differently/)]);
  });

  it('shows secrets as *** wherever they came from, hides userinfo in service URLs, and the raw values appear nowhere in the report', async () => {
    await appYaml(['security:', `  jwt_secret: ${JWT_SECRET}`, 'services:', '  ANALYSIS_SERVICE_URL: http://svc-user:svc-password@analysis.internal:5000/', ''].join('\n'));
    const config = readLocalConfig({ ORCHESTRATOR_API_KEY: API_KEY, REPORTING_URL: 'https://rep-user:rep-password@reporting.internal/' }, { cwd: dir });
    expect(config.auth.jwtSecret).toBe(JWT_SECRET);
    expect(config.serviceUrls['ANALYSIS_SERVICE_URL']).toBe('http://svc-user:svc-password@analysis.internal:5000/');

    const report = config.configReport;
    expect(settingOf(report, 'ORCHESTRATOR_JWT_SECRET')).toMatchObject({ value: '***', source: 'file', secret: true, file_key: 'security.jwt_secret' });
    expect(settingOf(report, 'ORCHESTRATOR_API_KEY')).toMatchObject({ value: '***', source: 'env', secret: true });
    expect(settingOf(report, 'ORCHESTRATOR_PEER_TOKEN')).toMatchObject({ value: null, source: 'default', secret: true });
    expect(settingOf(report, 'ANALYSIS_SERVICE_URL')).toMatchObject({ value: 'http://***@analysis.internal:5000/', source: 'file', file_key: 'services.ANALYSIS_SERVICE_URL' });
    expect(settingOf(report, 'REPORTING_URL')).toMatchObject({ value: 'https://***@reporting.internal/', source: 'env' });
    const text = JSON.stringify(report);
    for (const secret of [JWT_SECRET, API_KEY, 'svc-password', 'rep-password', 'svc-user', 'rep-user']) expect(text).not.toContain(secret);
  });

  it('accepts the documented example file as it is (config/app.example.yaml)', () => {
    const config = readLocalConfig({ ORCHESTRATOR_CONFIG_FILE: join(ROOT, 'config', 'app.example.yaml') });
    expect(config.notes).toEqual([]);
    expect(config.port).toBe(5099);
    expect(settingOf(config.configReport, 'LOG_LEVEL')).toMatchObject({ source: 'file', value: 'INFO' });
  });
});
