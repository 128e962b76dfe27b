import { afterAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { cli, json, scratchFolder } from './cli-process.ts';

/** The commands that need no server: validate, compile, help, completion, and refusals of the command line. */

const files = scratchFolder();
afterAll(() => files.remove());

const VALID_YAML = `
name: Offline hello
parameters:
  - name: who
    type: string
    required: true
actions:
  - action_id: greet
    action_type: notification
    config:
      message: "hello {{who}}"
  - action_id: shape
    action_type: transform
    depends_on: [greet]
    config:
      output: { greeted: "{{who}}" }
`;

/** Three problems: an unknown reference, a dependency on no action, and a service_call without its method. */
const INVALID = {
  name: 'Offline broken',
  actions: [
    { action_id: 'a', action_type: 'notification', config: { message: 'hi' } },
    { action_id: 'b', action_type: 'notification', depends_on: ['a'], config: { message: '{{nobody}}' } },
    { action_id: 'c', action_type: 'notification', depends_on: ['ghost'], config: { message: 'x' } },
  ],
};

const valid = files.write('hello.yaml', VALID_YAML);
const invalid = files.write('broken.json', JSON.stringify(INVALID));

describe.concurrent('validate', () => {
  it('exits 0 for a valid YAML definition and says so', async () => {
    const result = await cli(['validate', valid]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("valid (workflow 'Offline hello', 2 actions)");
  });

  it('exits 2 with each problem and its field path on stderr', async () => {
    const result = await cli(['validate', invalid]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^ {2}actions\[2\]\.depends_on\[0\]: depends on 'ghost', which is not an action in this workflow$/m);
    expect(result.stderr).toMatch(/^ {2}actions\[1\]\.config\.message: \{\{nobody\}\} names neither a declared parameter nor an action/m);
  });

  it('with --output json, prints the verdict as JSON: the error code and every problem', async () => {
    const result = await cli(['validate', invalid, '--output', 'json']);
    expect(result.code).toBe(2);
    const verdict = json<{ valid: boolean; error_code: string; details: { field: string }[] }>(result);
    expect(verdict.valid).toBe(false);
    expect(verdict.error_code).toBe('VALIDATION_ERROR');
    expect(verdict.details.map((detail) => detail.field).sort()).toEqual(['actions[1].config.message', 'actions[2].depends_on[0]']);
    expect(json(await cli(['validate', valid, '-o', 'json']))).toMatchObject({ valid: true, name: 'Offline hello', actions: 2 });
  });

  it('reports schema problems with their paths (a missing method, an unknown key)', async () => {
    const file = files.write('schema.yaml', 'name: S\nactions:\n  - action_id: call\n    action_type: service_call\n    config: { service: s, endpoint: /x }\n    colour: red\n');
    const result = await cli(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('actions[0].config.method: method is required');
    expect(result.stderr).toContain("actions[0]: unknown field 'colour'");
  });

  it('exits 2 for a file that is not YAML, or not there', async () => {
    const malformed = await cli(['validate', files.write('bad.yaml', 'name: [unclosed\nactions: {')]);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/is not valid YAML[\s\S]*\(file\): /);
    const missing = await cli(['validate', files.path('nowhere.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
  });
});

describe.concurrent('compile', () => {
  it('prints the ASL state machine of a valid definition', async () => {
    const result = await cli(['compile', valid]);
    expect(result.code, result.stderr).toBe(0);
    const asl = json<{ StartAt: string; States: Record<string, { Type: string }> }>(result);
    expect(asl.StartAt).toBe('greet');
    expect(Object.keys(asl.States)).toEqual(expect.arrayContaining(['greet', 'shape']));
  });

  it('with --output json, prints the whole result: definition, structure, gates, children and limits', async () => {
    const result = json<Record<string, unknown>>(await cli(['compile', valid, '-o', 'json']));
    expect(Object.keys(result)).toEqual(expect.arrayContaining(['definition', 'structure', 'gates', 'children', 'limits', 'execution_mode']));
    expect(result.limits).toMatchObject({ machines: 1, errors: [] });
    expect(result.structure).toMatchObject({ kind: 'sequence' });
  });

  it('exits 2 with the field paths for an invalid definition, and prints no ASL', async () => {
    const result = await cli(['compile', invalid]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('actions[2].depends_on[0]');
  });
});

describe.concurrent('the command line', () => {
  it('--help lists every command, and each command has its own help', async () => {
    const root = await cli(['--help']);
    expect(root.code).toBe(0);
    for (const command of ['validate', 'compile', 'apply', 'run', 'workflows', 'executions', 'registry', 'events', 'completion']) expect(root.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, 'm'));
    const run = await cli(['run', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: orchestrator run [options] <workflow>');
    expect(run.stdout).toMatch(/--param <name=value>[\s\S]*--watch[\s\S]*Global options:[\s\S]*--output <format>/);
    const list = await cli(['executions', 'list', '--help']);
    expect(list.stdout).toMatch(/--workflow <workflow>[\s\S]*--status <status>/);
  });

  it('--version prints the package version', async () => {
    const result = await cli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(packageJson.version);
  });

  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['validate'], /missing required argument 'file'/],
    [['workflows', 'list', '--page-size', 'many'], /--page-size <n>.*'many' is invalid/],
    [['workflows', 'list', '--output', 'yaml'], /argument 'yaml' is invalid. Allowed choices are table, json/],
    [['registry', 'register', '--name', 'x'], /required option '--url <url>' not specified/],
    [['workflows'], /Usage: orchestrator workflows/],
    [['workflows', 'list', '--url', 'ftp://example.com'], /--url must be an http or https URL/],
  ])('exits 2 on bad usage: %j', async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('never shows credentials given in the URL', async () => {
    const result = await cli(['workflows', 'list'], { ORCHESTRATOR_URL: 'http://admin:hunter2secret@127.0.0.1:9' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('must not carry credentials');
    expect(result.stderr).not.toContain('hunter2secret');
  });
});

describe.concurrent('completion', () => {
  it.each(['bash', 'zsh', 'fish'])('prints a %s script that knows every command, subcommand and option', async (shell) => {
    const result = await cli(['completion', shell]);
    expect(result.code).toBe(0);
    for (const path of ['workflows list', 'executions retry', 'registry register', 'events tail', 'validate', 'completion']) expect(result.stdout).toContain(path);
    // Without dashes: fish writes options as -l from-action.
    for (const word of ['from-action', 'watch', 'param', 'created-by', 'timed_out', 'archived']) expect(result.stdout).toContain(word);
  });

  it('bash completes subcommands, options and option values from the command tree', async () => {
    const script = (await cli(['completion', 'bash'])).stdout;
    const { execFileSync } = await import('node:child_process');
    const complete = (words: string) =>
      execFileSync('bash', ['-c', `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _orchestrator; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' }).trim();
    expect(complete(`orchestrator executions ''`)).toBe('list get cancel pause resume retry');
    expect(complete(`orchestrator -o json workflows list --status ''`)).toBe('draft active paused archived');
    expect(complete(`orchestrator run x --wa`)).toBe('--watch');
    expect(complete(`orchestrator completion ''`)).toBe('bash zsh fish');
  });

  it('refuses a shell it has no script for', async () => {
    const result = await cli(['completion', 'powershell']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Allowed choices are bash, zsh, fish');
  });
});
