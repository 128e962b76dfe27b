/**
 * Only the tools section (17) of the benchmark, printed without touching bench/results/latest.json:
 * `node bench/tools-run.ts [--json]`. `npm run bench` runs it with everything else.
 */
import { parseArgs } from 'node:util';
import { AWS_TEST_ENVIRONMENT } from './environment.ts';
import { round, since } from './stats.ts';
import { measureTools, renderToolsSection } from './tools.ts';

Object.assign(process.env, AWS_TEST_ENVIRONMENT);
const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const started = performance.now();
const section = await measureTools();
console.log(renderToolsSection(section));
console.log(`Took ${round(since(started) / 1000, 1)} s.`);
if (values.json) console.log(JSON.stringify(section, null, 2));
