/** `node bench/recovery-run.ts`: the recovery section of `npm run bench` alone. */
import { measureRecovery, renderRecoverySection } from './recovery.ts';
import { AWS_TEST_ENVIRONMENT } from './environment.ts';

Object.assign(process.env, AWS_TEST_ENVIRONMENT);
console.log(renderRecoverySection(await measureRecovery()));
