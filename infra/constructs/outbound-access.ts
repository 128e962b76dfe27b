import { Arn, ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { parseOutboundAllow } from '../../adapters/http/outbound-policy.ts';
import { AWS_SECRET_PREFIX } from '../../core/registry/secret-ref.ts';

/**
 * What the Lambdas that call services and peers over HTTP get (docs/adr/0004): the outbound allow list
 * (ORCHESTRATOR_OUTBOUND_ALLOW, from `-c outboundAllow=...`), and for those that send services' credentials
 * (the action runner, the health sweep and the health-check route), read access to secrets and parameters
 * under the `orchestrator/` prefix, and nothing else of Secrets Manager or SSM.
 */

/** What the runtime stack offers functions that call services or peers (the route table's `outbound` and `peers`). */
export interface OutboundAccess {
  /** ORCHESTRATOR_OUTBOUND_ALLOW when the deployment allows anything beyond public addresses; empty otherwise. */
  readonly outboundEnvironment: Readonly<Record<string, string>>;
  /** Lets `grantee` read services' credentials (secretsmanager:GetSecretValue, ssm:GetParameter) under the prefix. */
  grantServiceSecrets(grantee: IGrantable): void;
}

/** The entries of `-c outboundAllow=10.0.0.0/16,api.internal` (or an array in cdk.json), validated as at run time. */
export function outboundAllowEntries(value: unknown): string[] {
  if (value === undefined) return [];
  const { allow, problems } = parseOutboundAllow(Array.isArray(value) ? value.map(String) : String(value));
  if (problems.length > 0) throw new Error(`context outboundAllow: ${problems.join('; ')}`);
  return [...allow.entries];
}

export function outboundEnvironment(entries: readonly string[]): Record<string, string> {
  return entries.length === 0 ? {} : { ORCHESTRATOR_OUTBOUND_ALLOW: entries.join(',') };
}

/** `arn:...:secret:orchestrator/*` and `arn:...:parameter/orchestrator/*` of the stack's account and region. */
export function serviceSecretArns(scope: Construct): { readonly secrets: string; readonly parameters: string } {
  const stack = Stack.of(scope);
  return {
    secrets: Arn.format({ service: 'secretsmanager', resource: 'secret', resourceName: `${AWS_SECRET_PREFIX}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }, stack),
    parameters: Arn.format({ service: 'ssm', resource: 'parameter', resourceName: `${AWS_SECRET_PREFIX}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }, stack),
  };
}

/**
 * Grants GetSecretValue on the secrets and GetParameter on the parameters under `orchestrator/`: registered
 * services name their credentials there (core/registry/secret-ref.ts refuses any other name at
 * registration). SSM SecureStrings under the default aws/ssm key and secrets under aws/secretsmanager need no
 * KMS grant; a customer-managed key needs kms:Decrypt granted on that key.
 */
export function grantServiceSecrets(scope: Construct, grantee: IGrantable): void {
  const arns = serviceSecretArns(scope);
  Grant.addToPrincipal({ grantee, actions: ['secretsmanager:GetSecretValue'], resourceArns: [arns.secrets] });
  Grant.addToPrincipal({ grantee, actions: ['ssm:GetParameter'], resourceArns: [arns.parameters] });
  if (Construct.isConstruct(grantee.grantPrincipal)) {
    const reason = `Services' credentials are named at registration, so they are known by the ${AWS_SECRET_PREFIX} prefix only, which the registry enforces; read-only, and nothing outside the prefix.`;
    Validations.of(grantee.grantPrincipal).acknowledge(
      { id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${AWS_SECRET_PREFIX}*]`, reason },
      { id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/${AWS_SECRET_PREFIX}*]`, reason },
    );
  }
}
