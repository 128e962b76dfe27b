import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderRouteMap } from '../../../client/generate.ts';
import { ROUTE_MAP } from '../../../client/route-map.ts';
import { routes } from '../../../functions/routes.ts';
import { parseEventBlock } from '../../../client/index.ts';

describe('the client route map', () => {
  it('is what scripts/generate-client.ts writes from the route table today (run it after changing a route)', () => {
    expect(readFileSync(join(import.meta.dirname, '../../../client/route-map.ts'), 'utf8')).toBe(renderRouteMap());
  });

  it('has every route with its method, path and role', () => {
    expect(Object.keys(ROUTE_MAP).sort()).toEqual(Object.keys(routes).sort());
    for (const [name, route] of Object.entries(routes)) expect(ROUTE_MAP[name as keyof typeof ROUTE_MAP]).toMatchObject({ method: route.method, path: route.path, auth: route.auth });
  });
});

describe('parseEventBlock', () => {
  it('reads id, event and data lines (several data lines joined), and takes a block without data as no event', () => {
    expect(parseEventBlock('id: 1|e\nevent: orchestrator.execution.completed\ndata: {"a":1}\ndata: x')).toEqual({ id: '1|e', event: 'orchestrator.execution.completed', data: '{"a":1}\nx' });
    expect(parseEventBlock('retry: 3000')).toBeUndefined();
    expect(parseEventBlock(': keep-alive\ndata:plain')).toEqual({ id: undefined, event: undefined, data: 'plain' });
  });
});
