import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { routes } from '../../functions/routes.ts';
import { CORS_ALLOWED_HEADERS, CORS_MAX_AGE_SECONDS } from '../../functions/cors.ts';
import { asRecord, buildOrchestratorApp, propertiesOf, refTarget, resourcesOfType, templateOf, type CfnTemplateJson } from './fixture.ts';
import { readApiModel } from './api-model.ts';

/**
 * CORS in AWS (-c corsOrigins): API Gateway answers the preflight itself (an OPTIONS method per path of the
 * route table, with that path's methods), its own errors carry the headers where a static value can say them,
 * and every route function gets ORCHESTRATOR_CORS_ORIGINS, so that it adds them to its answers (the proxy
 * integration adds nothing). Without the context there is none of it.
 */

const ORIGINS = 'https://app.example.com,http://localhost:3000';

function corsOf(context: Record<string, unknown>) {
  const stacks = buildOrchestratorApp(context);
  const parent = templateOf(stacks.api);
  return { stacks, parent, model: readApiModel(stacks), preflights: preflightsOf(parent) };
}

/** The parent stack's OPTIONS methods by path, with their mock integration's response headers. */
function preflightsOf(parent: CfnTemplateJson): Map<string, { id: string; properties: Record<string, unknown>; headers: Record<string, unknown> }> {
  const resources = new Map(resourcesOfType(parent, 'AWS::ApiGateway::Resource'));
  const pathOf = (logicalId: string): string => {
    const properties = propertiesOf(resources.get(logicalId) ?? { Type: '' });
    const parentId = asRecord(properties['ParentId'], logicalId);
    return `${'Ref' in parentId ? pathOf(refTarget(parentId, logicalId)) : ''}/${String(properties['PathPart'])}`;
  };
  const preflights = new Map<string, { id: string; properties: Record<string, unknown>; headers: Record<string, unknown> }>();
  for (const [id, method] of resourcesOfType(parent, 'AWS::ApiGateway::Method')) {
    const properties = propertiesOf(method);
    if (properties['HttpMethod'] !== 'OPTIONS') continue;
    const resourceId = asRecord(properties['ResourceId'], id);
    const path = 'Ref' in resourceId ? pathOf(refTarget(resourceId, id)) : '/';
    const integration = asRecord(properties['Integration'], id);
    const [response] = integration['IntegrationResponses'] as Array<Record<string, unknown>>;
    preflights.set(path, { id, properties, headers: asRecord(response?.['ResponseParameters'], id) });
  }
  return preflights;
}

const routePaths = [...new Set(Object.values(routes).map((route) => route.path))];

describe('without corsOrigins', () => {
  const { model, preflights, parent } = corsOf({});

  it('has no OPTIONS method, no CORS header on gateway errors, and no ORCHESTRATOR_CORS_ORIGINS', () => {
    expect(preflights.size).toBe(0);
    expect(model.methods.filter((method) => method.httpMethod === 'OPTIONS')).toEqual([]);
    for (const [, response] of resourcesOfType(parent, 'AWS::ApiGateway::GatewayResponse')) {
      expect(Object.keys(asRecord(propertiesOf(response)['ResponseParameters'], 'ResponseParameters')).join(' ')).not.toMatch(/Access-Control/i);
    }
    for (const fn of model.functions) expect(asRecord(asRecord(fn.properties['Environment'], 'Environment')['Variables'], 'Variables')['ORCHESTRATOR_CORS_ORIGINS']).toBeUndefined();
  });
});

describe('-c corsOrigins with two origins', () => {
  const { model, preflights, parent, stacks } = corsOf({ corsOrigins: ORIGINS });

  it('answers the preflight of every path of the route table in API Gateway, with that path\'s methods, the request headers and a max age', () => {
    expect([...preflights.keys()].sort()).toEqual([...routePaths].sort());
    for (const path of routePaths) {
      const preflight = preflights.get(path)!;
      expect(preflight.properties['AuthorizationType'], path).toBe('NONE');
      expect(asRecord(preflight.properties['Integration'], path)['Type']).toBe('MOCK');
      const methods = Object.values(routes).filter((route) => route.path === path).map((route) => route.method);
      const expected = [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(',');
      expect(preflight.headers['method.response.header.Access-Control-Allow-Methods'], path).toBe(`'${expected}'`);
      expect(preflight.headers['method.response.header.Access-Control-Allow-Headers'], path).toBe(`'${CORS_ALLOWED_HEADERS.join(',')}'`);
      expect(preflight.headers['method.response.header.Access-Control-Max-Age'], path).toBe(`'${CORS_MAX_AGE_SECONDS}'`);
      // Several origins: API Gateway echoes the caller's when it is one of them, and says the answer varies.
      expect(preflight.headers['method.response.header.Vary'], path).toBe("'Origin'");
      const template = JSON.stringify(asRecord(preflight.properties['Integration'], path)['IntegrationResponses']);
      for (const origin of ORIGINS.split(',')) expect(template, path).toContain(origin);
    }
  });

  it('makes the deployment depend on the preflights, so that every deployment includes them', () => {
    const [, deployment] = resourcesOfType(parent, 'AWS::ApiGateway::Deployment')[0]!;
    for (const { id } of preflights.values()) expect(deployment.DependsOn ?? []).toContain(id);
  });

  it('gives every route function ORCHESTRATOR_CORS_ORIGINS, whose answers then carry the headers', () => {
    expect(model.functions.length).toBe(Object.keys(routes).length);
    for (const fn of model.functions) {
      expect(asRecord(asRecord(fn.properties['Environment'], 'Environment')['Variables'], 'Variables')['ORCHESTRATOR_CORS_ORIGINS'], fn.logicalId).toBe(ORIGINS);
    }
  });

  it('passes cdk-nag: the preflights are acknowledged as credential-free, as browsers send them', () => {
    const { app } = buildOrchestratorApp({ corsOrigins: ORIGINS });
    expect(() => app.synth()).not.toThrow();
    expect(new AwsSolutionsChecks().validateScope(app).violations.map((violation) => violation.ruleName)).toEqual([]);
  });

  it("warns that API Gateway's own errors cannot carry the headers for several origins", () => {
    const warnings = stacks.api.node.metadata.filter((entry) => entry.type === 'aws:cdk:warning').map((entry) => String(entry.data));
    expect(warnings.join('\n')).toMatch(/several origins/);
  });
});

describe('-c corsOrigins=*', () => {
  const { parent, preflights, model } = corsOf({ corsOrigins: '*' });

  it("allows any origin in the preflight and on API Gateway's own errors (the authorizer's 401, throttling)", () => {
    expect(preflights.get('/workflows')!.headers['method.response.header.Access-Control-Allow-Origin']).toBe("'*'");
    const responses = resourcesOfType(parent, 'AWS::ApiGateway::GatewayResponse');
    expect(responses.length).toBeGreaterThan(0);
    for (const [id, response] of responses) {
      const headers = asRecord(propertiesOf(response)['ResponseParameters'], id);
      expect(headers['gatewayresponse.header.Access-Control-Allow-Origin'], id).toBe("'*'");
      expect(String(headers['gatewayresponse.header.Access-Control-Expose-Headers']), id).toContain('X-Request-ID');
    }
    for (const fn of model.functions) expect(asRecord(asRecord(fn.properties['Environment'], 'Environment')['Variables'], 'Variables')['ORCHESTRATOR_CORS_ORIGINS']).toBe('*');
  });
});

describe('an invalid corsOrigins', () => {
  it.each([['https://app.example.com/'], ['app.example.com'], ['*,https://a.example.com'], ['ftp://files.example.com']])('%s fails synthesis, naming the context key', (corsOrigins) => {
    expect(() => buildOrchestratorApp({ corsOrigins })).toThrow(/context corsOrigins/);
  });
});
