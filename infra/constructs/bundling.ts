/**
 * How every Lambda bundle is built, as plain data: the one source of truth for the esbuild settings.
 * `api-function.ts` turns it into the `bundling` options of each NodejsFunction; `bench/lambda-bundles.ts`
 * turns it into esbuild build options to measure exactly what gets deployed. This module imports nothing
 * (test/infra checks it), so the benchmark can read it without loading aws-cdk-lib.
 *
 * The vocabulary is esbuild's, since esbuild is what runs: CDK passes each field on as the CLI flag of the
 * same name (`--format=esm`, `--sourcemap=linked`, `--external:@aws-sdk/*`...).
 */

/**
 * Bundles are ESM, but some dependencies are CommonJS and call `require`; ESM has no `require`, so the
 * bundle defines one first.
 */
export const CREATE_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

export const LAMBDA_BUNDLING = {
  /** One ES module per function; CDK names it index.mjs. */
  format: 'esm',
  /** CDK always bundles for Node. */
  platform: 'node',
  /** The Lambda runtime's Node.js major (api-function.ts deploys Runtime.NODEJS_24_X). */
  target: 'node24',
  /** Prefer packages' ESM builds: they tree-shake, and ESM output need not wrap them in CommonJS shims. */
  mainFields: ['module', 'main'],
  banner: CREATE_REQUIRE_BANNER,
  minify: true,
  /** A separate .map file and a comment pointing at it (what CDK's `sourceMap: true` gives). */
  sourcemap: 'linked',
  /** Stack traces need the mappings, not a copy of the sources inside the map. */
  sourcesContent: false,
  /** The Lambda Node.js runtime ships the AWS SDK v3: the bundles import it at run time instead of containing it. */
  external: ['@aws-sdk/*'],
} as const;

/**
 * Set in every function's environment: stack traces point into the TypeScript sources. It also changes how
 * Node loads a module that has a map, so the benchmark's children run with it too.
 */
export const LAMBDA_NODE_OPTIONS = '--enable-source-maps';
