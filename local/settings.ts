import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { displaySettingValue, hideUserinfo } from '../functions/config.ts';
import type { EffectiveConfig } from '../functions/http/observability-services.ts';
import { FILE_SECTIONS, IGNORED_ENVIRONMENT, IGNORED_FILE_KEYS, IGNORED_SECTIONS } from './settings-catalogue.ts';

/**
 * Where the local runtime's settings come from, read once at start: the environment, else the configuration
 * file (`config/app.yaml` in the working directory, or ORCHESTRATOR_CONFIG_FILE), else the default. The result
 * is one string map, validated by local/config.ts's zod schema as the environment alone used to be, plus where
 * each value came from: problems name the variable or file key and its source, and `GET /config/effective`
 * reports it.
 *
 * The file (config/app.example.yaml documents it): sections `orchestrator` (any setting by its variable name,
 * `orchestrator.ORCHESTRATOR_PEERS`), `services` (`host`, `port`, `peers`, and `<NAME>_URL` service URLs),
 * `security` and `monitoring` (the reference's keys, `monitoring.log_level`...). The reference's `redis`,
 * `database` and `enterprise` sections and keys this implementation does not use are ignored with a note; any
 * other key is a problem (a typo would otherwise be silently ignored).
 */

/** One setting of the catalogue (local/settings-catalogue.ts), keyed by its environment variable. */
export interface SettingInfo {
  /** Where the file may set it besides `orchestrator.<VARIABLE>`; the first is the one reports name. */
  readonly fileKeys?: readonly string[];
  readonly secret?: true;
  /** An empty value is a value, not "unset" (ORCHESTRATOR_OUTBOUND_ALLOW: public addresses only). */
  readonly emptyIsValue?: true;
  readonly description: string;
}

export type SettingSource = { readonly kind: 'env' } | { readonly kind: 'file'; readonly key: string } | { readonly kind: 'default' };

export const DEFAULT_CONFIG_FILE = 'config/app.yaml';
/** `services.<NAME>_URL` in the file, `<NAME>_URL` in the environment (ORCHESTRATOR_* excepted): where unregistered services are found. */
const SERVICE_URL = /^[A-Z][A-Z0-9_]*_URL$/;

/** A start that cannot succeed: one line per problem, each naming the setting and its source. */
export class ConfigurationError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigurationError';
    this.problems = problems;
  }
}

export interface ResolvedSettings {
  /** Variable -> value, for every setting set in the environment or the file (defaults are the schema's). */
  readonly values: Readonly<Record<string, string>>;
  readonly sources: Readonly<Record<string, SettingSource>>;
  /** `<NAME>_URL` service URLs, environment over file. */
  readonly serviceUrls: Readonly<Record<string, string>>;
  readonly serviceUrlSources: Readonly<Record<string, SettingSource>>;
  /** The file read: as named (in messages) and its absolute path; undefined when there is none. */
  readonly file?: { readonly label: string; readonly path: string };
  readonly notes: readonly string[];
  readonly problems: readonly string[];
}

export interface ResolveOptions {
  /** Where `config/app.yaml` and a relative ORCHESTRATOR_CONFIG_FILE are found (default: the working directory). */
  readonly cwd?: string;
  readonly readFile?: (path: string) => string;
}

/** Environment > file > default, for every setting of `catalogue`; never throws (problems are collected). */
export function resolveSettings(catalogue: Readonly<Record<string, SettingInfo>>, env: Readonly<Record<string, string | undefined>>, options: ResolveOptions = {}): ResolvedSettings {
  const problems: string[] = [];
  const notes: string[] = [];
  const file = readConfigFile(catalogue, env, options, problems, notes);
  const values: Record<string, string> = {};
  const sources: Record<string, SettingSource> = {};
  for (const [name, info] of Object.entries(catalogue)) {
    const fromEnv = env[name];
    if (fromEnv !== undefined && (fromEnv !== '' || info.emptyIsValue)) {
      values[name] = fromEnv;
      sources[name] = { kind: 'env' };
      continue;
    }
    const fromFile = file?.settings.get(name);
    if (fromFile !== undefined && (fromFile.value !== '' || info.emptyIsValue)) {
      values[name] = fromFile.value;
      sources[name] = { kind: 'file', key: fromFile.key };
    }
  }
  const serviceUrls: Record<string, string> = {};
  const serviceUrlSources: Record<string, SettingSource> = {};
  for (const [name, { key, value }] of file?.serviceUrls ?? []) {
    serviceUrls[name] = value;
    serviceUrlSources[name] = { kind: 'file', key };
  }
  // As before the file existed: every `<NAME>_URL` variable but ORCHESTRATOR_*'s.
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !name.endsWith('_URL') || name.startsWith('ORCHESTRATOR_')) continue;
    serviceUrls[name] = value;
    serviceUrlSources[name] = { kind: 'env' };
  }
  for (const [name, note] of Object.entries(IGNORED_ENVIRONMENT)) {
    if (env[name] !== undefined && env[name] !== '') notes.push(`${name} (env) is ignored: ${note}`);
  }
  return { values, sources, serviceUrls, serviceUrlSources, ...(file === undefined ? {} : { file: { label: file.label, path: file.path } }), notes, problems };
}

/** How a problem names a setting: `PORT (env)`, `services.port (file config/app.yaml)`, `PORT (default)`. */
export function describeSource(name: string, source: SettingSource | undefined, file: ResolvedSettings['file']): string {
  if (source?.kind === 'env') return `${name} (env)`;
  if (source?.kind === 'file') return `${source.key} (file ${file?.label ?? DEFAULT_CONFIG_FILE})`;
  return `${name} (default)`;
}

/**
 * The `GET /config/effective` document: every catalogue setting with its validated value (`parsed`, the zod
 * schema's output; null when unset) and source, secrets `***`, then the service URLs with any userinfo hidden.
 */
export function effectiveConfig(catalogue: Readonly<Record<string, SettingInfo>>, resolved: ResolvedSettings, parsed: Readonly<Record<string, unknown>>): EffectiveConfig {
  const sourceOf = (source: SettingSource | undefined) => source?.kind ?? 'default';
  const settings = Object.entries(catalogue).map(([key, info]) => {
    const source = resolved.sources[key];
    const value = displaySettingValue(parsed[key]);
    return {
      key,
      file_key: source?.kind === 'file' ? source.key : (info.fileKeys?.[0] ?? `orchestrator.${key}`),
      value: info.secret === true && value !== null ? '***' : value,
      source: sourceOf(source),
      secret: info.secret === true,
      description: info.description,
    };
  });
  const urls = Object.keys(resolved.serviceUrls)
    .filter((key) => !(key in catalogue))
    .sort()
    .map((key) => ({
      key,
      file_key: `services.${key}`,
      value: hideUserinfo(resolved.serviceUrls[key] ?? ''),
      source: sourceOf(resolved.serviceUrlSources[key]),
      secret: false,
      description: `Where the ${key.slice(0, -'_URL'.length).toLowerCase()} service is found when it is not registered`,
    }));
  return { file: resolved.file?.path ?? null, settings: [...settings, ...urls], notes: [...resolved.notes] };
}

interface FileSettings {
  readonly label: string;
  readonly path: string;
  /** Variable -> the file key that set it and its value as a string. */
  readonly settings: Map<string, { key: string; value: string }>;
  readonly serviceUrls: Map<string, { key: string; value: string }>;
}

function readConfigFile(
  catalogue: Readonly<Record<string, SettingInfo>>,
  env: Readonly<Record<string, string | undefined>>,
  options: ResolveOptions,
  problems: string[],
  notes: string[],
): FileSettings | undefined {
  const named = env['ORCHESTRATOR_CONFIG_FILE'];
  const label = named !== undefined && named !== '' ? named : DEFAULT_CONFIG_FILE;
  const path = isAbsolute(label) ? label : resolve(options.cwd ?? process.cwd(), label);
  let text: string;
  try {
    text = (options.readFile ?? ((file: string) => readFileSync(file, 'utf8')))(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // No config/app.yaml is the usual case; a file named explicitly must exist.
    if (code === 'ENOENT' && label === DEFAULT_CONFIG_FILE && named === undefined) return undefined;
    const reason = code ?? (error as Error).message;
    problems.push(label === named ? `ORCHESTRATOR_CONFIG_FILE (env): cannot read ${label} (${reason})` : `${label}: cannot read the file (${reason})`);
    return undefined;
  }
  const result: FileSettings = { label, path, settings: new Map(), serviceUrls: new Map() };
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    for (const error of document.errors) {
      const position = error.linePos?.[0];
      const message = (error.message.split('\n')[0] ?? error.message).replace(/ at line \d+, column \d+:?$/, '');
      problems.push(`${label}: YAML syntax error${position ? ` at line ${position.line}, column ${position.col}` : ''}: ${message}`);
    }
    return result;
  }
  const root: unknown = document.toJS();
  if (root === null || root === undefined) return result;
  if (!isMapping(root)) {
    problems.push(`${label}: must be a mapping of sections (${FILE_SECTIONS.join(', ')})`);
    return result;
  }
  const byFileKey = new Map<string, string>();
  for (const [name, info] of Object.entries(catalogue)) {
    for (const key of [...(info.fileKeys ?? []), `orchestrator.${name}`]) byFileKey.set(key, name);
  }
  const where = `(file ${label})`;
  for (const [section, body] of Object.entries(root)) {
    if (section in IGNORED_SECTIONS) {
      notes.push(`${label}: the ${section} section is ignored: ${IGNORED_SECTIONS[section]}`);
      continue;
    }
    if (!(FILE_SECTIONS as readonly string[]).includes(section)) {
      problems.push(`${section} ${where}: unknown section; the file has ${FILE_SECTIONS.join(', ')} (and ignores ${Object.keys(IGNORED_SECTIONS).join(', ')})`);
      continue;
    }
    if (body === null) continue;
    if (!isMapping(body)) {
      problems.push(`${section} ${where}: must be a mapping of keys to values`);
      continue;
    }
    for (const [name, raw] of Object.entries(body)) {
      const key = `${section}.${name}`;
      const setting = byFileKey.get(key);
      const isServiceUrl = setting === undefined && section === 'services' && SERVICE_URL.test(name);
      if (setting === undefined && !isServiceUrl) {
        if (key in IGNORED_FILE_KEYS) notes.push(`${label}: ${key} is ignored: ${IGNORED_FILE_KEYS[key]}`);
        else problems.push(`${key} ${where}: unknown key; ${section} takes ${keysOfSection(section, byFileKey)}`);
        continue;
      }
      const value = fileValue(raw);
      if (typeof value === 'object') {
        problems.push(`${key} ${where}: ${value.problem}`);
        continue;
      }
      if (value === undefined) continue;
      if (isServiceUrl) {
        result.serviceUrls.set(name, { key, value });
        continue;
      }
      const earlier = result.settings.get(setting!);
      if (earlier !== undefined && earlier.value !== value) {
        problems.push(`${key} ${where}: sets ${setting} as ${earlier.key} does, differently; keep one`);
        continue;
      }
      if (earlier === undefined) result.settings.set(setting!, { key, value });
    }
  }
  return result;
}

/** A file value as the environment would hold it: scalars as text, a list comma-joined; null: unset. */
function fileValue(raw: unknown): string | undefined | { problem: string } {
  if (raw === null || raw === undefined) return undefined;
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'bigint') return String(raw);
  if (Array.isArray(raw)) {
    const items = raw.map(fileValue);
    if (items.every((item): item is string => typeof item === 'string')) return items.join(',');
    return { problem: 'a list must hold values only (text, numbers, true/false)' };
  }
  return { problem: 'must be a value or a list of values, not a mapping' };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function keysOfSection(section: string, byFileKey: ReadonlyMap<string, string>): string {
  if (section === 'orchestrator') return 'setting names (ORCHESTRATOR_PEERS, PORT...: config/app.example.yaml lists them)';
  const keys = [...byFileKey.keys()].filter((key) => key.startsWith(`${section}.`)).map((key) => key.slice(section.length + 1));
  return `${keys.join(', ')}${section === 'services' ? ', <NAME>_URL' : ''}`;
}
