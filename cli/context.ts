import { Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { createClient, type OrchestratorClient } from '../client/index.ts';
import { reportError, UsageError } from './errors.ts';
import { createOutput, OUTPUT_FORMATS, type Output, type OutputFormat } from './output.ts';

/** Where the CLI finds the API when neither --url nor ORCHESTRATOR_URL says: `npm start`'s address. */
export const DEFAULT_URL = 'http://127.0.0.1:5099';

export interface GlobalOptions {
  readonly url: string;
  readonly token: string | undefined;
  readonly apiKey: string | undefined;
  readonly output: OutputFormat;
}

export interface CliContext {
  readonly globals: GlobalOptions;
  readonly out: Output;
  /** The API client, made on first use so that offline commands never need a URL. */
  readonly api: () => OrchestratorClient;
}

const GLOBAL_GROUP = 'Global options:';
type GlobalOptionName = 'url' | 'token' | 'apiKey' | 'output';
/** The options withGlobalOptions made: a command's own option of the same name (register's --url) is not one. */
const globalOptions = new WeakSet<Option>();

/**
 * The options every command takes. They are declared on each command rather than once on the program: the
 * program parses its own options before the subcommand only (positional options), so that `registry register
 * --version` is the service's version, not the CLI's, while `workflows list --output json` still works. A
 * command whose own option has a global option's name leaves that one out (`except`).
 */
export function withGlobalOptions<C extends CommandUnknownOpts>(command: C, except: readonly GlobalOptionName[] = []): C {
  const options: Record<GlobalOptionName, Option> = {
    url: new Option('--url <url>', 'the orchestrator API').env('ORCHESTRATOR_URL').default(DEFAULT_URL),
    token: new Option('--token <token>', 'bearer token (JWT), sent as Authorization: Bearer').env('ORCHESTRATOR_TOKEN'),
    apiKey: new Option('--api-key <key>', 'API key, sent as X-API-Key').env('ORCHESTRATOR_API_KEY'),
    output: new Option('-o, --output <format>', 'table for people, json for scripts').choices(OUTPUT_FORMATS).default('table'),
  };
  for (const [name, option] of Object.entries(options) as [GlobalOptionName, Option][]) {
    if (except.includes(name)) continue;
    globalOptions.add(option);
    command.addOption(option.helpGroup(GLOBAL_GROUP));
  }
  return command;
}

/**
 * The global options of the command that runs: a value given on the command line wins, the one closest to
 * the command first (`orchestrator --url A workflows list --url B` is B); otherwise the environment's, then
 * the default, which every command that declares the option reads alike.
 */
export function globalOptionsOf(command: CommandUnknownOpts): GlobalOptions {
  const chain: CommandUnknownOpts[] = [];
  for (let current: CommandUnknownOpts | null = command; current; current = current.parent) chain.push(current);
  const pick = (key: GlobalOptionName): unknown => {
    const declaring = chain.filter((each) => each.options.some((option) => globalOptions.has(option) && option.attributeName() === key));
    const given = declaring.find((each) => each.getOptionValueSource(key) === 'cli');
    return (given ?? declaring[0])?.getOptionValue(key);
  };
  const text = (key: GlobalOptionName): string | undefined => {
    const value = pick(key);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  return {
    url: checkedUrl(text('url') ?? DEFAULT_URL),
    token: text('token'),
    apiKey: text('apiKey'),
    output: pick('output') === 'json' ? 'json' : 'table',
  };
}

function checkedUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url (or ORCHESTRATOR_URL) must be an http(s) URL, like ${DEFAULT_URL}; got ${JSON.stringify(displayUrl(url))}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--url must be an http or https URL; got ${parsed.protocol}`);
  // fetch refuses them, quoting the URL, secret and all: refused here without showing them.
  if (parsed.username || parsed.password) throw new UsageError(`--url must not carry credentials (${displayUrl(url)}); use --token or --api-key`);
  return url;
}

/** A URL as it may be shown: credentials in it are secrets like --token. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = '***';
      parsed.password = '';
    }
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//***@');
  }
}

/**
 * Runs one command's body with its context and turns what it throws into an exit code (errors.ts), so that
 * every command reports API errors, usage errors and an unreachable server the same way.
 */
export async function runCommand(command: CommandUnknownOpts, body: (context: CliContext) => Promise<number | void>): Promise<void> {
  let target = DEFAULT_URL;
  try {
    const globals = globalOptionsOf(command);
    target = displayUrl(globals.url);
    let client: OrchestratorClient | undefined;
    const api = () => (client ??= createClient({ baseUrl: globals.url, token: globals.token, apiKey: globals.apiKey }));
    const code = await body({ globals, out: createOutput(globals.output), api });
    process.exitCode = code ?? 0;
  } catch (error) {
    process.exitCode = reportError(error, target, (text) => process.stderr.write(text));
  }
}
