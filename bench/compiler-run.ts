/**
 * Only the compiler section of the benchmark, printed without touching bench/results/latest.json:
 * `node bench/compiler-run.ts [--seed N] [--graphs N]`. `npm run bench` runs it with everything else.
 */
import { parseArgs } from 'node:util';
import { measureCompiler } from './compiler.ts';
import { renderCompilerSection } from './compiler-render.ts';
import { round, since } from './stats.ts';

const { values } = parseArgs({ options: { seed: { type: 'string' }, graphs: { type: 'string' }, json: { type: 'boolean', default: false } } });
const started = performance.now();
const section = await measureCompiler({
  ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
  ...(values.graphs === undefined ? {} : { graphs: Number(values.graphs) }),
});
console.log(renderCompilerSection(section));
console.log(`Took ${round(since(started) / 1000, 1)} s.`);
if (values.json) console.log(JSON.stringify(section, null, 2));
