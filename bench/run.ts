/**
 * `npm run bench`: Lambda bundle sizes and cold init, local start-up time, DynamoDB calls per request, the
 * workflow compiler, the lossless compiler end to end (STG graphs run in the local runtime), the local engine's
 * executions (orchestration overhead per action, runs per second),
 * service resolution (registry lookup and circuit check per service call, with and without the cache), and
 * the health sweep (200 instances: bounded concurrency against sequential, DynamoDB calls per instance), and
 * authentication's overhead per request (each credential against an anonymous request), and listings, search and
 * statistics at 100 / 10,000 / 100,000 workflows (BENCH_LISTING_MAX caps the largest), and recovery after a
 * stop (100 runs cut off in a service call: restart to the first resumed call, and to all completed), and
 * the state transitions pause support costs on Step Functions (never paused, and every call parked once), and
 * the event history's writes and webhook delivery latency, and the ecosystem proxies' overhead and the local
 * scheduler's drift, and the web console, and GET /tools over 50 services' documents (cold and cached), and an
 * MCP tools/call against running the same workflow through the API directly.
 * Prints a report and writes it as JSON to bench/results/latest.json. It reports figures against targets
 * and never fails on timings: this machine is shared and noisy, so only medians and same-run ratios count.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { measureCompiler } from './compiler.ts';
import { renderCompilerSection } from './compiler-render.ts';
import { measureDynamoCalls, renderDynamoSection } from './dynamo-calls.ts';
import { AWS_TEST_ENVIRONMENT } from './environment.ts';
import { measureExecutions, renderExecutionsSection } from './executions.ts';
import { measureLosslessE2e, renderLosslessE2eSection } from './lossless-e2e.ts';
import { measureHealthSweep, renderHealthSweepSection } from './health-sweep.ts';
import { measureServiceResolution, renderServiceResolutionSection } from './service-resolution.ts';
import { measureLambdaBundles, renderBundleSection } from './lambda-bundles.ts';
import { measureLocalStartup, renderStartupSection } from './local-startup.ts';
import { round, since } from './stats.ts';
import { measureAuth, renderAuthSection } from './auth.ts';
import { listingOptionsFromEnvironment, measureListings, renderListingsSection } from './listings.ts';
import { measureRecovery, renderRecoverySection } from './recovery.ts';
import { measurePauseCosts, renderPauseCostSection } from './pause-cost.ts';
import { measureEvents, renderEventsSection } from './events.ts';
import { measureObservability, renderObservabilitySection } from './observability.ts';
import { measureEcosystem, renderEcosystemSection } from './ecosystem.ts';
import { measureConsole, renderConsoleSection } from './console.ts';
import { measureTools, renderToolsSection } from './tools.ts';
import { measureMcp, renderMcpSection } from './mcp.ts';

const COLD_INIT_RUNS = 9;
const STARTUP_RUNS = 5;
const RESULTS_FILE = join(import.meta.dirname, 'results', 'latest.json');

// Section 3 creates SDK clients in this process: never let them look for real credentials or a metadata endpoint.
Object.assign(process.env, AWS_TEST_ENVIRONMENT);

const benchStarted = performance.now();
const timings: Record<string, number> = {};
const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  process.stderr.write(`bench: ${name}...\n`);
  try {
    return await work();
  } finally {
    timings[name] = round(since(started) / 1000, 1);
  }
};

const bundles = await timed('lambda bundles', () => measureLambdaBundles({ runs: COLD_INIT_RUNS }));
const startup = await timed('local start-up', () => measureLocalStartup({ runs: STARTUP_RUNS }));
const dynamo = await timed('dynamodb calls', () => measureDynamoCalls());
const compiler = await timed('compiler', () => measureCompiler());
const losslessE2e = await timed('lossless end to end', () => measureLosslessE2e());
const executions = await timed('executions', () => measureExecutions());
const serviceResolution = await timed('service resolution', () => measureServiceResolution());
const healthSweep = await timed('health sweep', () => measureHealthSweep());
const auth = await timed('authentication', () => measureAuth());
const listings = await timed('listings at scale', () => measureListings(listingOptionsFromEnvironment()));
const recovery = await timed('recovery after a stop', () => measureRecovery());
const pauseCost = await timed('pause cost on Step Functions', () => measurePauseCosts());
const events = await timed('events', () => measureEvents());
const observability = await timed('observability', () => measureObservability());
const ecosystem = await timed('ecosystem', () => measureEcosystem());
const webConsole = await timed('web console', () => measureConsole());
const tools = await timed('tools', () => measureTools());
const mcp = await timed('mcp', () => measureMcp());
const totalSeconds = round(since(benchStarted) / 1000, 1);

const machine = `${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}`.trim();
const report = [
  `Benchmark report ${new Date().toISOString()}, Node ${process.version}, ${machine}`,
  '',
  renderBundleSection(bundles),
  '',
  renderStartupSection(startup),
  '',
  renderDynamoSection(dynamo),
  '',
  renderCompilerSection(compiler),
  '',
  renderLosslessE2eSection(losslessE2e),
  '',
  renderExecutionsSection(executions),
  '',
  renderServiceResolutionSection(serviceResolution),
  '',
  renderHealthSweepSection(healthSweep),
  '',
  renderAuthSection(auth),
  '',
  renderListingsSection(listings),
  '',
  renderRecoverySection(recovery),
  '',
  renderPauseCostSection(pauseCost),
  '',
  renderEventsSection(events),
  '',
  renderObservabilitySection(observability),
  renderEcosystemSection(ecosystem),
  '',
  renderConsoleSection(webConsole),
  '',
  renderToolsSection(tools),
  '',
  renderMcpSection(mcp),
  '',
  `Took ${totalSeconds} s (${Object.entries(timings).map(([name, seconds]) => `${name} ${seconds} s`).join(', ')}). JSON: ${RESULTS_FILE}`,
].join('\n');
console.log(report);

await mkdir(join(import.meta.dirname, 'results'), { recursive: true });
await writeFile(
  RESULTS_FILE,
  `${JSON.stringify({ generatedAt: new Date().toISOString(), node: process.version, machine, totalSeconds, sectionSeconds: timings, bundles, startup, dynamo, compiler, losslessE2e, executions, serviceResolution, healthSweep, auth, listings, recovery, pauseCost, events, observability, ecosystem, webConsole, tools, mcp }, null, 2)}\n`,
);
