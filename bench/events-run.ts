/** `node bench/events-run.ts`: the events section of `npm run bench` alone. */
import { AWS_TEST_ENVIRONMENT } from './environment.ts';
import { measureEvents, renderEventsSection } from './events.ts';

Object.assign(process.env, AWS_TEST_ENVIRONMENT);
console.log(renderEventsSection(await measureEvents()));
