/** `node bench/pause-cost-run.ts`: the pause-cost section of `npm run bench` alone. */
import { measurePauseCosts, renderPauseCostSection } from './pause-cost.ts';
console.log(renderPauseCostSection(await measurePauseCosts()));
