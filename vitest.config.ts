import { defineConfig } from 'vitest/config';

/**
 * Unit and infra tests exercise code with no state of its own beyond what each test builds: they share one module
 * graph per worker (`isolate: false`), so that the CDK library, the SDK, zod and the compiler load once instead of
 * once per file (import was about 40% of the suite's time). Spies are restored after each test there. Suites that
 * start servers or processes, or change the process's logger or environment, keep a fresh module graph per file.
 */
const ISOLATED_UNIT_FILES = ['test/unit/functions/observability/logger.test.ts', 'test/unit/functions/observability/xray.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    // The SDK must never probe the instance metadata endpoint or find real credentials.
    env: {
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'shared', include: ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts'], exclude: ISOLATED_UNIT_FILES, isolate: false, restoreMocks: true, unstubEnvs: true, unstubGlobals: true } },
      { extends: true, test: { name: 'isolated', include: ['test/{integration,contract,fuzz,cli,console}/**/*.test.ts', ...ISOLATED_UNIT_FILES] } },
    ],
  },
});
