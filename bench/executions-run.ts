/**
 * Only the executions section of the benchmark, printed without touching bench/results/latest.json:
 * `node bench/executions-run.ts [--load-seconds N] [--single-poll-ms N] [--load-poll-ms N] [--json]`. `npm run bench` runs it with everything else.
 */
import { parseArgs } from 'node:util';
import { AWS_TEST_ENVIRONMENT } from './environment.ts';
import { measureExecutions, renderExecutionsSection } from './executions.ts';
import { round, since } from './stats.ts';

Object.assign(process.env, AWS_TEST_ENVIRONMENT);
const { values } = parseArgs({
  options: { 'load-seconds': { type: 'string' }, 'single-poll-ms': { type: 'string' }, 'load-poll-ms': { type: 'string' }, json: { type: 'boolean', default: false } },
});
const numberOption = (value: string | undefined) => (value === undefined ? undefined : Number(value));
const started = performance.now();
const section = await measureExecutions({
  loadSeconds: numberOption(values['load-seconds']),
  singlePollMs: numberOption(values['single-poll-ms']),
  loadPollMs: numberOption(values['load-poll-ms']),
});
console.log(renderExecutionsSection(section));
console.log(`Took ${round(since(started) / 1000, 1)} s.`);
if (values.json) console.log(JSON.stringify(section, null, 2));
