import { describe, expect, it } from 'vitest';
import { routes, type RouteName, type RouteSpec } from '../../functions/routes.ts';
import { deployedFunctionOf, readApiModel, type DeployedFunction } from './api-model.ts';
import { asRecord, buildOrchestratorApp, logicalIdOf, OBSERVABILITY_VARIABLES, propertiesOf, resourcesOfType, statementsOf, templateOf, type StatementJson } from './fixture.ts';

/**
 * Peer sync and OpenAPI polling in AWS: which API functions learn the peers and may publish on the workflow
 * event bus, and the scheduled poll worker with its rights. (nag.test.ts checks the whole app is cdk-nag clean.)
 */
const peerUrls = ['https://orchestrator-b.example.com', 'https://orchestrator-c.example.com/api'];
const stacks = buildOrchestratorApp({ peers: `${peerUrls.join(',')},`, openApiPollInterval: '600' });
const model = readApiModel(stacks);
const routeEntries = Object.entries(routes) as Array<[RouteName, RouteSpec]>;
const runtimeTemplate = templateOf(stacks.runtime);
const runtimeId = (construct: Parameters<typeof logicalIdOf>[1]) => logicalIdOf(stacks.runtime, construct);

const functionOf = (name: RouteName): DeployedFunction => deployedFunctionOf(model, name);
const environmentOf = (deployed: DeployedFunction) => asRecord(asRecord(deployed.properties['Environment'], 'Environment')['Variables'], 'Variables');
const eventStatements = (statements: readonly StatementJson[]) => statements.filter((statement) => statement.Action.some((action) => action.startsWith('events:')));

describe('the API functions', () => {
  const publishing = routeEntries.filter(([, spec]) => spec.bus === 'publish').map(([name]) => name);
  // The proxies publish registry events when a circuit they move opens or closes, as the action runner does.
  const proxies = routeEntries.filter(([, spec]) => spec.ecosystem).map(([name]) => name);
  const peerRoutes = routeEntries.filter(([, spec]) => spec.peers).map(([name]) => name);

  it('the route table has routes that publish and routes that call peers (or these tests would prove nothing)', () => {
    expect(publishing).toEqual([
      'createWorkflow',
      'createFromTemplate',
      'updateWorkflow',
      'deleteWorkflow',
      'executeWorkflow',
      'cancelExecution',
      'retryExecution',
      'pauseExecution',
      'resumeExecution',
      'registerService',
      'pollOpenApi',
      'runHealthCheck',
      'retryDeadLetters',
      'ingest',
      'runIngestion',
      'recalcQuality',
      'notifyConsolidation',
      'triggerSchedule',
      // Saving a plan creates a workflow through the workflow service, which publishes its lifecycle events.
      'planWorkflow',
      // The MCP server starts and cancels runs (as executeWorkflow and cancelExecution, which it calls in process).
      'mcp',
    ]);
    // The proxies, and the routes that call services' operations as tools (callTool, and mcp through it).
    expect(proxies).toEqual(['reportRequest', 'summarizationSuggest', 'docstoreSave', 'demoBundle', 'callTool', 'mcp']);
    expect(peerRoutes).toEqual(['listPeers', 'syncPeers']);
  });

  it.each([...publishing, ...proxies])('%s may put events on the workflow event bus only, and is told its name', (name) => {
    const deployed = functionOf(name);
    const statements = eventStatements(deployed.statements);
    // Cross-stack references render as the runtime stack's output of the bus's attribute.
    expect(statements.map((statement) => [statement.Action, statement.Resource.map(model.render)])).toEqual([[['events:PutEvents'], [expect.stringMatching(/^<OrchestratorRuntime\..*WorkflowEventBus.*Arn.*>$/)]]]);
    expect(model.render(environmentOf(deployed)['WORKFLOW_EVENT_BUS_NAME'])).toMatch(/^<OrchestratorRuntime\..*WorkflowEventBus.*>$/);
  });

  it('no other route may put events', () => {
    for (const [name] of routeEntries.filter(([, spec]) => spec.bus !== 'publish' && !spec.ecosystem)) {
      expect(eventStatements(functionOf(name).statements).flatMap((statement) => statement.Action), name).not.toContain('events:PutEvents');
    }
  });

  it('gives the peer routes, and only them, the peers named in the `peers` context, validated', () => {
    for (const [name, spec] of routeEntries) {
      expect(environmentOf(functionOf(name))['ORCHESTRATOR_PEERS'], name).toBe(spec.peers ? peerUrls.join(',') : undefined);
    }
    const withoutPeers = readApiModel(buildOrchestratorApp());
    expect(withoutPeers.functions.filter((deployed) => environmentOf(deployed)['ORCHESTRATOR_PEERS'] !== undefined)).toEqual([]);
    expect(() => buildOrchestratorApp({ peers: 'ftp://nope' })).toThrow(/context peers: ftp:\/\/nope must use http or https/);
  });
});

describe('the scheduled OpenAPI poll', () => {
  const poll = stacks.runtime.openApiPoll.lambda;
  const pollId = runtimeId(poll);
  const properties = propertiesOf(runtimeTemplate.Resources[pollId]!);

  it('runs every `openApiPollInterval` seconds in whole minutes, five by default, without retries', () => {
    const rule = propertiesOf(runtimeTemplate.Resources[runtimeId(stacks.runtime.openApiPollRule)]!);
    expect(rule['ScheduleExpression']).toBe('rate(10 minutes)');
    expect(rule['Targets']).toEqual([{ Id: 'Target0', Arn: { 'Fn::GetAtt': [pollId, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 600 } }]);
    const byDefault = buildOrchestratorApp();
    const defaultRule = propertiesOf(templateOf(byDefault.runtime).Resources[logicalIdOf(byDefault.runtime, byDefault.runtime.openApiPollRule)]!);
    expect(defaultRule['ScheduleExpression']).toBe('rate(5 minutes)');
  });

  it('is told the registry table and the event bus, and runs its worker entry', () => {
    const variables = asRecord(asRecord(properties['Environment'], 'Environment')['Variables'], 'Variables');
    expect(Object.keys(variables).filter((variable) => variable !== 'NODE_OPTIONS').sort()).toEqual(['REGISTRY_TABLE_NAME', 'WORKFLOW_EVENT_BUS_NAME', ...OBSERVABILITY_VARIABLES].sort());
    expect(variables['WORKFLOW_EVENT_BUS_NAME']).toEqual({ Ref: runtimeId(stacks.runtime.eventBus) });
    expect(stacks.runtime.openApiPoll.entry).toMatch(/functions\/workers\/openapi-poll-entry\.ts$/);
  });

  it('may read and write the registry table, query its listing index, put events on the workflow bus, and nothing else but logs and traces', () => {
    const roleId = runtimeId(stacks.runtime.openApiPoll.role);
    const statements = resourcesOfType(runtimeTemplate, 'AWS::IAM::Policy')
      .filter(([, policy]) => JSON.stringify(propertiesOf(policy)['Roles']).includes(`"${roleId}"`))
      .flatMap(([, policy]) => statementsOf(policy));
    const actions = statements.flatMap((statement) => statement.Action);
    expect(actions.filter((action) => action.startsWith('events:'))).toEqual(['events:PutEvents']);
    expect(eventStatements(statements)[0]?.Resource).toEqual([{ 'Fn::GetAtt': [runtimeId(stacks.runtime.eventBus), 'Arn'] }]);
    expect(actions.filter((action) => action.startsWith('dynamodb:')).sort()).toEqual(
      ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Query', 'dynamodb:UpdateItem'].sort(),
    );
    expect(new Set(actions.map((action) => action.split(':')[0]))).toEqual(new Set(['events', 'dynamodb', 'logs', 'xray']));
  });
});
