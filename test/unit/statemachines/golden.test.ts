import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TEMPLATES } from '../../../core/templates/catalog.ts';
import { aslErrors, compileChecked, compileDefinition, parseWorkflow } from './support/harness.ts';
import { FEATURE_WORKFLOWS } from './support/workflows.ts';

/**
 * Golden files: the compiled definition of every template (the reference's examples: Hello World, Document
 * Analysis, PR Confidence, and the rest of the catalog) and of one workflow per compiler feature, stored under
 * test/golden/. A change to the compiler's output shows up as a diff here; when it is intended, regenerate with
 *
 *   UPDATE_GOLDEN=1 npx vitest run test/unit/statemachines/golden.test.ts
 *
 * and review the diff of test/golden/ like any other change.
 */

const GOLDEN_DIR = fileURLToPath(new URL('../../golden/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const CASES: readonly { readonly file: string; readonly definition: unknown }[] = [
  ...TEMPLATES.map((template) => ({ file: `template-${template.name}.json`, definition: template.definition })),
  ...Object.entries(FEATURE_WORKFLOWS).map(([name, definition]) => ({ file: `feature-${name}.json`, definition })),
];

const goldenText = (definition: unknown) => `${JSON.stringify(definition, null, 2)}\n`;

describe('golden compiled definitions', () => {
  it('covers the reference examples and every template', () => {
    const files = CASES.map((entry) => entry.file);
    for (const name of ['hello_world', 'document_analysis', 'pr_confidence']) expect(files).toContain(`template-${name}.json`);
    expect(files.filter((file) => file.startsWith('template-'))).toHaveLength(TEMPLATES.length);
  });

  it.each(CASES.map((entry) => [entry.file, entry] as const))('%s', (_file, entry) => {
    const compiled = compileChecked(entry.definition);
    const path = `${GOLDEN_DIR}${entry.file}`;
    if (UPDATE) {
      mkdirSync(GOLDEN_DIR, { recursive: true });
      writeFileSync(path, goldenText(compiled.definition));
      return;
    }
    if (!existsSync(path)) throw new Error(`no golden file ${path}; create it with UPDATE_GOLDEN=1 npx vitest run test/unit/statemachines/golden.test.ts`);
    const stored = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    expect(compiled.definition).toEqual(stored);
    // The stored text is exactly what update mode writes (no hand edits, same key order).
    expect(readFileSync(path, 'utf8')).toBe(goldenText(compiled.definition));
  });

  it.runIf(!UPDATE)('holds no golden file without a case, and every stored definition passes asl-validator', () => {
    const stored = readdirSync(GOLDEN_DIR).filter((file) => file.endsWith('.json')).sort();
    expect(stored).toEqual(CASES.map((entry) => entry.file).sort());
    for (const file of stored) expect(aslErrors(JSON.parse(readFileSync(`${GOLDEN_DIR}${file}`, 'utf8')) as never), file).toEqual([]);
  });

  it('compiles deterministically: the same workflow twice gives byte-identical definitions', () => {
    for (const entry of CASES) {
      const workflow = parseWorkflow(entry.definition);
      expect(JSON.stringify(compileDefinition(structuredClone(workflow)).definition)).toBe(JSON.stringify(compileDefinition(workflow).definition));
    }
  });
});
