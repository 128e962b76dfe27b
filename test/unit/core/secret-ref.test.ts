import { describe, expect, it } from 'vitest';
import { ServiceRegistrationInputSchema } from '../../../core/registry/registration.ts';
import { parseSecretRef } from '../../../core/registry/secret-ref.ts';

describe('secret references', () => {
  it.each([
    ['env:ANALYSIS_TOKEN', { kind: 'env', name: 'ANALYSIS_TOKEN' }],
    ['file:/run/secrets/analysis-token', { kind: 'file', path: '/run/secrets/analysis-token' }],
    ['secretsmanager:orchestrator/analysis/token', { kind: 'secretsmanager', id: 'orchestrator/analysis/token' }],
    ['secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:orchestrator/analysis-AbCdEf', { kind: 'secretsmanager', id: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:orchestrator/analysis-AbCdEf' }],
    ['ssm:/orchestrator/analysis/token', { kind: 'ssm', name: '/orchestrator/analysis/token' }],
  ])('reads %s', (text, ref) => {
    expect(parseSecretRef(text)).toEqual({ ref });
  });

  it.each([
    ['secretsmanager:prod/db', /under orchestrator\//],
    ['secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf', /under orchestrator\//],
    ['ssm:/prod/db', /under \/orchestrator\//],
    ['ssm:orchestrator/x', /under \/orchestrator\//],
    ['env:AWS_SECRET_ACCESS_KEY', /AWS_\*/],
    ['env:orchestrator_api_key', /ORCHESTRATOR_\*/],
    ['env:A-B', /letters, digits and _/],
    ['file:relative/path', /absolute path/],
    ['file:/run/secrets/../../etc/shadow', /\. or \.\. segments/],
    ['vault:kv/x', /must be one of/],
    ['plain-secret-value', /must be one of/],
  ])('refuses %s, naming the rule', (text, rule) => {
    const parsed = parseSecretRef(text);
    expect('problem' in parsed && parsed.problem).toMatch(rule);
  });
});

describe('a registration with auth', () => {
  const base = { name: 'svc', url: 'https://svc.example' };

  it('keeps the reference, with X-API-Key as the default api_key header', () => {
    expect(ServiceRegistrationInputSchema.parse({ ...base, auth: { type: 'api_key', secret_ref: 'env:SVC_KEY' } }).auth).toEqual({ type: 'api_key', secret_ref: 'env:SVC_KEY', header: 'X-API-Key' });
    expect(ServiceRegistrationInputSchema.parse({ ...base, auth: { type: 'bearer', secret_ref: 'ssm:/orchestrator/svc' } }).auth).toEqual({ type: 'bearer', secret_ref: 'ssm:/orchestrator/svc' });
  });

  it('refuses a secret value in place of a reference, unknown fields, and a header for bearer or basic', () => {
    const issues = (auth: unknown) => ServiceRegistrationInputSchema.safeParse({ ...base, auth }).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? [];
    expect(issues({ type: 'bearer', secret_ref: 'sk-live-123' })).toEqual([expect.stringMatching(/^auth\.secret_ref: auth\.secret_ref: must be one of/)]);
    expect(issues({ type: 'bearer', secret_ref: 'env:X', secret: 'sk-live-123' })).toHaveLength(1);
    expect(issues({ type: 'basic', secret_ref: 'env:X', header: 'X-Key' })).toEqual(['auth.header: auth.header is for api_key only: bearer and basic use Authorization']);
    expect(issues({ type: 'oauth', secret_ref: 'env:X' })).toEqual([expect.stringMatching(/auth\.type must be one of bearer, api_key, basic/)]);
  });
});
