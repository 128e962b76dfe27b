import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { entryFileName, routes, type RouteName } from '../functions/routes.ts';
import { childEnvironment, makeScratchDirectory, PROJECT_ROOT, removeScratchDirectory } from './environment.ts';
import { kilobytes, median, round, table, verdict } from './stats.ts';

/**
 * The esbuild options CDK's NodejsFunction derives from `bundling` in infra/constructs/api-function.ts: one
 * minified ESM file per route, `@aws-sdk/*` left out because the Lambda runtime ships it, a `require` shim
 * because bundled CommonJS dependencies call `require` and ESM output has none, and a linked source map
 * without sources. Copied, not imported: the construct keeps them inline in its NodejsFunction props, and
 * loading aws-cdk-lib here would cost seconds. Keep the two in step.
 */
export const LAMBDA_BUNDLING = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  external: ['@aws-sdk/*'],
  // What the construct sets for ESM output: prefer packages' ESM builds.
  mainFields: ['module', 'main'],
  banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
  // CDK's `sourceMap: true` is esbuild's `--sourcemap`: a separate .map file and a comment pointing at it.
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
} as const satisfies BuildOptions;

/** The construct sets this in every function's environment; it changes how Node loads a module with a map. */
const LAMBDA_NODE_OPTIONS = '--enable-source-maps';

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

export interface ColdInitSummary {
  /** Median wall time of `node` importing the bundle, spawn to exit. */
  readonly wallMs: number;
  /** Median wall time of `node` importing an empty module, measured alternately with the line above. */
  readonly emptyWallMs: number;
  readonly ratio: number;
  /** Median time spent inside the child on `import()` alone: module loading and top-level code. */
  readonly importMs: number;
  /** Median time from process start to the first line of user code (Node's own boot). */
  readonly bootMs: number;
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
  readonly withinInitTarget: boolean;
  /** Size with the namespace zod import (see namespaceZodImport). */
  readonly namespaceZodImportKb: number;
  /** Cold init with the namespace zod import, for WHAT_IF_TIMED_ROUTES only. */
  readonly namespaceZodImportColdInit?: ColdInitSummary;
}

export interface BundleSection {
  readonly options: typeof LAMBDA_BUNDLING;
  readonly nodeVersion: string;
  readonly runsPerSubject: number;
  readonly bundles: readonly BundleResult[];
  /** The same cold-init measurement for a module that only imports the DynamoDB SDK: the floor for any route that talks to the table. */
  readonly sdkOnlyFloor: ColdInitSummary;
}

interface BuiltBundle {
  readonly route: RouteName;
  readonly entry: string;
  readonly outputFile: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly sourceMapBytes: number;
  readonly topContributors: readonly Contributor[];
  readonly externalImports: readonly string[];
}

interface ColdInitSample {
  readonly wallMs: number;
  readonly bootMs: number;
  readonly importMs: number;
}

/** Runs in the child: times `import()` of the module named on the command line and prints the figures. */
const RUNNER_SOURCE = `const started = performance.now();
await import(process.argv[2]);
const imported = performance.now();
process.stdout.write(JSON.stringify({ bootMs: started, importMs: imported - started }));
`;

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
    const emptyModule = join(directory, 'empty.mjs');
    const sdkOnlyModule = join(directory, 'sdk-only.mjs');
    await writeFile(runner, RUNNER_SOURCE);
    await writeFile(emptyModule, '');
    await writeFile(sdkOnlyModule, SDK_ONLY_SOURCE);

    const whatIfKey = (route: RouteName) => `what-if:${route}`;
    const subjects = [
      { key: 'sdk-only', file: sdkOnlyModule },
      ...bundles.map((bundle) => ({ key: bundle.route, file: bundle.outputFile })),
      ...whatIfBundles.filter((bundle) => WHAT_IF_TIMED_ROUTES.includes(bundle.route)).map((bundle) => ({ key: whatIfKey(bundle.route), file: bundle.outputFile })),
    ];
    const samples = new Map<string, { subject: ColdInitSample[]; empty: ColdInitSample[] }>(subjects.map(({ key }) => [key, { subject: [], empty: [] }]));
    // Interleaved: every subject run sits next to an empty-module run, and the order flips each round, so
    // drift in machine load lands on both sides of each ratio instead of on one bundle.
    for (let round = 0; round < options.runs; round++) {
      for (const { key, file } of subjects) {
        const record = samples.get(key)!;
        if (round % 2 === 0) {
          record.empty.push(await timeColdInit(runner, emptyModule, directory));
          record.subject.push(await timeColdInit(runner, file, directory));
        } else {
          record.subject.push(await timeColdInit(runner, file, directory));
          record.empty.push(await timeColdInit(runner, emptyModule, directory));
        }
      }
    }

    const summaryOf = (key: string) => summarize(samples.get(key)!);
    return {
      options: LAMBDA_BUNDLING,
      nodeVersion: process.version,
      runsPerSubject: options.runs,
      sdkOnlyFloor: summaryOf('sdk-only'),
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
  const entry = `functions/entries/${entryFileName(route)}`;
  // CDK writes each function's bundle as index.mjs in its own asset folder.
  const outputFile = join(directory, route, 'index.mjs');
  const result = await build({ ...LAMBDA_BUNDLING, absWorkingDir: PROJECT_ROOT, entryPoints: [entry], outfile: outputFile, metafile: true, plugins });
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
function topContributors(metafile: Metafile, totalBytes: number, count: number): Contributor[] {
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

/** One fresh `node` process importing `modulePath`: wall time from spawn to exit, plus the child's own figures. */
function timeColdInit(runner: string, modulePath: string, cwd: string): Promise<ColdInitSample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [runner, pathToFileURL(modulePath).href], {
      cwd,
      // WORKFLOWS_TABLE_NAME: the entries read their configuration at init and would refuse to load without it.
      // NODE_OPTIONS as in Lambda; the empty-module baseline gets the same, so the ratio compares modules only.
      env: childEnvironment({ WORKFLOWS_TABLE_NAME: 'bench', NODE_OPTIONS: LAMBDA_NODE_OPTIONS }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let wallMs = 0;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('exit', () => (wallMs = performance.now() - started));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) {
        reject(new Error(`importing ${modulePath} failed (exit ${code}): ${stderr.trim()}`));
        return;
      }
      const figures = JSON.parse(stdout) as { bootMs: number; importMs: number };
      resolve({ wallMs, bootMs: figures.bootMs, importMs: figures.importMs });
    });
  });
}

function summarize(samples: { subject: readonly ColdInitSample[]; empty: readonly ColdInitSample[] }): ColdInitSummary {
  const wallMs = median(samples.subject.map((sample) => sample.wallMs));
  const emptyWallMs = median(samples.empty.map((sample) => sample.wallMs));
  return {
    wallMs: round(wallMs),
    emptyWallMs: round(emptyWallMs),
    ratio: round(wallMs / emptyWallMs, 2),
    importMs: round(median(samples.subject.map((sample) => sample.importMs))),
    bootMs: round(median(samples.subject.map((sample) => sample.bootMs))),
    runs: samples.subject.length,
  };
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
    ...section.bundles.map((bundle) => [bundle.route, bundle.coldInit.wallMs, bundle.coldInit.emptyWallMs, bundle.coldInit.ratio, verdict(bundle.withinInitTarget), bundle.coldInit.importMs, bundle.coldInit.bootMs]),
    ['(floor) SDK imports only', floor.wallMs, floor.emptyWallMs, floor.ratio, verdict(floor.ratio < INIT_RATIO_TARGET), floor.importMs, floor.bootMs],
    ...section.bundles.flatMap((bundle) => {
      const whatIf = bundle.namespaceZodImportColdInit;
      return whatIf ? [[`(what-if) ${bundle.route}, import * as z`, whatIf.wallMs, whatIf.emptyWallMs, whatIf.ratio, verdict(whatIf.ratio < INIT_RATIO_TARGET), whatIf.importMs, whatIf.bootMs]] : [];
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
  return [
    `1. LAMBDA BUNDLES (esbuild as infra/constructs/api-function.ts: ${section.options.format}, ${section.options.target}, minify, ${section.options.sourcemap} source map, external ${section.options.external.join(', ')}; children run on Node ${section.nodeVersion} with NODE_OPTIONS=${LAMBDA_NODE_OPTIONS})`,
    '',
    `Size of index.mjs (target < ${BUNDLE_SIZE_TARGET_KB} KB minified; gzip approximates its share of the deployment zip; the .map is deployed beside it)`,
    table(['route', 'KB', 'gzip KB', 'map KB', 'size', 'KB what-if', 'top 3 contributors'], rows),
    "  KB what-if = the same build with `import { z } from 'zod'` rewritten to `import * as z from 'zod'` (not shipped; see cold init below).",
    '',
    `Cold init: fresh node importing the bundle vs. fresh node importing an empty .mjs, medians of ${section.runsPerSubject} interleaved runs each (target ratio < ${INIT_RATIO_TARGET})`,
    table(['route', 'wall ms', 'empty ms', 'ratio', 'init', 'import() ms', 'node boot ms'], initRows),
    `  import() ms = inside the child, around import() of the bundle; node boot ms = process start to the runner's first line.`,
    `  Resolved at run time from the project's node_modules (as the Lambda runtime provides them): ${externals}.`,
    ...(noiseNote ? [noiseNote] : []),
  ].join('\n');
}
