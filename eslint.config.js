// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import rules from DESIGN.md, enforced here rather than in review. */
const forbid = (patterns, message) => ({ group: patterns, message });

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'cdk.out/', '.data/', '.scratch/', '.bench-tmp/', 'bench/results/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', performance: 'readonly', crypto: 'readonly', TextEncoder: 'readonly', structuredClone: 'readonly', NodeJS: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          forbid(['@aws-sdk/*', 'aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', '@middy/*', 'aws-lambda', 'node:*'], 'core/ is pure domain code: zod only, no AWS, middy, CDK or Node APIs'),
          forbid(['**/statemachines/**', '**/adapters/**', '**/functions/**', '**/local/**', '**/infra/**'], 'core/ imports nothing else of the repository'),
        ],
      }],
    },
  },
  {
    files: ['statemachines/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          forbid(['@aws-sdk/*', 'aws-cdk-lib', 'aws-cdk-lib/*', '@middy/*'], 'the compiler is a pure function'),
          forbid(['**/adapters/**', '**/functions/**', '**/local/**', '**/infra/**'], 'statemachines/ imports core/ only'),
        ],
      }],
    },
  },
  {
    files: ['adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [forbid(['**/functions/**', '**/local/**', '**/infra/**', '**/statemachines/**', '@middy/*', 'aws-cdk-lib', 'aws-cdk-lib/*'], 'adapters import core/ and their SDK only')],
      }],
    },
  },
  {
    files: ['functions/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [forbid(['**/local/**', '**/infra/**', 'aws-cdk-lib', 'aws-cdk-lib/*', 'dynalite'], 'functions/ is the Lambda edge: it never imports the local runtime or CDK')],
      }],
    },
  },
  {
    // The web console runs in a browser: its globals, and only the client and its own code (no server code).
    files: ['console/src/**/*.{ts,tsx}'],
    languageOptions: {
      globals: Object.fromEntries(
        ['window', 'document', 'fetch', 'sessionStorage', 'localStorage', 'location', 'history', 'navigator', 'EventSource', 'AbortController', 'AbortSignal', 'Headers', 'Response', 'Request', 'TextDecoder', 'requestAnimationFrame', 'cancelAnimationFrame', 'setInterval', 'clearInterval', 'HTMLElement', 'HTMLInputElement', 'HTMLSelectElement', 'HTMLTextAreaElement', 'SVGSVGElement', 'KeyboardEvent', 'MouseEvent', 'WheelEvent', 'PointerEvent', 'Event', 'CustomEvent', 'URLSearchParams', 'matchMedia', 'ResizeObserver'].map((name) => [name, 'readonly']),
      ),
    },
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [forbid(['**/core/**', '**/statemachines/**', '**/adapters/**', '**/functions/**', '**/local/**', '**/infra/**', 'node:*'], 'the console talks to the API through client/ only')],
      }],
    },
  },
  {
    files: ['client/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [forbid(['**/adapters/**', '**/local/**', '**/infra/**', 'node:*', '@aws-sdk/*'], 'the client runs anywhere fetch does: it takes only types from the route table')],
      }],
    },
  },
  {
    files: ['infra/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [forbid(['**/functions/entries/**', '**/functions/http/*-handlers*', '**/functions/middleware/**', '**/local/**', '@middy/*'], 'infra/ refers to Lambda code by path only (it reads the route table and table designs as data)')],
      }],
    },
  },
);
