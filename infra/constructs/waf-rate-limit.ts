import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { Construct } from 'constructs';

export interface WafRateLimitProps {
  readonly stage: Stage;
  /** Requests one source IP may send in any 5 minutes before further ones are blocked (AWS WAF's minimum is 10). */
  readonly limitPer5Minutes: number;
  /** Names the web ACL and its metrics. */
  readonly name: string;
}

/**
 * A regional web ACL on the stage with one rule: a per-source-IP rate limit (`-c wafRateLimit=N`). It is the
 * only per-client limit API Gateway can enforce here: stage throttling counts all callers together, and usage
 * plans limit API Gateway API keys, which this API does not use (ADR 0010). Everything else is allowed.
 *
 * Blocked requests get API Gateway's WAF_FILTERED gateway response, which api-stack.ts makes a 429 in the
 * error envelope while this web ACL is the stage's only one.
 */
export class WafRateLimit extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: WafRateLimitProps) {
    super(scope, id);
    const visibility = (metricName: string): CfnWebACL.VisibilityConfigProperty => ({ cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      name: props.name,
      description: `Per source IP rate limit of the orchestrator API: ${props.limitPer5Minutes} requests per 5 minutes`,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${props.name}-acl`),
      rules: [
        {
          name: 'rate-per-source-ip',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: props.limitPer5Minutes, aggregateKeyType: 'IP', evaluationWindowSec: 300 } },
          visibilityConfig: visibility(`${props.name}-rate-per-ip`),
        },
      ],
    });
    new CfnWebACLAssociation(this, 'Association', { resourceArn: props.stage.stageArn, webAclArn: this.webAcl.attrArn });
  }
}
