/**
 * Only the web console's section of the benchmark, printed without touching bench/results/latest.json:
 * `node bench/console-run.ts [--json]`. `npm run bench` runs it with everything else. Needs Chromium
 * (/usr/bin/chromium, or CHROMIUM_PATH).
 */
import { parseArgs } from 'node:util';
import { measureConsole, renderConsoleSection } from './console.ts';
import { AWS_TEST_ENVIRONMENT } from './environment.ts';
import { round, since } from './stats.ts';

Object.assign(process.env, AWS_TEST_ENVIRONMENT);
const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const started = performance.now();
const section = await measureConsole();
console.log(renderConsoleSection(section));
console.log(`Took ${round(since(started) / 1000, 1)} s.`);
if (values.json) console.log(JSON.stringify(section, null, 2));
