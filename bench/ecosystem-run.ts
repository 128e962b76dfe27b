/** `node bench/ecosystem-run.ts`: the ecosystem section of `npm run bench` alone (printed, not written to bench/results/latest.json). */
import { AWS_TEST_ENVIRONMENT } from './environment.ts';
import { measureEcosystem, renderEcosystemSection } from './ecosystem.ts';
import { round, since } from './stats.ts';

Object.assign(process.env, AWS_TEST_ENVIRONMENT);
const started = performance.now();
const section = await measureEcosystem();
console.log(renderEcosystemSection(section));
console.log(`Took ${round(since(started) / 1000, 1)} s.`);
