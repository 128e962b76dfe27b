/**
 * Writes client/route-map.ts from the route table (functions/routes.ts): each route's method, path, role and
 * media type, as plain data the client (and the console's bundle) can carry without zod and the schemas.
 * `node scripts/generate-client.ts`; test/unit/client/route-map.test.ts fails when the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderRouteMap } from '../client/generate.ts';

const target = join(import.meta.dirname, '..', 'client', 'route-map.ts');
writeFileSync(target, renderRouteMap());
console.log(`wrote ${target}`);
