import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ESBUILD_OPTIONS } from '../../bench/lambda-bundles.ts';
import { API_FUNCTION_BUNDLING } from '../../infra/constructs/api-function.ts';
import { LAMBDA_BUNDLING, LAMBDA_NODE_OPTIONS } from '../../infra/constructs/bundling.ts';
import { readApiModel } from './api-model.ts';
import { asRecord, buildOrchestratorApp } from './fixture.ts';

/**
 * infra/constructs/bundling.ts is the one description of how Lambda bundles are built: the construct and the
 * benchmark both derive their options from it, so the benchmark measures what gets deployed.
 */
describe('the Lambda bundling settings', () => {
  it('are plain data: the module imports nothing, so the benchmark can read them without aws-cdk-lib', () => {
    const source = readFileSync(path.resolve(import.meta.dirname, '../../infra/constructs/bundling.ts'), 'utf8');
    expect(source).not.toMatch(/^\s*(import|export\s+\*|export\s+\{[^}]*\}\s+from)\b/m);
    expect(source).not.toMatch(/\b(require|import)\s*\(/);
  });

  it('reach every API function unchanged (in NodejsFunction terms)', () => {
    expect(API_FUNCTION_BUNDLING).toMatchObject({
      format: LAMBDA_BUNDLING.format,
      target: LAMBDA_BUNDLING.target,
      mainFields: LAMBDA_BUNDLING.mainFields,
      banner: LAMBDA_BUNDLING.banner,
      minify: LAMBDA_BUNDLING.minify,
      sourceMap: true,
      // CDK's DEFAULT mode is esbuild's bare --sourcemap, which is `linked`.
      sourceMapMode: LAMBDA_BUNDLING.sourcemap === 'linked' ? 'default' : LAMBDA_BUNDLING.sourcemap,
      sourcesContent: LAMBDA_BUNDLING.sourcesContent,
      externalModules: LAMBDA_BUNDLING.external,
      forceDockerBundling: false,
    });
  });

  it('reach the benchmark unchanged (in esbuild terms)', () => {
    const { banner, ...rest } = LAMBDA_BUNDLING;
    expect(ESBUILD_OPTIONS).toMatchObject({ ...rest, banner: { js: banner }, bundle: true });
  });

  it('target the Node.js major that the functions run on, with the NODE_OPTIONS the benchmark uses', () => {
    const model = readApiModel(buildOrchestratorApp());
    expect(model.functions.length).toBeGreaterThan(0);
    for (const deployed of model.functions) {
      expect(deployed.properties['Runtime']).toBe(LAMBDA_BUNDLING.target.replace(/^node(\d+)$/, 'nodejs$1.x'));
      expect(asRecord(asRecord(deployed.properties['Environment'], 'Environment')['Variables'], 'Variables')['NODE_OPTIONS']).toBe(LAMBDA_NODE_OPTIONS);
    }
  });
});
