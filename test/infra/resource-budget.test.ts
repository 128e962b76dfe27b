import { describe, expect, it } from 'vitest';
import { routes } from '../../functions/routes.ts';
import { buildOrchestratorApp, resourcesOfType, templateOf } from './fixture.ts';

/**
 * CloudFormation refuses a template with more than 500 resources. The API is split into one nested stack per
 * bounded context so that each context, not the whole API, spends that budget. These tests measure what a
 * route costs and check the reference service's 43 endpoints fit (docs/adr/0002-api-stacks.md).
 */
const CLOUDFORMATION_RESOURCE_LIMIT = 500;
/** "Well under": half the limit, leaving room for alarms, queues, authorizers... that later issues add. */
const BUDGET_PER_STACK = CLOUDFORMATION_RESOURCE_LIMIT / 2;
/** The reference service: 43 endpoints over 54 distinct path resources (/workflows, /workflows/{id}...). */
const REFERENCE_ENDPOINTS = 43;
const REFERENCE_PATH_RESOURCES = 54;
/** platform, workflows, executions, registry, infrastructure, jobs. */
const REFERENCE_CONTEXTS = 6;
/**
 * RestApi, its logging role and account setting, request validator, deployment, stage, access log group,
 * 10 gateway responses (API Gateway's own errors in the error envelope), the usage plan, and the REQUEST
 * authorizer with its function, role, policy, log group and invoke permission (6), and the secret listing
 * cursors are signed with. The optional WAF rate limit adds 3 (web ACL, association, gateway response), the
 * optional custom domain 2 (domain, mapping).
 */
const PARENT_FIXED_RESOURCES = 25;

/** What one route adds to its context's nested stack. */
const RESOURCES_PER_ROUTE = {
  'AWS::Lambda::Function': 1,
  'AWS::IAM::Role': 1,
  'AWS::IAM::Policy': 1,
  'AWS::Logs::LogGroup': 1,
  'AWS::ApiGateway::Method': 1,
  'AWS::Lambda::Permission': 1,
} as const;
const RESOURCES_PER_ROUTE_TOTAL = Object.values(RESOURCES_PER_ROUTE).reduce((sum, count) => sum + count, 0);

const { api, data } = buildOrchestratorApp();
const parent = templateOf(api);
const contexts = [...api.contextStacks].map(([context, stack]) => ({ context, template: templateOf(stack) }));
const routeCount = (context: string): number => Object.values(routes).filter((spec) => spec.context === context).length;
const countOf = (template: ReturnType<typeof templateOf>): number => Object.keys(template.Resources).length;

describe('resources per stack', () => {
  it(`keeps every stack and nested stack under ${BUDGET_PER_STACK} resources`, () => {
    const counts = {
      [data.stackName]: countOf(templateOf(data)),
      [api.stackName]: countOf(parent),
      ...Object.fromEntries(contexts.map(({ context, template }) => [`${api.stackName}/${context}`, countOf(template)])),
    };
    console.info(`resources per stack: ${JSON.stringify(counts)}; per route: ${RESOURCES_PER_ROUTE_TOTAL}`);
    for (const [stack, count] of Object.entries(counts)) expect(count, stack).toBeLessThan(BUDGET_PER_STACK);
  });

  it.each(contexts)(`the $context stack holds exactly ${RESOURCES_PER_ROUTE_TOTAL} resources per route, and nothing else`, ({ context, template }) => {
    const byType: Record<string, number> = {};
    for (const resource of Object.values(template.Resources)) byType[resource.Type] = (byType[resource.Type] ?? 0) + 1;
    const routesHere = routeCount(context);
    expect(byType).toEqual(Object.fromEntries(Object.entries(RESOURCES_PER_ROUTE).map(([type, perRoute]) => [type, perRoute * routesHere])));
  });

  it('the parent grows only by path resources and one nested stack per context', () => {
    const pathResources = resourcesOfType(parent, 'AWS::ApiGateway::Resource').length;
    // One resource per distinct path prefix: /workflows/{workflow_id}/versions needs /workflows,
    // /workflows/{workflow_id} and itself, and shares the first two with other routes.
    const pathPrefixes = new Set(
      Object.values(routes).flatMap((spec) => {
        const segments = spec.path.split('/').filter((segment) => segment !== '');
        return segments.map((_segment, depth) => segments.slice(0, depth + 1).join('/'));
      }),
    );
    expect(pathResources).toBe(pathPrefixes.size);
    expect(resourcesOfType(parent, 'AWS::CloudFormation::Stack')).toHaveLength(contexts.length);
    expect(countOf(parent) - pathResources - contexts.length).toBe(PARENT_FIXED_RESOURCES);
  });

  // A projection from the exact counts above: the nested stacks grow by RESOURCES_PER_ROUTE_TOTAL per route,
  // the parent by one per new path resource.
  it(`fits the reference service's ${REFERENCE_ENDPOINTS} endpoints, even if they all landed in one context`, () => {
    const worstContextStack = REFERENCE_ENDPOINTS * RESOURCES_PER_ROUTE_TOTAL;
    const parentStack = PARENT_FIXED_RESOURCES + REFERENCE_PATH_RESOURCES + REFERENCE_CONTEXTS;
    expect(worstContextStack).toBeLessThan(CLOUDFORMATION_RESOURCE_LIMIT);
    expect(parentStack).toBeLessThan(BUDGET_PER_STACK);
  });
});
