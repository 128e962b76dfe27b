import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { problemsOf } from '../../support/config-problems.ts';
import { readLocalConfig } from '../../../local/config.ts';
import { runtimeOptionsFrom } from '../../../local/settings-runtime.ts';

/** LLM_GATEWAY_URL and LLM_GATEWAY_API_KEY: where llm actions' models are called on one machine. */

const KEY = 'sk-local-0123456789';
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orchestrator-llm-settings-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the LLM gateway settings', () => {
  it('are unset by default: the runtime gets no URL, and llm actions fail naming it', () => {
    const config = readLocalConfig({}, { cwd: dir });
    expect(config.llmGateway).toEqual({});
    expect(runtimeOptionsFrom(config).llmGateway).toEqual({});
  });

  it('come from the environment or the file (services.llm_gateway_url, security.llm_gateway_api_key), the key a secret', async () => {
    await mkdir(join(dir, 'config'), { recursive: true });
    await writeFile(join(dir, 'config', 'app.yaml'), `services:\n  llm_gateway_url: http://127.0.0.1:4000\nsecurity:\n  llm_gateway_api_key: ${KEY}\n`);
    const config = readLocalConfig({}, { cwd: dir });
    expect(config.llmGateway).toEqual({ url: 'http://127.0.0.1:4000', apiKey: KEY });
    const options = runtimeOptionsFrom(config);
    expect(options.llmGateway).toEqual({ url: 'http://127.0.0.1:4000', apiKey: KEY });
    expect(options.logSecrets).toContain(KEY);
    const report = config.configReport.settings;
    expect(report.find((setting) => setting.key === 'LLM_GATEWAY_API_KEY')).toMatchObject({ value: '***', secret: true, source: 'file', file_key: 'security.llm_gateway_api_key' });
    expect(report.find((setting) => setting.key === 'LLM_GATEWAY_URL')).toMatchObject({ value: 'http://127.0.0.1:4000', source: 'file', file_key: 'services.llm_gateway_url' });
    expect(JSON.stringify(config.configReport)).not.toContain(KEY);
    // The environment wins, and the URL is a setting, not a service called llm_gateway.
    const fromEnv = readLocalConfig({ LLM_GATEWAY_URL: 'https://gateway.example/' }, { cwd: dir });
    expect(fromEnv.llmGateway.url).toBe('https://gateway.example/');
    expect(fromEnv.configReport.settings.filter((setting) => setting.key === 'LLM_GATEWAY_URL')).toHaveLength(1);
  });

  it('refuse a URL that is not http(s), one with credentials, and a key without a URL, naming the variable', () => {
    expect(problemsOf(() => readLocalConfig({ LLM_GATEWAY_URL: 'ftp://models' }, { cwd: dir }))).toEqual([
      'LLM_GATEWAY_URL (env): LLM_GATEWAY_URL must be an http(s) URL, e.g. http://127.0.0.1:4000 (requests go to <url>/v1/chat/completions)',
    ]);
    expect(problemsOf(() => readLocalConfig({ LLM_GATEWAY_URL: 'http://user:secret@127.0.0.1:4000' }, { cwd: dir }))).toEqual(['LLM_GATEWAY_URL (env): LLM_GATEWAY_URL must not hold credentials; put the key in LLM_GATEWAY_API_KEY']);
    expect(problemsOf(() => readLocalConfig({ LLM_GATEWAY_API_KEY: KEY }, { cwd: dir }))).toEqual(["LLM_GATEWAY_API_KEY (env): LLM_GATEWAY_API_KEY is set but LLM_GATEWAY_URL is not; set the gateway's URL too"]);
  });
});
