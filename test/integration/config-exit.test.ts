import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** `npm start` as a user runs it, with `env` added; resolves when it exits or, if it listens, once it has stopped. */
function runOrchestrator(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['local/main.ts'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    // Started after all: stop it once the start-up lines are out.
    if (/dead letters: /.test(stdout)) child.kill('SIGTERM');
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('a start with invalid configuration', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'orchestrator-config-exit-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('exits with code 2, one line per problem naming the setting and its source, and no stack trace', async () => {
    const file = join(dir, 'invalid.yaml');
    await writeFile(file, 'monitoring:\n  log_level: loud\n');
    const { code, stderr } = await runOrchestrator({ ORCHESTRATOR_CONFIG_FILE: file, ORCHESTRATOR_HEALTH_CHECK_INTERVAL: '90000', ORCHESTRATOR_DATA_DIR: join(dir, 'data') });
    expect(code).toBe(2);
    expect(stderr).not.toContain('    at ');
    expect(stderr.trim().split('\n')).toEqual([
      'orchestrator: invalid configuration: ORCHESTRATOR_HEALTH_CHECK_INTERVAL (env): must be at most 86400',
      `orchestrator: invalid configuration: monitoring.log_level (file ${file}): LOG_LEVEL must be one of DEBUG, INFO, WARN, ERROR, SILENT (any case)`,
    ]);
  });

  it('exits with code 2 on a YAML syntax error, naming the file, the line and the column', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, 'services:\n  port: [5099\n');
    const { code, stderr } = await runOrchestrator({ ORCHESTRATOR_CONFIG_FILE: file, ORCHESTRATOR_DATA_DIR: join(dir, 'data') });
    expect(code).toBe(2);
    expect(stderr).not.toContain('    at ');
    const lines = stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line).toMatch(new RegExp(`^orchestrator: invalid configuration: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: YAML syntax error at line \\d+, column \\d+: `));
  });

  it('exits with code 2 on an unknown key, naming it and the file', async () => {
    const file = join(dir, 'typo.yaml');
    await writeFile(file, 'security:\n  jwt_secert: x\n');
    const { code, stderr } = await runOrchestrator({ ORCHESTRATOR_CONFIG_FILE: file, ORCHESTRATOR_DATA_DIR: join(dir, 'data') });
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^orchestrator: invalid configuration: security\\.jwt_secert \\(file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\): unknown key; `))]);
  });

  it('starts with what it ignores said once at start (a redis section), then stops cleanly', async () => {
    const file = join(dir, 'with-redis.yaml');
    await writeFile(file, 'redis:\n  host: redis\nservices:\n  port: 0\n');
    const { code, stdout } = await runOrchestrator({ ORCHESTRATOR_CONFIG_FILE: file, ORCHESTRATOR_DATA_DIR: join(dir, 'started'), PORT: '' });
    expect(code).toBe(0);
    expect(stdout).toContain(`configuration: ${file}`);
    expect(stdout).toMatch(/note: .*the redis section is ignored/);
  }, 40_000);
});
