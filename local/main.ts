import { join } from 'node:path';
import { ConfigurationError, readLocalConfig } from './config.ts';
import { describeAuth } from './auth-banner.ts';
import { runtimeOptionsFrom } from './settings-runtime.ts';

/**
 * `npm start`: the orchestrator on this machine, data kept under ORCHESTRATOR_DATA_DIR, configured by the
 * environment over config/app.yaml (or ORCHESTRATOR_CONFIG_FILE) over defaults (local/config.ts).
 */
const config = readConfigOrExit();
// Loaded once the configuration is known to be valid: a refused start answers at once, not after loading every module.
const { startLocalRuntime } = await import('./runtime.ts');
// The console `npm start` built (local/console-site.ts).
const consoleDirectory = join(import.meta.dirname, '..', 'dist', 'console');
const runtime = await startLocalRuntime({ ...runtimeOptionsFrom(config), consoleDirectory }).catch((error: unknown) => exitWith(startFailure(error, config.port, config.host)));
// Before the banner: a supervisor (or a test) that stops the process as soon as it reads the banner must find
// the handlers in place, or the signal's default action would end the process without its orderly stop.
let stopping = false;
/**
 * A stop (Ctrl-C reaches npm, its shell and node at once; SIGTERM from a supervisor) stops accepting requests,
 * lets calls in flight finish for ORCHESTRATOR_SHUTDOWN_GRACE_SECONDS, leaves every unfinished run where it is
 * (the next start continues it) and exits 0. A second signal does not cut that short.
 */
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal} received: finishing calls in flight (up to ${config.shutdownGraceSeconds} s), then stopping; unfinished runs continue at the next start`);
  const limit = (config.shutdownGraceSeconds + 10) * 1000;
  const forced = setTimeout(() => {
    console.error(`shutdown took more than ${limit / 1000} s; exiting anyway (unfinished runs continue at the next start)`);
    process.exit(1);
  }, limit);
  forced.unref();
  try {
    await runtime.close();
  } catch (error) {
    console.error(`orchestrator: shutdown: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

console.log(`Orchestrator listening on ${runtime.url} (console: ${runtime.url}/console/; data in ${config.dynamoEndpoint ? config.dynamoEndpoint : config.dataDir})`);
console.log(`  configuration: ${config.configFile ?? 'environment and defaults (no config/app.yaml)'}   effective settings: ${runtime.url}/config/effective`);
for (const note of config.notes) console.log(`  note: ${note}`);
console.log(`  try: curl ${runtime.url}/health   API description: ${runtime.url}/openapi.json`);
for (const line of describeAuth(config.auth, config.rateLimit)) console.log(line);
if (config.tls?.clientCa) console.log('  mutual TLS: clients must present a certificate signed by a CA in ORCHESTRATOR_TLS_CLIENT_CA_PATH');
for (const line of runtime.describeOutbound()) console.log(`  ${line}`);
console.log(`  dead letters: ${runtime.deadLetterQueueUrl} (SQS at ${runtime.sqsEndpoint})   large responses: s3://${runtime.payloadBucketName} (S3 at ${runtime.s3Endpoint})`);



/**
 * A start that cannot succeed (bad configuration, a port in use) ends with one line per reason and exit code
 * 2, not a stack trace: the operator's mistake, not the program's. Invalid settings are each on their own
 * line, naming the setting and where it came from (`PORT (env): ...`, `monitoring.log_level (file ...): ...`).
 */
function readConfigOrExit(): ReturnType<typeof readLocalConfig> {
  try {
    return readLocalConfig();
  } catch (error) {
    if (error instanceof ConfigurationError) {
      for (const problem of error.problems) console.error(`orchestrator: invalid configuration: ${problem}`);
      process.exit(2);
    }
    return exitWith(error instanceof Error ? error.message : String(error));
  }
}

function exitWith(message: string): never {
  console.error(`orchestrator: ${message}`);
  process.exit(2);
}

function startFailure(error: unknown, port: number, host: string): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE') return `cannot listen on ${host}:${port}: the port is in use (set PORT to another, or 0 for any free one)`;
  if (code === 'EACCES') return `cannot listen on ${host}:${port}: permission denied (ports below 1024 need privileges; set PORT)`;
  if (code === 'EADDRNOTAVAIL') return `cannot listen on ${host}:${port}: ${host} is not an address of this machine (set HOST)`;
  return `could not start: ${error instanceof Error ? error.message : String(error)}`;
}
