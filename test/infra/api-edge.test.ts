import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { asRecord, buildOrchestratorApp, logicalIdOf, propertiesOf, resourcesOfType, templateOf } from './fixture.ts';
import { readApiModel } from './api-model.ts';

/**
 * The API's edge in AWS, from context: stage throttling and the usage plan, the optional WAF per-IP rate
 * limit, and the optional custom domain with mutual TLS (docs/adr/0010). Without the optional context,
 * nothing of the last two exists.
 */
const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f5c2a1e-7d3b-4c55-9a0e-3b1f8e6d2c47';
const DOMAIN = { domainName: 'orchestrator.example.com', certificateArn: CERTIFICATE_ARN } as const;
const MTLS = { ...DOMAIN, mtlsTruststoreUri: 's3://example-truststores/orchestrator/ca-bundle.pem', mtlsTruststoreVersion: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY' } as const;

function edgeOf(context: Record<string, unknown> = {}) {
  const stacks = buildOrchestratorApp(context);
  const template = templateOf(stacks.api);
  const [stageId, stage] = resourcesOfType(template, 'AWS::ApiGateway::Stage')[0] ?? ['', { Type: '' }];
  return { stacks, template, stageId, stage: propertiesOf(stage), restApiId: logicalIdOf(stacks.api, stacks.api.restApi) };
}

const defaults = edgeOf();

describe('stage throttling', () => {
  const throttlingOf = (stage: Record<string, unknown>) => {
    const [settings] = stage['MethodSettings'] as Array<Record<string, unknown>>;
    return { rate: settings?.['ThrottlingRateLimit'], burst: settings?.['ThrottlingBurstLimit'] };
  };

  it('defaults to the local server\'s rate limit defaults, 50 requests per second with bursts of 100 (here for all callers together)', () => {
    expect(throttlingOf(defaults.stage)).toEqual({ rate: 50, burst: 100 });
  });

  it('comes from -c rateLimitRps=7 -c rateLimitBurst=9 (strings, as the CLI passes them)', () => {
    expect(throttlingOf(edgeOf({ rateLimitRps: '7', rateLimitBurst: '9' }).stage)).toEqual({ rate: 7, burst: 9 });
  });

  it.each([[{ rateLimitRps: '0' }], [{ rateLimitRps: 'fast' }], [{ rateLimitBurst: '2.5' }]])('%j fails synthesis', (context) => {
    expect(() => buildOrchestratorApp(context)).toThrow(/rateLimit(Rps|Burst)/);
  });
});

describe('the usage plan', () => {
  it('is bound to the stage with the stage\'s limits, and no API Gateway API key exists or is required (so it limits no one yet)', () => {
    const plans = resourcesOfType(defaults.template, 'AWS::ApiGateway::UsagePlan');
    expect(plans).toHaveLength(1);
    const plan = propertiesOf(plans[0]?.[1] ?? { Type: '' });
    expect(plan['ApiStages']).toEqual([expect.objectContaining({ ApiId: { Ref: defaults.restApiId }, Stage: { Ref: defaults.stageId } })]);
    expect(plan['Throttle']).toEqual({ RateLimit: 50, BurstLimit: 100 });
    expect(resourcesOfType(defaults.template, 'AWS::ApiGateway::ApiKey')).toEqual([]);
    expect(resourcesOfType(defaults.template, 'AWS::ApiGateway::UsagePlanKey')).toEqual([]);
    const model = readApiModel(defaults.stacks);
    expect(model.methods.filter((method) => method.properties['ApiKeyRequired'] === true)).toEqual([]);
  });
});

describe('the WAF rate limit', () => {
  it('does not exist by default (cdk-nag APIG3 is acknowledged on the stage instead)', () => {
    expect(resourcesOfType(defaults.template, 'AWS::WAFv2::WebACL')).toEqual([]);
    expect(resourcesOfType(defaults.template, 'AWS::ApiGateway::GatewayResponse').map(([, response]) => propertiesOf(response)['ResponseType'])).not.toContain('WAF_FILTERED');
  });

  const waf = edgeOf({ wafRateLimit: '500' });

  it('-c wafRateLimit=500: a regional web ACL blocking a source IP past 500 requests per 5 minutes, allowing all else', () => {
    const acls = resourcesOfType(waf.template, 'AWS::WAFv2::WebACL');
    expect(acls).toHaveLength(1);
    const acl = propertiesOf(acls[0]?.[1] ?? { Type: '' });
    expect(acl).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } });
    expect(acl['Rules']).toEqual([
      expect.objectContaining({
        Priority: 0,
        Action: { Block: {} },
        Statement: { RateBasedStatement: { Limit: 500, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
      }),
    ]);
  });

  it('is associated with the stage', () => {
    const associations = resourcesOfType(waf.template, 'AWS::WAFv2::WebACLAssociation');
    expect(associations).toHaveLength(1);
    const association = propertiesOf(associations[0]?.[1] ?? { Type: '' });
    const rendered = JSON.stringify(association['ResourceArn']);
    expect(rendered).toContain(`{"Ref":"${waf.restApiId}"}`);
    expect(rendered).toContain(`{"Ref":"${waf.stageId}"}`);
    expect(association['WebACLArn']).toEqual({ 'Fn::GetAtt': [resourcesOfType(waf.template, 'AWS::WAFv2::WebACL')[0]?.[0], 'Arn'] });
  });

  it('answers blocked requests with a 429 RATE_LIMITED in the error envelope', () => {
    const [response] = resourcesOfType(waf.template, 'AWS::ApiGateway::GatewayResponse').filter(([, candidate]) => propertiesOf(candidate)['ResponseType'] === 'WAF_FILTERED');
    const properties = propertiesOf(response?.[1] ?? { Type: '' });
    expect(properties['StatusCode']).toBe('429');
    expect(String(asRecord(properties['ResponseTemplates'], 'templates')['application/json'])).toContain('"error_code":"RATE_LIMITED"');
  });

  it.each([['9'], ['ten'], ['2000000001']])('-c wafRateLimit=%s fails synthesis (AWS WAF accepts 10 to 2,000,000,000)', (limit) => {
    expect(() => buildOrchestratorApp({ wafRateLimit: limit })).toThrow(/wafRateLimit must be a whole number from 10/);
  });
});

describe('the custom domain with mutual TLS', () => {
  it('does not exist by default, and the execute-api endpoint stays on', () => {
    expect(resourcesOfType(defaults.template, 'AWS::ApiGateway::DomainName')).toEqual([]);
    expect(propertiesOf(defaults.template.Resources[defaults.restApiId] ?? { Type: '' })['DisableExecuteApiEndpoint']).toBe(false);
  });

  const mtls = edgeOf(MTLS);

  it('is a regional domain with the ACM certificate, TLS 1.2 or later, and the truststore from S3 at its pinned version', () => {
    const domains = resourcesOfType(mtls.template, 'AWS::ApiGateway::DomainName');
    expect(domains).toHaveLength(1);
    expect(propertiesOf(domains[0]?.[1] ?? { Type: '' })).toEqual({
      DomainName: MTLS.domainName,
      EndpointConfiguration: { Types: ['REGIONAL'] },
      RegionalCertificateArn: CERTIFICATE_ARN,
      SecurityPolicy: 'TLS_1_2',
      MutualTlsAuthentication: { TruststoreUri: MTLS.mtlsTruststoreUri, TruststoreVersion: MTLS.mtlsTruststoreVersion },
    });
  });

  it('maps its root to the stage, and disables the execute-api endpoint so mutual TLS cannot be bypassed', () => {
    const mappings = resourcesOfType(mtls.template, 'AWS::ApiGateway::BasePathMapping');
    expect(mappings.map(([, mapping]) => propertiesOf(mapping))).toEqual([
      { DomainName: { Ref: resourcesOfType(mtls.template, 'AWS::ApiGateway::DomainName')[0]?.[0] }, RestApiId: { Ref: mtls.restApiId }, Stage: { Ref: mtls.stageId } },
    ]);
    expect(propertiesOf(mtls.template.Resources[mtls.restApiId] ?? { Type: '' })['DisableExecuteApiEndpoint']).toBe(true);
  });

  it('outputs the API URL on the domain, and the regional target and hosted zone for DNS', () => {
    const domainId = resourcesOfType(mtls.template, 'AWS::ApiGateway::DomainName')[0]?.[0];
    expect(mtls.template.Outputs?.['ApiUrl']?.Value).toBe(`https://${MTLS.domainName}/`);
    expect(mtls.template.Outputs?.['DomainTarget']?.Value).toEqual({ 'Fn::GetAtt': [domainId, 'RegionalDomainName'] });
    expect(mtls.template.Outputs?.['DomainHostedZoneId']?.Value).toEqual({ 'Fn::GetAtt': [domainId, 'RegionalHostedZoneId'] });
  });

  it('may come without mutual TLS: a plain custom domain, still the only way in', () => {
    const plain = edgeOf(DOMAIN);
    expect(propertiesOf(resourcesOfType(plain.template, 'AWS::ApiGateway::DomainName')[0]?.[1] ?? { Type: '' })['MutualTlsAuthentication']).toBeUndefined();
    expect(propertiesOf(plain.template.Resources[plain.restApiId] ?? { Type: '' })['DisableExecuteApiEndpoint']).toBe(true);
  });

  it.each([
    [{ domainName: DOMAIN.domainName }, /domainName and certificateArn go together/],
    [{ mtlsTruststoreUri: MTLS.mtlsTruststoreUri }, /mtlsTruststoreUri needs a custom domain/],
    [{ ...DOMAIN, mtlsTruststoreUri: 'https://example-truststores.s3.amazonaws.com/ca.pem' }, /mtlsTruststoreUri must be s3:\/\/<bucket>\/<key>/],
    [{ ...DOMAIN, mtlsTruststoreVersion: '3' }, /mtlsTruststoreVersion needs mtlsTruststoreUri/],
    [{ ...DOMAIN, certificateArn: 'arn:aws:iam::123456789012:server-certificate/x' }, /certificateArn must be an ACM certificate ARN/],
  ])('%j fails synthesis, naming the key', (context, message) => {
    expect(() => buildOrchestratorApp(context)).toThrow(message);
  });
});

describe('cdk-nag, with every option on', () => {
  it('finds nothing unacknowledged, and the WAF makes the APIG3 acknowledgement go away', () => {
    const { app, api } = buildOrchestratorApp({ ...MTLS, wafRateLimit: '1000', jwtSecret: 'generate', adminApiKey: 'generate' });
    expect(() => app.synth()).not.toThrow();
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
    const stageAcknowledgements = api.stage.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    expect(JSON.stringify(stageAcknowledgements)).not.toContain('APIG3');
  });
});
