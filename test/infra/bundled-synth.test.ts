import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { routes, type BoundedContext, type RouteName, type RouteSpec } from '../../functions/routes.ts';
import { CREATE_REQUIRE_BANNER } from '../../infra/constructs/bundling.ts';
import { asRecord, BUNDLE_EVERY_STACK, buildOrchestratorApp, logicalIdOf } from './fixture.ts';

/**
 * The one test that bundles, as `cdk synth` does: the whole app, every function through CDK's own esbuild
 * invocation (local esbuild, no Docker, no network). It checks what would be uploaded: the asset each
 * function's template points at. About 7 s on its own here; the other infra tests skip bundling.
 */
const BUNDLE_SIZE_LIMIT_BYTES = 680 * 1024;
/*
 * 400 KB until observability (issue 13) added, to every function, the Powertools logger and EMF metrics (about
 * 34 KB) and the span, log and metric code (about 25 KB); prom-client stays in the `/metrics` function alone.
 * What matters is cold init, which `npm run bench` measures before and after (bench/observability.ts).
 * 430 KB until the ecosystem and schedules (issue 14) added about 22 KB to every function (the route table's
 * ecosystem and schedule schemas, and the schedule expression parser functions/config.ts checks the jobs'
 * schedules with; croner, which evaluates them, is only where times are computed). The workflow routes are
 * about 430 KB now; the largest is deleteWorkflow (about 480 KB: it also deletes the workflow's schedules).
 * 480 KB until lossless DAGs and large workflows (issue 15): the compiler every workflow route carries (its
 * limits check compiles) gained the lossless decomposition, dependency gates and splitting, and the execution
 * store its per-action items; deleteWorkflow is about 496 KB with them.
 * 520 KB until llm actions (issue 17): ajv (with fast-uri, about 135 KB minified) refuses an output_schema that
 * is not a JSON Schema when a definition is parsed, and the route table's schemas, definitions included, are in
 * every function. Its instance is built on first use, so a cold start that parses no output_schema compiles no
 * meta-schema. deleteWorkflow is about 656 KB. Confining ajv to the routes that accept definitions would take a
 * check of their own in those routes' composition instead of in the definition schema (ADR 0017).
 *//**
 * Routes that call services or peers over HTTP (`outbound` or `peers` in the route table, and the proxies,
 * `ecosystem`, which call them through the action runner) carry the outbound adapter's HTTP client, undici
 * (ADR 0004: its connector checks the address each socket connects to), about 720 KB minified with its llhttp
 * WebAssembly. Only they do: the other routes stay under the limit above. A proxy, with the action runner's
 * resolution and circuits, is about 1075 KB; with ajv (issue 17, above) about 1245 KB.
 */
const OUTBOUND_BUNDLE_SIZE_LIMIT_BYTES = 1270 * 1024;
/**
 * Routes that ask a language model (`model: 'invoke'`, POST /ai/plan) also carry the planner's graph: LangGraph.js
 * with @langchain/core, langsmith (the tracing client core imports) and zod's v3 build and locales, about
 * 1340 KB minified on their own. planWorkflow is about 2540 KB; the other routes do not carry any of it.
 */
const MODEL_BUNDLE_SIZE_LIMIT_BYTES = 2600 * 1024;
/**
 * `POST /mcp` runs the MCP server (the SDK's server and Streamable HTTP transport, about 370 KB minified with what
 * it pulls in) over the handlers of the nine routes it calls, the action runner among them (callTool): about
 * 1615 KB. It is the one function that serves several routes' work, by design (functions/mcp/in-process-fetch.ts).
 */
const MCP_BUNDLE_SIZE_LIMIT_BYTES = 1700 * 1024;
const asksModel = (route: RouteName) => (routes[route] as RouteSpec).model !== undefined;
const sizeLimitOf = (route: RouteName) => (route === 'mcp' ? MCP_BUNDLE_SIZE_LIMIT_BYTES : asksModel(route) ? MODEL_BUNDLE_SIZE_LIMIT_BYTES : callsOut(route) ? OUTBOUND_BUNDLE_SIZE_LIMIT_BYTES : BUNDLE_SIZE_LIMIT_BYTES);
const callsOut = (route: RouteName) => (routes[route] as RouteSpec).outbound !== undefined || (routes[route] as RouteSpec).peers === true || (routes[route] as RouteSpec).ecosystem === true;

const outdir = mkdtempSync(path.join(tmpdir(), 'orchestrator-bundled-synth-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const synthStarted = performance.now();
const { app, api } = buildOrchestratorApp(BUNDLE_EVERY_STACK, { outdir });
app.synth();
const synthSeconds = (performance.now() - synthStarted) / 1000;

/** Asset ID (its hash) -> directory in the cloud assembly, from every asset manifest of the assembly. */
const assetDirectories = new Map<string, string>();
for (const manifestFile of readdirSync(outdir).filter((name) => name.endsWith('.assets.json'))) {
  const manifest = asRecord(JSON.parse(readFileSync(path.join(outdir, manifestFile), 'utf8')), manifestFile);
  for (const [assetId, entry] of Object.entries(asRecord(manifest['files'] ?? {}, `${manifestFile} files`))) {
    const source = asRecord(asRecord(entry, assetId)['source'], `${assetId} source`);
    if (typeof source['path'] === 'string') assetDirectories.set(assetId, path.join(outdir, source['path']));
  }
}

interface BundledFunction {
  readonly route: RouteName;
  readonly context: BoundedContext;
  readonly directory: string;
  readonly code: string;
  readonly bytes: number;
  /** Every input esbuild put in the bundle, from the source map. */
  readonly sources: readonly string[];
}

/** Follows a route's function from its nested template's `Code.S3Key` to the asset directory that is zipped and uploaded. */
function bundledFunctionOf(route: RouteName): BundledFunction {
  const { context } = routes[route];
  const contextStack = api.contextStacks.get(context);
  const apiFunction = contextStack?.functions.get(route);
  if (contextStack === undefined || apiFunction === undefined) throw new Error(`${route}: no function in the ${context} context`);
  const template = asRecord(JSON.parse(readFileSync(path.join(outdir, contextStack.templateFile), 'utf8')), contextStack.templateFile);
  const resource = asRecord(asRecord(template['Resources'], 'Resources')[logicalIdOf(contextStack, apiFunction.lambda)], route);
  const s3Key = asRecord(asRecord(resource['Properties'], 'Properties')['Code'], 'Code')['S3Key'];
  const assetId = typeof s3Key === 'string' ? /^([0-9a-f]{64})\.zip$/.exec(s3Key)?.[1] : undefined;
  const directory = assetId === undefined ? undefined : assetDirectories.get(assetId);
  if (directory === undefined) throw new Error(`${route}: Code.S3Key ${JSON.stringify(s3Key)} names no file asset of the assembly`);
  const codeFile = path.join(directory, 'index.mjs');
  const sourceMap = asRecord(JSON.parse(readFileSync(`${codeFile}.map`, 'utf8')), `${route} source map`);
  return {
    route,
    context,
    directory,
    code: readFileSync(codeFile, 'utf8'),
    bytes: statSync(codeFile).size,
    sources: Array.isArray(sourceMap['sources']) ? sourceMap['sources'].map(String) : [],
  };
}

const routeNames = Object.keys(routes) as RouteName[];
const bundled = new Map(routeNames.map((route) => [route, bundledFunctionOf(route)]));
const bundleOf = (route: RouteName): BundledFunction => bundled.get(route)!;
/** Routes that use a table, so must import the SDK that the runtime provides. */
const tableRoutes = routeNames.filter((route) => Object.values((routes[route] as RouteSpec).tables).some((access) => access !== undefined));

/** Package specifiers of the bundle's static imports (`import … from"x"`, `import"x"`), as esbuild writes them. */
function importedModules(code: string): string[] {
  // A specifier is a module name or path: minified text such as `"...from"+t` is not one. esbuild's minified
  // output writes `from"x"` and `import"x"` with nothing between: text with a space is prose in a string (an
  // error message of a dependency saying `No result from "OutputFunctionsParser"`), not an import.
  const specifiers = [...code.matchAll(/(?:\bfrom|\bimport)["']([^"']+)["']/g)].map((match) => match[1] ?? '').filter((specifier) => /^[\w@./:-]+$/.test(specifier));
  return [...new Set(specifiers)].sort();
}

describe('the app, synthesized with bundling', () => {
  it('bundles a function for every route of every bounded context', () => {
    console.info(`bundled synth of ${routeNames.length} functions: ${synthSeconds.toFixed(1)} s`);
    const contexts = new Set(routeNames.map((route) => routes[route].context));
    expect(new Set([...bundled.values()].map((bundle) => bundle.context))).toEqual(contexts);
    for (const bundle of bundled.values()) expect(existsSync(path.join(bundle.directory, 'index.mjs')), bundle.route).toBe(true);
  });

  it.each(routeNames)('%s: index.mjs is an ES module that starts with the createRequire banner', (route) => {
    const { code, directory } = bundleOf(route);
    expect(code.startsWith(`${CREATE_REQUIRE_BANNER}\n`)).toBe(true);
    // One file and its map: CDK zips the whole directory.
    expect(readdirSync(directory).sort()).toEqual(['index.mjs', 'index.mjs.map']);
  });

  it.each(routeNames)('%s: contains no AWS SDK code; the SDK stays an import the Lambda runtime resolves', (route) => {
    const { code, sources } = bundleOf(route);
    expect(sources.length).toBeGreaterThan(0);
    // The SDK and the Smithy runtime it is built on: had either been bundled, the map would list its files.
    expect(sources.filter((source) => /(^|\/)node_modules\/@(aws-sdk|smithy)\//.test(source))).toEqual([]);
    const sdkImports = importedModules(code).filter((specifier) => specifier.startsWith('@aws-sdk/'));
    if (tableRoutes.includes(route)) expect(sdkImports).toEqual(expect.arrayContaining(['@aws-sdk/client-dynamodb']));
    // Nothing else is left for the runtime to resolve: Lambda has no node_modules besides the SDK. Node's
    // built-ins resolve with or without `node:` (dependencies' ESM builds import `fs`, `os`...).
    expect(importedModules(code).filter((specifier) => !specifier.startsWith('@aws-sdk/') && !isBuiltin(specifier))).toEqual([]);
  });

  it.each(routeNames)(`%s: index.mjs is under ${BUNDLE_SIZE_LIMIT_BYTES / 1024} KB (${OUTBOUND_BUNDLE_SIZE_LIMIT_BYTES / 1024} KB with the outbound HTTP client, ${MODEL_BUNDLE_SIZE_LIMIT_BYTES / 1024} KB with the planner's graph)`, (route) => {
    expect(bundleOf(route).bytes).toBeLessThan(sizeLimitOf(route));
    // So does the planner's graph: only the routes that ask a model carry LangGraph.
    expect(bundleOf(route).sources.some((source) => /node_modules\/@langchain\//.test(source)), route).toBe(asksModel(route));
    // The HTTP client goes only where it is used.
    expect(bundleOf(route).sources.some((source) => /node_modules\/undici\//.test(source)), route).toBe(callsOut(route));
    // So does the Prometheus client: only `/metrics` renders the text format; the others record EMF.
    expect(bundleOf(route).sources.some((source) => /node_modules\/prom-client\//.test(source)), route).toBe(route === 'getMetrics');
  });

  it(`bundles the authorizer (in the API stack itself) the same way: the banner, only the SDK and Node built-ins imported, under ${BUNDLE_SIZE_LIMIT_BYTES / 1024} KB`, () => {
    const authorizer = api.authorizer?.function;
    if (authorizer === undefined) throw new Error('no authorizer');
    const template = asRecord(JSON.parse(readFileSync(path.join(outdir, api.templateFile), 'utf8')), api.templateFile);
    const resource = asRecord(asRecord(template['Resources'], 'Resources')[logicalIdOf(api, authorizer.lambda)], 'authorizer');
    const s3Key = asRecord(asRecord(resource['Properties'], 'Properties')['Code'], 'Code')['S3Key'];
    const directory = assetDirectories.get(typeof s3Key === 'string' ? s3Key.replace(/\.zip$/, '') : '');
    if (directory === undefined) throw new Error(`authorizer: Code.S3Key ${JSON.stringify(s3Key)} names no file asset`);
    const codeFile = path.join(directory, 'index.mjs');
    const code = readFileSync(codeFile, 'utf8');
    expect(code.startsWith(`${CREATE_REQUIRE_BANNER}\n`)).toBe(true);
    expect(importedModules(code).filter((specifier) => !specifier.startsWith('@aws-sdk/') && !isBuiltin(specifier))).toEqual([]);
    expect(importedModules(code)).toEqual(expect.arrayContaining(['@aws-sdk/client-secrets-manager', '@aws-sdk/client-dynamodb']));
    expect(statSync(codeFile).size).toBeLessThan(BUNDLE_SIZE_LIMIT_BYTES);
  });
});
