import { App, type Stack } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { routes, type RouteName, type RouteSpec } from '../../functions/routes.ts';
import type { ApiFunction } from '../../infra/constructs/api-function.ts';
import { outboundAllowEntries } from '../../infra/constructs/outbound-access.ts';
import { ApiStack } from '../../infra/stacks/api-stack.ts';
import { apiTableProps, DataStack } from '../../infra/stacks/data-stack.ts';
import { RuntimeStack } from '../../infra/stacks/runtime-stack.ts';
import { asArray, asRecord, buildOrchestratorApp, cdkJsonContext, logicalIdOf, propertiesOf, resourcesOfType, SKIP_BUNDLING, templateOf, type CfnTemplateJson } from './fixture.ts';

/**
 * Outbound calls in AWS (docs/adr/0004): ORCHESTRATOR_OUTBOUND_ALLOW from `-c outboundAllow=...` on every
 * function that calls services or peers, and read access to services' credentials under orchestrator/ for
 * those that send them (the action runner, the health sweep, the health-check route), and for no other.
 */

const OUTBOUND_ALLOW = '10.0.0.0/16,api.internal';
/** The registry routes this is about (the whole table also needs the security tables, wired elsewhere). */
const REGISTRY_ROUTES: readonly RouteName[] = ['runHealthCheck', 'pollOpenApi', 'listPeers', 'syncPeers', 'registerService', 'listServices', 'replicateInstances'];

/** The data, runtime and API stacks as infra/orchestrator.ts wires them, the context read as it reads it. */
function build(outboundAllow?: string) {
  const app = new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING } });
  const data = new DataStack(app, 'Data', { retainData: true });
  const tables = { workflowsTable: data.workflowsTable, executionsTable: data.executionsTable, registryTable: data.registryTable, eventsTable: data.eventsTable, subscriptionsTable: data.subscriptionsTable };
  const runtime = new RuntimeStack(app, 'Runtime', { namePrefix: 'Orch', ...tables, outboundAllow: outboundAllowEntries(outboundAllow) });
  const api = new ApiStack(app, 'Api', {
    ...apiTableProps(data),
    eventPublishing: runtime,
    outbound: runtime,
    serviceVersion: '1.0.0',
    routeTable: Object.fromEntries(REGISTRY_ROUTES.map((name) => [name, routes[name]])) as unknown as Record<RouteName, RouteSpec>,
  });
  return { runtime, api };
}

const configured = build(OUTBOUND_ALLOW);
const unconfigured = build();
const runtimeTemplate = templateOf(configured.runtime);
const registryRoutes = configured.api.contextStacks.get('registry')!;
const routesTemplate = templateOf(registryRoutes);

const variablesOf = (template: CfnTemplateJson, stack: Stack, fn: ApiFunction) =>
  asRecord(asRecord(propertiesOf(template.Resources[logicalIdOf(stack, fn.lambda)]!)['Environment'], 'Environment')['Variables'], 'Variables');

/** Every statement of the policies attached to a function's role, raw. */
const statementsOf = (template: CfnTemplateJson, stack: Stack, fn: ApiFunction) => {
  const roleId = logicalIdOf(stack, fn.role);
  return resourcesOfType(template, 'AWS::IAM::Policy')
    .filter(([, policy]) => asArray(propertiesOf(policy)['Roles'], 'Roles').some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId })))
    .flatMap(([, policy]) => asArray(asRecord(propertiesOf(policy)['PolicyDocument'], 'PolicyDocument')['Statement'], 'Statement').map((raw) => asRecord(raw, 'Statement')));
};
const secretStatements = (template: CfnTemplateJson, stack: Stack, fn: ApiFunction) =>
  statementsOf(template, stack, fn).filter((statement) => /^(secretsmanager|ssm):/.test(String(statement['Action'])));

const arn = (service: string, rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${rest}`]] });
const SERVICE_SECRET_STATEMENTS = [
  { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: arn('secretsmanager', 'secret:orchestrator/*') },
  { Action: 'ssm:GetParameter', Effect: 'Allow', Resource: arn('ssm', 'parameter/orchestrator/*') },
];

describe('ORCHESTRATOR_OUTBOUND_ALLOW', () => {
  it('reaches the action runner, the health sweep and the OpenAPI poll from -c outboundAllow', () => {
    const { runtime } = configured;
    for (const fn of [runtime.actionRunner, runtime.healthSweep, runtime.openApiPoll]) {
      expect(variablesOf(runtimeTemplate, runtime, fn)['ORCHESTRATOR_OUTBOUND_ALLOW'], fn.node.path).toBe(OUTBOUND_ALLOW);
    }
    expect(variablesOf(runtimeTemplate, runtime, runtime.statusListener)).not.toHaveProperty('ORCHESTRATOR_OUTBOUND_ALLOW');
  });

  it('reaches the routes that call services or peers, and no other', () => {
    for (const name of ['runHealthCheck', 'pollOpenApi', 'listPeers', 'syncPeers'] as const) {
      expect(variablesOf(routesTemplate, registryRoutes, registryRoutes.functions.get(name)!)['ORCHESTRATOR_OUTBOUND_ALLOW'], name).toBe(OUTBOUND_ALLOW);
    }
    for (const name of ['registerService', 'listServices', 'replicateInstances'] as const) {
      expect(variablesOf(routesTemplate, registryRoutes, registryRoutes.functions.get(name)!), name).not.toHaveProperty('ORCHESTRATOR_OUTBOUND_ALLOW');
    }
  });

  it('is absent by default (public addresses only), and the old ACTION_RUNNER_ALLOWED_ADDRESSES is gone', () => {
    const { runtime } = unconfigured;
    const template = templateOf(runtime);
    for (const fn of [runtime.actionRunner, runtime.healthSweep, runtime.openApiPoll]) {
      const variables = variablesOf(template, runtime, fn);
      expect(variables).not.toHaveProperty('ORCHESTRATOR_OUTBOUND_ALLOW');
      expect(variables).not.toHaveProperty('ACTION_RUNNER_ALLOWED_ADDRESSES');
    }
    expect(JSON.stringify(runtimeTemplate)).not.toContain('ACTION_RUNNER_ALLOWED_ADDRESSES');
  });

  it('is wired by the app from `-c outboundAllow` (infra/orchestrator.ts)', () => {
    const app = buildOrchestratorApp({ outboundAllow: OUTBOUND_ALLOW });
    expect(variablesOf(templateOf(app.runtime), app.runtime, app.runtime.actionRunner)['ORCHESTRATOR_OUTBOUND_ALLOW']).toBe(OUTBOUND_ALLOW);
    const registry = app.api.contextStacks.get('registry')!;
    expect(variablesOf(templateOf(registry), registry, registry.functions.get('runHealthCheck')!)['ORCHESTRATOR_OUTBOUND_ALLOW']).toBe(OUTBOUND_ALLOW);
    expect(() => buildOrchestratorApp({ outboundAllow: '10.0.0.0/33' })).toThrow(/context outboundAllow/);
  });

  it('is read from the context as ORCHESTRATOR_OUTBOUND_ALLOW is at run time, refusing a malformed entry at synthesis', () => {
    expect(outboundAllowEntries(' 10.0.0.0/16, api.internal ')).toEqual(['10.0.0.0/16', 'api.internal']);
    expect(outboundAllowEntries(['10.0.0.0/16', 'api.internal'])).toEqual(['10.0.0.0/16', 'api.internal']);
    expect(outboundAllowEntries(undefined)).toEqual([]);
    expect(() => outboundAllowEntries('10.0.0.0/33')).toThrow(/context outboundAllow: "10\.0\.0\.0\/33" is not an IP address, a CIDR network or a host name/);
  });
});

describe("services' credentials", () => {
  it('may be read by the action runner and the health sweep under orchestrator/ only: GetSecretValue and GetParameter, nothing else', () => {
    const { runtime } = configured;
    for (const fn of [runtime.actionRunner, runtime.healthSweep]) {
      expect(secretStatements(runtimeTemplate, runtime, fn), fn.node.path).toEqual(SERVICE_SECRET_STATEMENTS);
    }
  });

  it('may be read by the health-check route (its probes send them), and by no other route or worker', () => {
    expect(secretStatements(routesTemplate, registryRoutes, registryRoutes.functions.get('runHealthCheck')!)).toEqual(SERVICE_SECRET_STATEMENTS);
    for (const name of ['pollOpenApi', 'listPeers', 'syncPeers', 'registerService'] as const) {
      expect(secretStatements(routesTemplate, registryRoutes, registryRoutes.functions.get(name)!), name).toEqual([]);
    }
    const { runtime } = configured;
    for (const fn of [runtime.openApiPoll, runtime.statusListener, runtime.workflowDeployer]) expect(secretStatements(runtimeTemplate, runtime, fn), fn.node.path).toEqual([]);
  });

  it('pass cdk-nag: the two prefix patterns are acknowledged on the roles that have them, and nothing else is', () => {
    for (const stack of [configured.runtime, configured.api]) {
      const report = new AwsSolutionsChecks().validateScope(stack);
      const findings = report.violations.map((violation) => `${violation.ruleName}: ${violation.violatingResources.map((resource) => resource.constructPath).join(', ')}`);
      expect(findings.filter((finding) => /secretsmanager|ssm/.test(finding)), stack.node.path).toEqual([]);
    }
  });
});
