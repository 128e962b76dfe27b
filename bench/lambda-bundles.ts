import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { entryFileName, routes, type RouteName } from '../functions/routes.ts';
import { LAMBDA_BUNDLING, LAMBDA_NODE_OPTIONS } from '../infra/constructs/bundling.ts';
import { childEnvironment, makeScratchDirectory, PROJECT_ROOT, removeScratchDirectory } from './environment.ts';
import { kilobytes, median, round, table, verdict } from './stats.ts';

/**
 * The esbuild options CDK's NodejsFunction derives from infra/constructs/bundling.ts (the same data
 * api-function.ts builds its `bundling` from): one minified ESM file per route, `@aws-sdk/*` left out
 * because the Lambda runtime ships it, a `require` shim because bundled CommonJS dependencies call `require`
 * and ESM output has none, and a linked source map without sources. Only what NodejsFunction adds itself
 * (`--bundle`, the output file) is set here; every other field is passed on as is, so one added to the data
 * reaches the benchmark too.
 */
const { banner, external, mainFields, ...sameInEsbuild } = LAMBDA_BUNDLING;
export const ESBUILD_OPTIONS = {
  ...sameInEsbuild,
  bundle: true,
  banner: { js: banner },
  // esbuild's types want mutable arrays.
  external: [...external],
  mainFields: [...mainFields],
  logLevel: 'warning',
} as const satisfies BuildOptions;

/**
 * What-if, not what ships: the same build with `import { z } from 'zod'` rewritten to `import * as z from 'zod'`
 * in project files. The `z` export is a namespace object that also carries `z.locales` (every translation of
 * every error message), and esbuild cannot drop members of a namespace object that is passed around as a
 * value. A namespace import used only as `z.member` lets it keep just the members used.
 */
const namespaceZodImport: Plugin = {
  name: 'what-if-namespace-zod-import',
  setup(builder) {
    builder.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes('/node_modules/')) return undefined;
      const source = await readFile(args.path, 'utf8');
      return { contents: source.replace(/import \{ z \} from 'zod';/g, "import * as z from 'zod';"), loader: 'ts' };
    });
  },
};

/** Routes whose what-if bundle is also timed: one without the SDK and one with it. */
const WHAT_IF_TIMED_ROUTES: readonly RouteName[] = ['health', 'getWorkflow'];

export const BUNDLE_SIZE_TARGET_KB = 400;
export const INIT_RATIO_TARGET = 1.5;

export interface Contributor {
  /** An npm package, or a top-level folder of this project. */
  readonly name: string;
  readonly kb: number;
  readonly percent: number;
}

/**
 * Cold init of one module, two ways, all medians of interleaved runs (see measureLambdaBundles):
 * - the issue's definition: a fresh node process that loads the module versus one that loads nothing;
 * - closer to Lambda: both processes have loaded `node:http` first. The Lambda runtime interface client
 *   always has (it talks HTTP to the runtime API) before it imports the handler, and `node:http` alone costs
 *   a fresh Node 24 process tens of milliseconds, which the first ratio charges to the bundle (middy's util
 *   imports it for STATUS_CODES, the SDK for its HTTP handlers).
 */
export interface ColdInitSummary {
  /** Wall time of `node` importing the module, spawn to exit. */
  readonly wallMs: number;
  /** Wall time of `node` importing an empty module. */
  readonly emptyWallMs: number;
  /** wallMs / emptyWallMs: the issue's definition, the one the target applies to. */
  readonly ratio: number;
  /** Time inside the child on `import()` of the module alone: module loading and top-level code. */
  readonly importMs: number;
  /** Time from process start to the first line of user code (Node's own boot). */
  readonly bootMs: number;
  /** Wall time of `node` importing `node:http`, then the module. */
  readonly afterHttpWallMs: number;
  /** Wall time of `node` importing `node:http`, then an empty module. */
  readonly httpOnlyWallMs: number;
  /** afterHttpWallMs / httpOnlyWallMs. */
  readonly afterHttpRatio: number;
  /** Time inside the child on `import()` of the module once `node:http` is loaded: the module's own cost. */
  readonly afterHttpImportMs: number;
  /** Time inside the child on `import('node:http')`, in a fresh process. */
  readonly httpImportMs: number;
  readonly runs: number;
}

export interface BundleResult {
  readonly route: RouteName;
  readonly entry: string;
  readonly kb: number;
  readonly gzipKb: number;
  /** The .map file beside the bundle: deployed, read only when a stack trace is mapped (or at load with --enable-source-maps). */
  readonly sourceMapKb: number;
  readonly topContributors: readonly Contributor[];
  /** Packages the bundle imports at run time instead of containing them. */
  readonly externalImports: readonly string[];
  readonly coldInit: ColdInitSummary;
  readonly withinSizeTarget: boolean;
  /** coldInit.ratio under INIT_RATIO_TARGET: the issue's definition. */
  readonly withinInitTarget: boolean;
  /** coldInit.afterHttpRatio under INIT_RATIO_TARGET: against a baseline that has loaded node:http. */
  readonly withinInitTargetAfterHttp: boolean;
  /** Size with the namespace zod import (see namespaceZodImport). */
  readonly namespaceZodImportKb: number;
  /** Cold init with the namespace zod import, for WHAT_IF_TIMED_ROUTES only. */
  readonly namespaceZodImportColdInit?: ColdInitSummary;
}

export interface BundleSection {
  readonly options: typeof ESBUILD_OPTIONS;
  readonly nodeVersion: string;
  readonly runsPerSubject: number;
  readonly bundles: readonly BundleResult[];
  /** The same cold-init measurement for a module that only imports the DynamoDB SDK: the floor for any route that talks to the table. */
  readonly sdkOnlyFloor: ColdInitSummary;
  /** The API's Lambda REQUEST authorizer (functions/entries/authorizer.ts). */
  readonly authorizer: { readonly kb: number; readonly gzipKb: number; readonly topContributors: readonly Contributor[]; readonly coldInit: ColdInitSummary };
}

interface BuiltBundle<Name extends string = RouteName> {
  readonly route: Name;
  readonly entry: string;
  readonly outputFile: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly sourceMapBytes: number;
  readonly topContributors: readonly Contributor[];
  readonly externalImports: readonly string[];
}

export interface ColdInitSample {
  readonly wallMs: number;
  readonly bootMs: number;
  /** `import('node:http')` before the module; 0 for the plain runner. */
  readonly preloadMs: number;
  readonly importMs: number;
}

/**
 * Runs in the child: times `import()` of the module named on the command line and prints the figures. With
 * PRELOAD set, it imports that first (timed separately), as the Lambda runtime has before the handler.
 */
export const runnerSource = (preload?: string): string => `const started = performance.now();
${preload === undefined ? '' : `await import(${JSON.stringify(preload)});`}
const preloaded = performance.now();
await import(process.argv[2]);
const imported = performance.now();
process.stdout.write(JSON.stringify({ bootMs: started, preloadMs: preloaded - started, importMs: imported - preloaded }));
`;

/** What the Lambda runtime interface client has loaded before it imports a handler (see ColdInitSummary). */
const RUNTIME_PRELOAD = 'node:http';

/** The four processes of one round for one subject; see measureLambdaBundles. */
type RunKind = 'empty' | 'subject' | 'httpOnly' | 'afterHttp';
const ROUND_ORDER: readonly RunKind[] = ['empty', 'subject', 'httpOnly', 'afterHttp'];

/** Importing the DynamoDB SDK and nothing else: what the Lambda runtime must load for any table route. */
const SDK_ONLY_SOURCE = `import '@aws-sdk/client-dynamodb';
import '@aws-sdk/lib-dynamodb';
`;

export async function measureLambdaBundles(options: { runs: number }): Promise<BundleSection> {
  const directory = await makeScratchDirectory('bundles');
  try {
    const routeNames = Object.keys(routes) as RouteName[];
    const bundles = await Promise.all(routeNames.map((route) => bundleRoute(route, directory)));
    const whatIfBundles = await Promise.all(routeNames.map((route) => bundleRoute(route, join(directory, 'what-if'), [namespaceZodImport])));
    const runner = join(directory, 'runner.mjs');
    const runnerAfterHttp = join(directory, 'runner-after-http.mjs');
    const emptyModule = join(directory, 'empty.mjs');
    const sdkOnlyModule = join(directory, 'sdk-only.mjs');
    await writeFile(runner, runnerSource());
    await writeFile(runnerAfterHttp, runnerSource(RUNTIME_PRELOAD));
    await writeFile(emptyModule, '');
    await writeFile(sdkOnlyModule, SDK_ONLY_SOURCE);

    const whatIfKey = (route: RouteName) => `what-if:${route}`;
    // The API's REQUEST authorizer: with no secret ARNs configured its init reads nothing remote, so it can be timed.
    const authorizer = await bundleEntry('authorizer', 'functions/entries/authorizer.ts', directory);
    const subjects = [
      { key: 'sdk-only', file: sdkOnlyModule },
      { key: 'authorizer', file: authorizer.outputFile },
      ...bundles.map((bundle) => ({ key: bundle.route, file: bundle.outputFile })),
      ...whatIfBundles.filter((bundle) => WHAT_IF_TIMED_ROUTES.includes(bundle.route)).map((bundle) => ({ key: whatIfKey(bundle.route), file: bundle.outputFile })),
    ];
    const samples = new Map<string, Record<RunKind, ColdInitSample[]>>(subjects.map(({ key }) => [key, { empty: [], subject: [], httpOnly: [], afterHttp: [] }]));
    // Interleaved: each round runs, for every subject, its four processes back to back (empty module, the
    // subject, node:http then empty, node:http then the subject), in reverse order every other round, so
    // drift in machine load lands on both sides of each ratio instead of on one bundle.
    for (let round = 0; round < options.runs; round++) {
      const order = round % 2 === 0 ? ROUND_ORDER : [...ROUND_ORDER].reverse();
      for (const { key, file } of subjects) {
        const record = samples.get(key)!;
        for (const kind of order) {
          const afterHttp = kind === 'httpOnly' || kind === 'afterHttp';
          const imported = kind === 'empty' || kind === 'httpOnly' ? emptyModule : file;
          record[kind].push(await timeColdInit(afterHttp ? runnerAfterHttp : runner, imported, directory));
        }
      }
    }

    const summaryOf = (key: string) => summarize(samples.get(key)!);
    return {
      options: ESBUILD_OPTIONS,
      nodeVersion: process.version,
      runsPerSubject: options.runs,
      sdkOnlyFloor: summaryOf('sdk-only'),
      authorizer: { kb: kilobytes(authorizer.bytes), gzipKb: kilobytes(authorizer.gzipBytes), topContributors: authorizer.topContributors, coldInit: summaryOf('authorizer') },
      bundles: bundles.map((bundle, position) => {
        const coldInit = summaryOf(bundle.route);
        const kb = kilobytes(bundle.bytes);
        const timedWhatIf = WHAT_IF_TIMED_ROUTES.includes(bundle.route);
        return {
          route: bundle.route,
          entry: bundle.entry,
          kb,
          gzipKb: kilobytes(bundle.gzipBytes),
          sourceMapKb: kilobytes(bundle.sourceMapBytes),
          topContributors: bundle.topContributors,
          externalImports: bundle.externalImports,
          coldInit,
          withinSizeTarget: kb < BUNDLE_SIZE_TARGET_KB,
          withinInitTarget: coldInit.ratio < INIT_RATIO_TARGET,
          withinInitTargetAfterHttp: coldInit.afterHttpRatio < INIT_RATIO_TARGET,
          namespaceZodImportKb: kilobytes(whatIfBundles[position]!.bytes),
          namespaceZodImportColdInit: timedWhatIf ? summaryOf(whatIfKey(bundle.route)) : undefined,
        };
      }),
    };
  } finally {
    await removeScratchDirectory(directory);
  }
}

async function bundleRoute(route: RouteName, directory: string, plugins: Plugin[] = []): Promise<BuiltBundle> {
  return bundleEntry(route, `functions/entries/${entryFileName(route)}`, directory, plugins);
}

async function bundleEntry<Name extends string>(route: Name, entry: string, directory: string, plugins: Plugin[] = []): Promise<BuiltBundle<Name>> {
  // CDK writes each function's bundle as index.mjs in its own asset folder.
  const outputFile = join(directory, route, 'index.mjs');
  const result = await build({ ...ESBUILD_OPTIONS, absWorkingDir: PROJECT_ROOT, entryPoints: [entry], outfile: outputFile, metafile: true, plugins });
  const code = await readFile(outputFile);
  const sourceMap = await readFile(`${outputFile}.map`);
  return {
    route,
    entry,
    outputFile,
    bytes: code.byteLength,
    gzipBytes: gzipSync(code).byteLength,
    sourceMapBytes: sourceMap.byteLength,
    topContributors: topContributors(result.metafile, code.byteLength, 3),
    externalImports: externalImports(result.metafile),
  };
}

/** The inputs that take the most room in the output, grouped by package (or project folder), largest first. */
export function topContributors(metafile: Metafile, totalBytes: number, count: number): Contributor[] {
  const bytesByContributor = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [inputPath, input] of Object.entries(output.inputs)) {
      const name = contributorOf(inputPath);
      bytesByContributor.set(name, (bytesByContributor.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...bytesByContributor]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, bytes]) => ({ name, kb: kilobytes(bytes), percent: round((bytes / totalBytes) * 100, 0) }));
}

function contributorOf(inputPath: string): string {
  const marker = 'node_modules/';
  const at = inputPath.lastIndexOf(marker);
  if (at >= 0) {
    const [scopeOrName = inputPath, name = ''] = inputPath.slice(at + marker.length).split('/');
    return scopeOrName.startsWith('@') ? `${scopeOrName}/${name}` : scopeOrName;
  }
  return `${inputPath.split('/')[0]}/`;
}

function externalImports(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (imported.external && !imported.path.startsWith('node:') && imported.path !== 'module') names.add(imported.path);
    }
  }
  return [...names].sort();
}

/** A child that has not exited by then is stuck: kill it and fail the section instead of hanging the benchmark. */
const CHILD_DEADLINE_MS = 30_000;

/** One fresh `node` process importing `modulePath`: wall time from spawn to exit, plus the child's own figures. */
export function timeColdInit(runner: string, modulePath: string, cwd: string): Promise<ColdInitSample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [runner, pathToFileURL(modulePath).href], {
      cwd,
      // Table names, the dead-letter queue and the bus: the entries read their configuration at init and would
      // refuse to load without what their route declares. NODE_OPTIONS as in Lambda; the empty-module baseline
      // gets the same, so the ratio compares modules only.
      env: childEnvironment({
        WORKFLOWS_TABLE_NAME: 'bench',
        EXECUTIONS_TABLE_NAME: 'bench',
        REGISTRY_TABLE_NAME: 'bench',
        API_KEYS_TABLE_NAME: 'bench',
        AUDIT_TABLE_NAME: 'bench',
        WORKFLOW_DEAD_LETTER_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench',
        WORKFLOW_EVENT_BUS_NAME: 'bench',
        EVENTS_TABLE_NAME: 'bench',
        SUBSCRIPTIONS_TABLE_NAME: 'bench',
        PAYLOAD_BUCKET_NAME: 'bench-payloads',
        WORKFLOW_LOG_GROUP_NAME: 'bench',
        // Spans are recorded as in AWS (the recorder and its table client are built at init).
        SPANS_TABLE_NAME: 'bench',
        // A placeholder of the required length (routes that list sign their cursors), not a secret of anything.
        ORCHESTRATOR_CURSOR_SECRET: 'bench-cursor-signing-key-placeholder-0123456789',
        NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let wallMs = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const deadline = setTimeout(() => child.kill('SIGKILL'), CHILD_DEADLINE_MS);
    child.once('exit', () => (wallMs = performance.now() - started));
    child.once('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(deadline);
      if (code !== 0) {
        reject(new Error(`importing ${modulePath} failed (${signal === 'SIGKILL' ? `killed after ${CHILD_DEADLINE_MS} ms` : `exit ${code}`}): ${stderr.trim()}`));
        return;
      }
      const figures = JSON.parse(stdout) as { bootMs: number; preloadMs: number; importMs: number };
      resolve({ wallMs, bootMs: figures.bootMs, preloadMs: figures.preloadMs, importMs: figures.importMs });
    });
  });
}

function summarize(samples: Readonly<Record<RunKind, readonly ColdInitSample[]>>): ColdInitSummary {
  const medianOf = (kind: RunKind, pick: (sample: ColdInitSample) => number) => median(samples[kind].map(pick));
  const wallMs = medianOf('subject', (sample) => sample.wallMs);
  const emptyWallMs = medianOf('empty', (sample) => sample.wallMs);
  const afterHttpWallMs = medianOf('afterHttp', (sample) => sample.wallMs);
  const httpOnlyWallMs = medianOf('httpOnly', (sample) => sample.wallMs);
  return {
    wallMs: round(wallMs),
    emptyWallMs: round(emptyWallMs),
    ratio: round(wallMs / emptyWallMs, 2),
    importMs: round(medianOf('subject', (sample) => sample.importMs)),
    bootMs: round(medianOf('subject', (sample) => sample.bootMs)),
    afterHttpWallMs: round(afterHttpWallMs),
    httpOnlyWallMs: round(httpOnlyWallMs),
    afterHttpRatio: round(afterHttpWallMs / httpOnlyWallMs, 2),
    afterHttpImportMs: round(medianOf('afterHttp', (sample) => sample.importMs)),
    httpImportMs: round(medianOf('httpOnly', (sample) => sample.preloadMs)),
    runs: samples.subject.length,
  };
}

/** One row of the cold-init table. */
function coldInitRow(label: string, coldInit: ColdInitSummary): Array<string | number> {
  return [
    label,
    coldInit.wallMs,
    coldInit.emptyWallMs,
    coldInit.ratio,
    verdict(coldInit.ratio < INIT_RATIO_TARGET),
    coldInit.afterHttpWallMs,
    coldInit.httpOnlyWallMs,
    coldInit.afterHttpRatio,
    verdict(coldInit.afterHttpRatio < INIT_RATIO_TARGET),
    coldInit.importMs,
    coldInit.afterHttpImportMs,
    coldInit.bootMs,
  ];
}

/** "met by all 13 routes", "NOT met by any of the 13 routes", or which routes meet it and which do not. */
function targetOutcome(results: ReadonlyArray<{ readonly route: string; readonly met: boolean }>): string {
  const met = results.filter((result) => result.met).map((result) => result.route);
  const missed = results.filter((result) => !result.met).map((result) => result.route);
  if (missed.length === 0) return `met by all ${results.length} routes`;
  if (met.length === 0) return `NOT met by any of the ${results.length} routes`;
  return `NOT met by ${missed.length} of ${results.length} routes (${missed.join(', ')}); met by ${met.join(', ')}`;
}

export function renderBundleSection(section: BundleSection): string {
  const rows = section.bundles.map((bundle) => [
    bundle.route,
    bundle.kb,
    bundle.gzipKb,
    bundle.sourceMapKb,
    verdict(bundle.withinSizeTarget),
    bundle.namespaceZodImportKb,
    bundle.topContributors.map((contributor) => `${contributor.name} ${contributor.kb} KB (${contributor.percent}%)`).join(', '),
  ]);
  const floor = section.sdkOnlyFloor;
  const initRows = [
    ...section.bundles.map((bundle) => coldInitRow(bundle.route, bundle.coldInit)),
    coldInitRow('(floor) SDK imports only', floor),
    coldInitRow('(authorizer) REQUEST authorizer', section.authorizer.coldInit),
    ...section.bundles.flatMap((bundle) => {
      const whatIf = bundle.namespaceZodImportColdInit;
      return whatIf ? [coldInitRow(`(what-if) ${bundle.route}, import * as z`, whatIf)] : [];
    }),
  ];
  const externals = [...new Set(section.bundles.flatMap((bundle) => bundle.externalImports))].join(', ') || 'none';
  // Routes whose bundles are the same size run the same code (they differ in which handler they export):
  // the spread of their timings is this machine's noise, the smallest difference worth reading.
  const sameSize = new Map<number, BundleResult[]>();
  for (const bundle of section.bundles) sameSize.set(bundle.kb, [...(sameSize.get(bundle.kb) ?? []), bundle]);
  const largestGroup = [...sameSize.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  const groupWalls = largestGroup.map((bundle) => bundle.coldInit.wallMs);
  const noiseNote =
    largestGroup.length > 1
      ? `  Noise: ${largestGroup.length} bundles with identical code (${largestGroup[0]!.kb} KB) measured ${Math.min(...groupWalls)}-${Math.max(...groupWalls)} ms wall; smaller differences mean nothing.`
      : undefined;
  const httpImportMs = round(median(section.bundles.map((bundle) => bundle.coldInit.httpImportMs)));
  const largest = [...section.bundles].sort((a, b) => b.kb - a.kb)[0];
  const ratioRange = (pick: (bundle: BundleResult) => number) => {
    const values = section.bundles.map(pick);
    return `${Math.min(...values)}-${Math.max(...values)}`;
  };
  return [
    `1. LAMBDA BUNDLES (esbuild options from infra/constructs/bundling.ts, as CDK passes them: ${section.options.format}, ${section.options.target}, minify, ${section.options.sourcemap} source map, external ${section.options.external.join(', ')}; children run on Node ${section.nodeVersion} with NODE_OPTIONS=${LAMBDA_NODE_OPTIONS})`,
    '',
    `Size of index.mjs (target < ${BUNDLE_SIZE_TARGET_KB} KB minified; gzip approximates its share of the deployment zip; the .map is deployed beside it)`,
    table(['route', 'KB', 'gzip KB', 'map KB', 'size', 'KB what-if', 'top 3 contributors'], rows),
    `  The REQUEST authorizer (functions/entries/authorizer.ts): ${section.authorizer.kb} KB, gzip ${section.authorizer.gzipKb} KB; ${section.authorizer.topContributors.map((contributor) => `${contributor.name} ${contributor.kb} KB`).join(', ')}.`,
    "  KB what-if = the same build with `import { z } from 'zod'` rewritten to `import * as z from 'zod'` (not shipped; see cold init below).",
    '',
    `Cold init: wall time of fresh node processes, spawn to exit, medians of ${section.runsPerSubject} interleaved runs of each (target ratio < ${INIT_RATIO_TARGET})`,
    `  A = imports the bundle; E = imports an empty .mjs; A/E is the issue's definition ("loads the bundle versus loads nothing").`,
    `  H+B = imports ${RUNTIME_PRELOAD}, then the bundle; H = imports ${RUNTIME_PRELOAD}, then an empty .mjs. The Lambda runtime has always loaded ${RUNTIME_PRELOAD} before it imports a handler.`,
    table(['route', 'A ms', 'E ms', 'A/E', 'target', 'H+B ms', 'H ms', 'H+B/H', 'target', 'import() ms', 'import() after http ms', 'node boot ms'], initRows),
    `  import() ms = inside the child, around import() of the bundle in a fresh process; import() after http ms = the same once ${RUNTIME_PRELOAD} is loaded: the bundle's own cost.`,
    `  node boot ms = process start to the runner's first line. ${RUNTIME_PRELOAD} alone: ${httpImportMs} ms to import in a fresh process (median).`,
    `  Resolved at run time from the project's node_modules (as the Lambda runtime provides them): ${externals}.`,
    ...(noiseNote ? [noiseNote] : []),
    '',
    'Targets:',
    `  Size < ${BUNDLE_SIZE_TARGET_KB} KB: ${targetOutcome(section.bundles.map((bundle) => ({ route: bundle.route, met: bundle.withinSizeTarget })))}${largest ? ` (largest: ${largest.route}, ${largest.kb} KB)` : ''}.`,
    `  Cold init < ${INIT_RATIO_TARGET}x, the issue's definition (A/E, ${ratioRange((bundle) => bundle.coldInit.ratio)}x): ${targetOutcome(section.bundles.map((bundle) => ({ route: bundle.route, met: bundle.withinInitTarget })))}.`,
    `  Cold init < ${INIT_RATIO_TARGET}x against a baseline that has loaded ${RUNTIME_PRELOAD} (H+B/H, ${ratioRange((bundle) => bundle.coldInit.afterHttpRatio)}x): ${targetOutcome(section.bundles.map((bundle) => ({ route: bundle.route, met: bundle.withinInitTargetAfterHttp })))}.`,
    `  Floor: a module importing only the DynamoDB SDK measures ${floor.ratio}x (A/E, ${floor.ratio < INIT_RATIO_TARGET ? 'within' : 'OVER'} the target) and ${floor.afterHttpRatio}x (H+B/H, ${floor.afterHttpRatio < INIT_RATIO_TARGET ? 'within' : 'OVER'}); no route that uses the table can measure less.`,
  ].join('\n');
}
