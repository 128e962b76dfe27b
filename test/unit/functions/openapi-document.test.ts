import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../../functions/http/openapi.ts';
import { routes, type RouteSpec } from '../../../functions/routes.ts';

/**
 * The generated document must itself be valid OpenAPI 3.1 (clients and generators refuse one that is not),
 * and say, for every operation, the errors the route can answer.
 */
describe('the OpenAPI document', () => {
  const document = buildOpenApiDocument('test');

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(document) as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents 400, 429, 431 and 500 on every operation, 401 on every guarded one, 413 and 415 where there is a body', () => {
    for (const [name, route] of Object.entries(routes) as [string, RouteSpec][]) {
      const operation = document.paths[route.path]?.[route.method.toLowerCase()] as { operationId: string; responses: Record<string, unknown> } | undefined;
      expect(operation?.operationId, name).toBe(name);
      const statuses = Object.keys(operation?.responses ?? {});
      expect(statuses, name).toEqual(expect.arrayContaining(['400', '429', '431', '500']));
      if (route.auth !== 'public') expect(statuses, name).toContain('401');
      if (route.body) expect(statuses, name).toEqual(expect.arrayContaining(['413', '415']));
      else expect(statuses, name).not.toContain('415');
    }
  });
});
