import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { routes, type RouteName, type RouteSpec } from '../../functions/routes.ts';
import { AUTHORIZER_ENTRY } from '../../infra/constructs/authorizer.ts';
import { nestedStackParameters, readApiModel } from './api-model.ts';
import { asRecord, buildOrchestratorApp, logicalIdOf, propertiesOf, refTarget, resourcesOfType, statementsOf, templateOf, type CfnTemplateJson } from './fixture.ts';

/**
 * Authentication in AWS (docs/adr/0010): one Lambda REQUEST authorizer on every method whose route is not
 * public, with exactly the rights and settings it needs; the secrets it reads, readable by it alone.
 * Everything is checked from the route table and the synthesized templates.
 */
const routeEntries = Object.entries(routes) as Array<[RouteName, RouteSpec]>;
const PEER_TOKEN_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:peer-token-AbCdEf';
const ADMIN_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin-key-GhIjKl';

const plain = buildOrchestratorApp();
const plainModel = readApiModel(plain);
const configured = buildOrchestratorApp({
  jwtSecret: 'generate',
  adminApiKeySecretArn: ADMIN_KEY_ARN,
  peerTokenSecretArn: PEER_TOKEN_ARN,
  jwksUrl: 'https://issuer.example.com/.well-known/jwks.json',
  jwtAlgorithms: 'RS256, ES256',
  jwtIssuer: 'https://issuer.example.com/',
  jwtAudience: 'orchestrator',
  authMode: 'optional',
  anonymousRole: 'operator',
  auditRetentionDays: '90',
});
const configuredModel = readApiModel(configured);

/** The authorizer's function, role statements and environment, in the API stack's template. */
function authorizerOf(stacks: typeof plain, template: CfnTemplateJson) {
  const authorizer = stacks.api.authorizer;
  if (authorizer === undefined) throw new Error('no authorizer');
  const fn = template.Resources[logicalIdOf(stacks.api, authorizer.function.lambda)];
  const roleId = logicalIdOf(stacks.api, authorizer.function.role);
  const statements = resourcesOfType(template, 'AWS::IAM::Policy')
    .filter(([, policy]) => JSON.stringify(propertiesOf(policy)['Roles']) === JSON.stringify([{ Ref: roleId }]))
    .flatMap(([, policy]) => statementsOf(policy));
  const environment = asRecord(asRecord(propertiesOf(fn ?? { Type: '' })['Environment'], 'Environment')['Variables'], 'Variables');
  return { authorizer, fn, statements, environment, authorizerId: logicalIdOf(stacks.api, authorizer.authorizer) };
}

describe('the API methods', () => {
  const { authorizerId } = authorizerOf(plain, plainModel.parent);
  const methodOf = (spec: RouteSpec) => {
    const method = plainModel.methods.find((candidate) => candidate.httpMethod === spec.method && candidate.path === spec.path);
    if (method === undefined) throw new Error(`${spec.method} ${spec.path}: no method`);
    return method;
  };

  it('the route table has public and protected routes (or these tests would prove nothing)', () => {
    expect(routeEntries.filter(([, spec]) => spec.auth === 'public').length).toBeGreaterThan(0);
    expect(routeEntries.filter(([, spec]) => spec.auth !== 'public').length).toBeGreaterThan(0);
  });

  it.each(routeEntries.filter(([, spec]) => spec.auth !== 'public'))('%s (non-public) goes through the REQUEST authorizer', (_name, spec) => {
    const method = methodOf(spec);
    expect(method.properties['AuthorizationType']).toBe('CUSTOM');
    // A nested stack parameter that the parent sets to the authorizer's Ref.
    const parameters = nestedStackParameters(plainModel.parent, logicalIdOf(plain.api, plain.api.contextStacks.get(spec.context)?.nestedStackResource));
    expect(parameters[refTarget(method.properties['AuthorizerId'], 'AuthorizerId')]).toEqual({ Ref: authorizerId });
  });

  it.each(routeEntries.filter(([, spec]) => spec.auth === 'public'))('%s (public) has no authorizer', (_name, spec) => {
    const method = methodOf(spec);
    expect(method.properties['AuthorizationType']).toBe('NONE');
    expect(method.properties['AuthorizerId']).toBeUndefined();
  });
});

describe('the authorizer', () => {
  const { authorizer, fn, statements, environment, authorizerId } = authorizerOf(configured, configuredModel.parent);
  const render = configuredModel.render;
  const dataId = (construct: Parameters<typeof logicalIdOf>[1]) => logicalIdOf(configured.data, construct);

  it('is one REQUEST authorizer of the API, without identity sources and without API Gateway caching', () => {
    const authorizers = resourcesOfType(configuredModel.parent, 'AWS::ApiGateway::Authorizer');
    expect(authorizers.map(([id]) => id)).toEqual([authorizerId]);
    const properties = propertiesOf(authorizers[0]?.[1] ?? { Type: '' });
    expect(properties).toMatchObject({ Type: 'REQUEST', AuthorizerResultTtlInSeconds: 0, RestApiId: { Ref: logicalIdOf(configured.api, configured.api.restApi) } });
    // Any identity source would make API Gateway answer 401 itself to requests without it (ADR 0010).
    expect(properties['IdentitySource']).toBeUndefined();
    expect(render(properties['AuthorizerUri'])).toContain(`<${logicalIdOf(configured.api, authorizer.function.lambda)}.Arn>/invocations`);
  });

  it('is a function built from functions/entries/authorizer.ts with the API functions\' defaults', () => {
    expect(authorizer.function.entry).toBe(AUTHORIZER_ENTRY);
    expect(propertiesOf(fn ?? { Type: '' })).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
  });

  it('may be invoked by API Gateway for this authorizer only', () => {
    const permissions = resourcesOfType(configuredModel.parent, 'AWS::Lambda::Permission').filter(([, permission]) => JSON.stringify(propertiesOf(permission)['FunctionName']).includes(logicalIdOf(configured.api, authorizer.function.lambda)));
    expect(permissions).toHaveLength(1);
    const properties = propertiesOf(permissions[0]?.[1] ?? { Type: '' });
    expect(properties['Principal']).toBe('apigateway.amazonaws.com');
    expect(render(properties['SourceArn'])).toMatch(new RegExp(`/authorizers/<Ref ${authorizerId}>$`));
  });

  it('gets its settings in the environment, and secrets by ARN only', () => {
    expect(environment).toMatchObject({
      ORCHESTRATOR_AUTH_MODE: 'optional',
      ORCHESTRATOR_ANONYMOUS_ROLE: 'operator',
      ORCHESTRATOR_AUDIT_RETENTION_DAYS: '90',
      ORCHESTRATOR_JWKS_URL: 'https://issuer.example.com/.well-known/jwks.json',
      ORCHESTRATOR_JWT_ALGORITHMS: 'RS256,ES256',
      ORCHESTRATOR_JWT_ISSUER: 'https://issuer.example.com/',
      ORCHESTRATOR_JWT_AUDIENCE: 'orchestrator',
      ORCHESTRATOR_API_KEY_SECRET_ARN: ADMIN_KEY_ARN,
      ORCHESTRATOR_PEER_TOKEN_SECRET_ARN: PEER_TOKEN_ARN,
    });
    expect(render(environment['ORCHESTRATOR_JWT_SECRET_ARN'])).toBe(`<Ref ${dataId(configured.data.jwtSecret)}>`);
    expect(render(environment['API_KEYS_TABLE_NAME'])).toBe(`<Ref ${dataId(configured.data.apiKeysTable)}>`);
    expect(render(environment['AUDIT_TABLE_NAME'])).toBe(`<Ref ${dataId(configured.data.auditTable)}>`);
  });

  it('may read keys and record their use, append refusals to the audit trail, and read exactly its secrets: nothing else', () => {
    const granted = statements
      .filter((statement) => !statement.Action.some((action) => action.startsWith('logs:') || action.startsWith('xray:')))
      .flatMap((statement) => statement.Action.flatMap((action) => statement.Resource.map((resource) => `${action} ${render(resource)}`)));
    expect(granted.sort()).toEqual(
      [
        `dynamodb:GetItem <${dataId(configured.data.apiKeysTable)}.Arn>`,
        `dynamodb:UpdateItem <${dataId(configured.data.apiKeysTable)}.Arn>`,
        `dynamodb:PutItem <${dataId(configured.data.auditTable)}.Arn>`,
        `secretsmanager:GetSecretValue <Ref ${dataId(configured.data.jwtSecret)}>`,
        `secretsmanager:GetSecretValue ${ADMIN_KEY_ARN}`,
        `secretsmanager:GetSecretValue ${PEER_TOKEN_ARN}`,
      ].sort(),
    );
  });

  it('without secrets configured, has no Secrets Manager right and no secret variable', () => {
    const bare = authorizerOf(plain, plainModel.parent);
    expect(bare.statements.flatMap((statement) => statement.Action).filter((action) => action.startsWith('secretsmanager:'))).toEqual([]);
    expect(Object.keys(bare.environment).filter((name) => name.endsWith('_SECRET_ARN'))).toEqual([]);
    expect(bare.environment).toMatchObject({ ORCHESTRATOR_AUTH_MODE: 'required', ORCHESTRATOR_ANONYMOUS_ROLE: 'viewer' });
  });

  it('is the only function that may read the JWT key and the admin key; the peer token is also read by the routes that call peers', () => {
    const templates = [configuredModel.parent, ...configuredModel.contexts.map((context) => context.template), templateOf(configured.runtime)];
    const readersOf = (secretArns: readonly string[]) =>
      templates.flatMap((template) =>
        resourcesOfType(template, 'AWS::IAM::Policy').flatMap(([, policy]) =>
          statementsOf(policy).some((statement) => statement.Action.some((action) => action.startsWith('secretsmanager:')) && statement.Resource.map(render).some((resource) => secretArns.includes(resource)))
            ? [JSON.stringify(propertiesOf(policy)['Roles'])]
            : [],
        ),
      );
    const authorizerRole = JSON.stringify([{ Ref: logicalIdOf(configured.api, authorizer.function.role) }]);
    expect(readersOf([`<Ref ${dataId(configured.data.jwtSecret)}>`, ADMIN_KEY_ARN])).toEqual([authorizerRole]);
    const peerReaders = readersOf([PEER_TOKEN_ARN]);
    expect(peerReaders).toContain(authorizerRole);
    const peerRoutes = configuredModel.functions.filter((deployed) => Object.keys(asRecord(asRecord(deployed.properties['Environment'], 'Environment')['Variables'], 'Variables')).includes('ORCHESTRATOR_PEER_TOKEN_SECRET_ARN'));
    const callingPeers = Object.entries(routes).filter(([, spec]) => (spec as { peers?: boolean }).peers).map(([name]) => name[0]!.toUpperCase() + name.slice(1));
    expect(peerRoutes.map((deployed) => callingPeers.find((name) => deployed.logicalId.startsWith(name)))).toEqual(expect.arrayContaining(callingPeers));
    expect(peerRoutes).toHaveLength(callingPeers.length);
    expect(peerReaders).toHaveLength(1 + peerRoutes.length);
    for (const deployed of configuredModel.functions) {
      const variables = Object.keys(asRecord(asRecord(deployed.properties['Environment'], 'Environment')['Variables'], 'Variables'));
      const allowed = peerRoutes.includes(deployed) ? ['ORCHESTRATOR_PEER_TOKEN_SECRET_ARN'] : [];
      expect(variables.filter((name) => (name.endsWith('_SECRET_ARN') || name.startsWith('ORCHESTRATOR_JWT') || name === 'ORCHESTRATOR_JWKS_URL') && !allowed.includes(name)), deployed.logicalId).toEqual([]);
    }
  });
});

describe('auth context values', () => {
  it.each([
    [{ authMode: 'sometimes' }, /authMode must be one of optional, required, off/],
    [{ anonymousRole: 'root' }, /anonymousRole must be one of viewer, operator, admin/],
    [{ jwksUrl: 'http://issuer.example.com/jwks' }, /jwksUrl must be an https URL/],
    [{ jwksUrl: 'https://issuer.example.com/jwks', jwtAlgorithms: 'HS256' }, /jwtAlgorithms: HS256 not accepted/],
    [{ jwtAlgorithms: 'RS256' }, /set jwksUrl too/],
    [{ jwtSecret: 'my-secret-value' }, /jwtSecret accepts only "generate"/],
    [{ jwtSecret: 'generate', jwtSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jwt-AbCdEf' }, /exclusive/],
    [{ adminApiKeySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:admin-key' }, /complete ARN/],
    [{ peerTokenSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:orchestrator/peer-AbCdEf' }, /must not start with orchestrator\//],
    [{ auditRetentionDays: '0' }, /auditRetentionDays must be a whole number from 1 to 3650/],
  ])('%j fails synthesis, naming the key', (context, message) => {
    expect(() => buildOrchestratorApp(context)).toThrow(message);
  });

  it('warn at synth time when the API would be open to everyone, or to no admin', () => {
    const warnings = (context: Record<string, unknown>) =>
      Annotations.fromStack(buildOrchestratorApp(context).api)
        .findWarning('*', Match.stringLikeRegexp('.*'))
        .map((warning) => String(warning.entry.data));
    expect(warnings({}).join('\n')).toMatch(/No credential source is configured/);
    expect(warnings({ authMode: 'off' }).join('\n')).toMatch(/every caller of the API is an admin/);
    expect(warnings({ adminApiKey: 'generate' })).toEqual([]);
  });
});
