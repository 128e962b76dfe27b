/**
 * `node bench/observability-run.ts`: the observability section of `npm run bench` alone (printed, not written
 * to bench/results/latest.json). The section also starts this file as its runtime children, with
 * `--runtime-child '<options>'` (bench/observability.ts, serveRuntimeChild).
 */
import { AWS_TEST_ENVIRONMENT } from './environment.ts';
import { isRuntimeChild, measureObservability, renderObservabilitySection, serveRuntimeChild } from './observability.ts';
import { round, since } from './stats.ts';

Object.assign(process.env, AWS_TEST_ENVIRONMENT);
if (isRuntimeChild(process.argv)) {
  await serveRuntimeChild(process.argv[3] ?? '{}');
} else {
  const started = performance.now();
  const section = await measureObservability();
  console.log(renderObservabilitySection(section));
  console.log(`Took ${round(since(started) / 1000, 1)} s.`);
  if (process.argv.includes('--json')) console.log(JSON.stringify(section, null, 2));
}
