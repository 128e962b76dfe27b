import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { asArray, asRecord, buildOrchestratorApp, propertiesOf, resourcesOfType, templateOf } from './fixture.ts';

/**
 * The web console in AWS (infra/stacks/console-stack.ts): a private bucket only CloudFront reads, one
 * distribution for the console and the API under /api/, and the API's URL given to the console at deploy time.
 */
const { console: consoleStack, api } = buildOrchestratorApp();
if (!consoleStack) throw new Error('the app deploys the console by default');
const template = templateOf(consoleStack);
const only = (type: string) => {
  const found = resourcesOfType(template, type);
  expect(found, type).toHaveLength(1);
  return propertiesOf(found[0]![1]);
};

describe('the console stack', () => {
  it('keeps the built files in an encrypted bucket no one but CloudFront reads, through origin access control', () => {
    const bucket = only('AWS::S3::Bucket');
    expect(bucket['PublicAccessBlockConfiguration']).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(JSON.stringify(bucket['BucketEncryption'])).toContain('AES256');
    only('AWS::CloudFront::OriginAccessControl');
    const policy = JSON.stringify(only('AWS::S3::BucketPolicy'));
    expect(policy).toContain('cloudfront.amazonaws.com');
    expect(policy.toLowerCase()).toContain('aws:sourcearn');
    expect(policy).toContain('"aws:SecureTransport":"false"');
  });

  it('serves the console over HTTPS with a strict content security policy, and the API under /api/ uncached with every viewer header', () => {
    const config = asRecord(only('AWS::CloudFront::Distribution')['DistributionConfig'], 'DistributionConfig');
    const defaultBehavior = asRecord(config['DefaultCacheBehavior'], 'DefaultCacheBehavior');
    expect(defaultBehavior['ViewerProtocolPolicy']).toBe('redirect-to-https');
    const [apiBehavior, ...others] = asArray(config['CacheBehaviors'], 'CacheBehaviors').map((behavior) => asRecord(behavior, 'behavior'));
    expect(others).toEqual([]);
    expect(apiBehavior).toMatchObject({ PathPattern: '/api/*', ViewerProtocolPolicy: 'https-only', AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'] });
    // AWS's managed CachingDisabled and AllViewerExceptHostHeader policies.
    expect(apiBehavior!['CachePolicyId']).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad');
    expect(apiBehavior!['OriginRequestPolicyId']).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac');
    // The API origin is the stage of this deployment's REST API.
    const origins = asArray(config['Origins'], 'Origins').map((origin) => asRecord(origin, 'origin'));
    const apiOrigin = origins.find((origin) => origin['Id'] === apiBehavior!['TargetOriginId'])!;
    expect(JSON.stringify(apiOrigin['OriginPath'])).toMatch(new RegExp(`"/",.*${api.getLogicalId(api.stage.node.defaultChild as CfnElement).replace(/[A-F0-9]{8}$/, '')}`));
    expect(JSON.stringify(apiOrigin['DomainName'])).toContain('execute-api');

    const headers = asRecord(asRecord(only('AWS::CloudFront::ResponseHeadersPolicy')['ResponseHeadersPolicyConfig'], 'config')['SecurityHeadersConfig'], 'SecurityHeadersConfig');
    expect(asRecord(headers['ContentSecurityPolicy'], 'csp')['ContentSecurityPolicy']).toMatch(/^default-src 'self';.*connect-src 'self';.*frame-ancestors 'none'/);
    expect(asRecord(headers['FrameOptions'], 'frame')['FrameOption']).toBe('DENY');
    expect(asRecord(headers['StrictTransportSecurity'], 'hsts')['AccessControlMaxAgeSec']).toBe(31_536_000);
  });

  it('strips /api before the API sees the path, and answers the app routes with index.html', () => {
    const functions = resourcesOfType(template, 'AWS::CloudFront::Function').map(([, resource]) => String(propertiesOf(resource)['FunctionCode']));
    expect(functions).toHaveLength(2);
    const run = (code: string, uri: string): unknown => new Function(`${code}; return handler({ request: { uri: ${JSON.stringify(uri)} } });`)() as unknown;
    const strip = functions.find((code) => code.includes('/api'))!;
    expect(run(strip, '/api/workflows/abc')).toEqual({ uri: '/workflows/abc' });
    expect(run(strip, '/api')).toEqual({ uri: '/' });
    expect(run(strip, '/apiary/x')).toEqual({ uri: '/apiary/x' });
    const routesCode = functions.find((code) => !code.includes('/api'))!;
    expect(run(routesCode, '/console/workflows/abc')).toEqual({ uri: '/console/index.html' });
    expect(run(routesCode, '/console/assets/index-1.js')).toEqual({ uri: '/console/assets/index-1.js' });
    expect(run(routesCode, '/')).toMatchObject({ statusCode: 302, headers: { location: { value: '/console/' } } });
  });

  it("copies the built files under console/ with a config.json naming the API's URL on the distribution, and invalidates the console's paths", () => {
    const deployment = only('Custom::CDKBucketDeployment');
    expect(deployment['DestinationBucketKeyPrefix']).toBe('console/');
    expect(deployment['DistributionPaths']).toEqual(['/console/*']);
    // Two sources: the built files and config.json, whose apiUrl is filled in at deployment.
    expect(asArray(deployment['SourceObjectKeys'], 'SourceObjectKeys')).toHaveLength(2);
    const markers = JSON.stringify(deployment['SourceMarkers']);
    expect(markers).toContain('DomainName');
    expect(JSON.stringify(template.Outputs)).toContain('/api');
    expect(Object.keys(template.Outputs ?? {}).sort()).toEqual(['ConsoleApiUrl', 'ConsoleUrl']);
  });
});

describe('the app without a built console', () => {
  const empty = mkdtempSync(join(tmpdir(), 'no-console-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('refuses to synthesize, saying how to build it or to leave it out', () => {
    expect(() => buildOrchestratorApp({ consoleAssets: empty })).toThrow(/the console is not built .*npm run build:console.*-c console=false/);
  });

  it('deploys no console with -c console=false', () => {
    expect(buildOrchestratorApp({ consoleAssets: empty, console: 'false' }).console).toBeUndefined();
  });
});
