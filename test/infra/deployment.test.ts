import { App, Duration } from 'aws-cdk-lib';
import { CfnGatewayResponse, CfnMethod } from 'aws-cdk-lib/aws-apigateway';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { routes, type RouteName, type RouteSpec } from '../../functions/routes.ts';
import { ApiStack } from '../../infra/stacks/api-stack.ts';
import { apiTableProps, DataStack } from '../../infra/stacks/data-stack.ts';
import { cdkJsonContext, resourcesOfType, SKIP_BUNDLING, templateOf } from './fixture.ts';

/**
 * An API Gateway deployment is a snapshot: CloudFormation creates a new one only when the Deployment's
 * logical ID changes. These tests pin down when it does, since the methods live in nested stacks where
 * CDK's own change detection does not reach.
 */
function deploymentIdOf(options: { routeTable?: Readonly<Record<RouteName, RouteSpec>>; adjust?: (api: ApiStack) => void } = {}): string {
  const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
  const data = new DataStack(app, 'Data', { retainData: true });
  const api = new ApiStack(app, 'Api', {
    ...apiTableProps(data),
    // The engine's rights do not touch the deployment: a stand-in is enough here.
    engine: { grantEngineAccess: () => undefined, grantParkedCallRelease: () => undefined, engineEnvironment: {} },
    probes: { grantProbeAccess: () => undefined, probeEnvironment: {} },
    eventPublishing: { grantEventPublishing: () => undefined, publishEnvironment: {} },
    eventDeliveries: { grantRuleManagement: () => undefined, grantEnqueue: () => undefined, ruleEnvironment: {}, enqueueEnvironment: {} },
    deadLetterAccess: { grantDeadLetters: () => undefined, deadLetterEnvironment: {} },
    outbound: { grantServiceSecrets: () => undefined, outboundEnvironment: {} },
    ecosystem: { environment: {}, timeout: Duration.seconds(35) },
    schedules: { grantScheduleManagement: () => undefined, scheduleEnvironment: {} },
    jobs: { jobEnvironment: {} },
    serviceVersion: '1.0.0',
    ...(options.routeTable ? { routeTable: options.routeTable } : {}),
  });
  options.adjust?.(api);
  const deployments = resourcesOfType(templateOf(api), 'AWS::ApiGateway::Deployment');
  expect(deployments).toHaveLength(1);
  return deployments[0]?.[0] ?? '';
}

function firstWorkflowsMethod(api: ApiStack): CfnMethod {
  const method = api.contextStacks.get('workflows')?.methods[0]?.node.defaultChild;
  if (!(method instanceof CfnMethod)) throw new Error('no workflows method');
  return method;
}

describe('the API deployment', () => {
  const baseline = deploymentIdOf();

  it('keeps its logical ID from one synthesis to the next (no needless redeployments)', () => {
    expect(deploymentIdOf()).toBe(baseline);
  });

  it('is replaced when a route of a nested stack changes its path', () => {
    const moved = { ...routes, listTemplates: { ...routes.listTemplates, path: '/templates' } } satisfies Record<RouteName, RouteSpec>;
    expect(deploymentIdOf({ routeTable: moved })).not.toBe(baseline);
  });

  it('is replaced when a method changes in a way the route table does not show (authorization)', () => {
    expect(deploymentIdOf({ adjust: (api) => { firstWorkflowsMethod(api).authorizationType = 'AWS_IAM'; } })).not.toBe(baseline);
  });

  it('is replaced when the authorizer changes (its settings take effect with a deployment)', () => {
    const adjust = (api: ApiStack): void => {
      if (!api.authorizer) throw new Error('no authorizer');
      api.authorizer.cfnAuthorizer.authorizerResultTtlInSeconds = 60;
    };
    expect(deploymentIdOf({ adjust })).not.toBe(baseline);
  });

  it('is replaced when a gateway response changes (they are part of the snapshot too)', () => {
    const adjust = (api: ApiStack): void => {
      const response = api.gatewayResponses[0]?.node.defaultChild;
      if (!(response instanceof CfnGatewayResponse)) throw new Error('no gateway response');
      response.statusCode = '418';
    };
    expect(deploymentIdOf({ adjust })).not.toBe(baseline);
  });

  it('is kept when only a Lambda changes: its code and settings are not part of the API snapshot', () => {
    const adjust = (api: ApiStack): void => {
      const lambda = api.contextStacks.get('workflows')?.functions.get('listWorkflows')?.lambda.node.defaultChild;
      if (!(lambda instanceof CfnFunction)) throw new Error('no listWorkflows function');
      lambda.memorySize = 2048;
    };
    expect(deploymentIdOf({ adjust })).toBe(baseline);
  });
});
