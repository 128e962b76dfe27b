import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { problemsOf } from '../../support/config-problems.ts';
import { readLambdaConfig } from '../../../functions/config.ts';
import { DEFAULT_LOCAL_PLANNER_MODEL, readLocalConfig } from '../../../local/config.ts';
import { runtimeOptionsFrom } from '../../../local/settings-runtime.ts';

/** ORCHESTRATOR_PLANNER_MODEL and ORCHESTRATOR_PLANNER_MAX_ROUNDS: POST /ai/plan's model and default bound, on both sides. */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'orchestrator-planner-settings-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the planner settings', () => {
  it('default locally to a model name for the gateway and 3 rounds, and reach the runtime', () => {
    const config = readLocalConfig({}, { cwd: dir });
    expect(config.planner).toEqual({ model: DEFAULT_LOCAL_PLANNER_MODEL, maxRounds: 3 });
    expect(runtimeOptionsFrom(config).planner).toEqual({ model: DEFAULT_LOCAL_PLANNER_MODEL, maxRounds: 3 });
    expect(config.configReport.settings.find((setting) => setting.key === 'ORCHESTRATOR_PLANNER_MODEL')).toMatchObject({ value: DEFAULT_LOCAL_PLANNER_MODEL, source: 'default' });
  });

  it('come from the environment or the file (services.planner_model, services.planner_max_rounds)', async () => {
    expect(readLocalConfig({ ORCHESTRATOR_PLANNER_MODEL: 'llama3.1:8b', ORCHESTRATOR_PLANNER_MAX_ROUNDS: '5' }, { cwd: dir }).planner).toEqual({ model: 'llama3.1:8b', maxRounds: 5 });
    await mkdir(join(dir, 'config'), { recursive: true });
    await writeFile(join(dir, 'config', 'app.yaml'), 'services:\n  planner_model: gpt-4o-mini\n  planner_max_rounds: 2\n');
    expect(readLocalConfig({}, { cwd: dir }).planner).toEqual({ model: 'gpt-4o-mini', maxRounds: 2 });
  });

  it('refuse a bound outside 1..10 and a model name with spaces, naming the variable', () => {
    expect(problemsOf(() => readLocalConfig({ ORCHESTRATOR_PLANNER_MAX_ROUNDS: '11' }, { cwd: dir }))).toEqual([expect.stringContaining('ORCHESTRATOR_PLANNER_MAX_ROUNDS must be at most 10')]);
    expect(problemsOf(() => readLocalConfig({ ORCHESTRATOR_PLANNER_MODEL: 'my model' }, { cwd: dir }))).toEqual([expect.stringContaining('ORCHESTRATOR_PLANNER_MODEL is a model id or ARN, without spaces')]);
  });

  it('have no model by default in AWS (the route answers 503 naming it), and the same bound', () => {
    expect(readLambdaConfig({})).toMatchObject({ ORCHESTRATOR_PLANNER_MAX_ROUNDS: 3 });
    expect(readLambdaConfig({}).ORCHESTRATOR_PLANNER_MODEL).toBeUndefined();
    expect(readLambdaConfig({ ORCHESTRATOR_PLANNER_MODEL: 'us.anthropic.claude-3-5-haiku-20241022-v1:0', ORCHESTRATOR_PLANNER_MAX_ROUNDS: '4' })).toMatchObject({ ORCHESTRATOR_PLANNER_MODEL: 'us.anthropic.claude-3-5-haiku-20241022-v1:0', ORCHESTRATOR_PLANNER_MAX_ROUNDS: 4 });
  });
});
