/**
 * Only the lossless end-to-end section of the benchmark, printed without touching bench/results/latest.json:
 * `node bench/lossless-e2e-run.ts [--unit-ms N] [--runs N] [--file rand0000.stg ...] [--json]`. `npm run bench` runs it with everything else.
 */
import { parseArgs } from 'node:util';
import { AWS_TEST_ENVIRONMENT } from './environment.ts';
import { measureLosslessE2e, renderLosslessE2eSection } from './lossless-e2e.ts';
import { round, since } from './stats.ts';

Object.assign(process.env, AWS_TEST_ENVIRONMENT);
const { values } = parseArgs({ options: { 'unit-ms': { type: 'string' }, runs: { type: 'string' }, file: { type: 'string', multiple: true }, json: { type: 'boolean', default: false } } });
const started = performance.now();
const section = await measureLosslessE2e({
  ...(values['unit-ms'] === undefined ? {} : { unitMs: Number(values['unit-ms']) }),
  ...(values.runs === undefined ? {} : { runs: Number(values.runs) }),
  ...(values.file === undefined ? {} : { files: values.file }),
});
console.log(renderLosslessE2eSection(section));
console.log(`Took ${round(since(started) / 1000, 1)} s.`);
if (values.json) console.log(JSON.stringify(section, null, 2));
