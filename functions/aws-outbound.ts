import { createAwsSecretResolver } from '../adapters/aws/secrets/aws-secret-resolver.ts';
import { createOutboundHttp, type ClosableOutboundHttp } from '../adapters/http/outbound-http.ts';
import { createOutboundPolicy, outboundAllowFrom } from '../adapters/http/outbound-policy.ts';
import { peersAllow } from '../adapters/http/peer-client.ts';
import type { SecretResolver } from '../core/ports.ts';
import type { LambdaConfig } from './config.ts';

/**
 * Outbound HTTP of a Lambda (the action runner, the health sweep, the OpenAPI poll, the peer routes): the
 * policy of ORCHESTRATOR_OUTBOUND_ALLOW, with the function's own runtime API (127.0.0.1:9001) among the
 * listeners never called, whatever the allow list says. One per process: its connections are reused.
 */
export function awsOutboundHttp(config: LambdaConfig, extraAllow: readonly string[] = []): ClosableOutboundHttp {
  const runtimePort = Number(config.AWS_LAMBDA_RUNTIME_API?.split(':').pop());
  const ownPorts = new Set(Number.isInteger(runtimePort) && runtimePort > 0 ? [runtimePort] : []);
  const allow = extraAllow.length === 0 ? config.ORCHESTRATOR_OUTBOUND_ALLOW : outboundAllowFrom([...config.ORCHESTRATOR_OUTBOUND_ALLOW.entries, ...extraAllow]);
  return createOutboundHttp({ policy: createOutboundPolicy({ allow, ownPorts }) });
}

/** For calls to peers: their configured hosts are allowed besides ORCHESTRATOR_OUTBOUND_ALLOW. */
export function awsPeerOutboundHttp(config: LambdaConfig): ClosableOutboundHttp {
  return awsOutboundHttp(config, peersAllow(config.ORCHESTRATOR_PEERS));
}

let secrets: SecretResolver | undefined;

/** Services' credentials from Secrets Manager and SSM (under orchestrator/ only: the role allows no more), cached a minute. */
export function awsSecretResolver(): SecretResolver {
  secrets ??= createAwsSecretResolver();
  return secrets;
}
