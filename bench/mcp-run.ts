/**
 * Only the MCP section (18) of the benchmark, printed without touching bench/results/latest.json:
 * `node bench/mcp-run.ts [--json]`. `npm run bench` runs it with everything else.
 */
import { parseArgs } from 'node:util';
import { AWS_TEST_ENVIRONMENT } from './environment.ts';
import { measureMcp, renderMcpSection } from './mcp.ts';
import { round, since } from './stats.ts';

Object.assign(process.env, AWS_TEST_ENVIRONMENT);
const { values } = parseArgs({ options: { json: { type: 'boolean', default: false } } });
const started = performance.now();
const section = await measureMcp();
console.log(renderMcpSection(section));
console.log(`Took ${round(since(started) / 1000, 1)} s.`);
if (values.json) console.log(JSON.stringify(section, null, 2));
