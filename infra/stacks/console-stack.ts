import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnElement} from 'aws-cdk-lib';
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { IRestApi, Stage } from 'aws-cdk-lib/aws-apigateway';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  Function as EdgeFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  OriginRequestPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, Source } from 'aws-cdk-lib/aws-s3-deployment';
import type { Construct } from 'constructs';

/** Where the console's app lives on the distribution, as on the local server (local/console-site.ts). */
export const CONSOLE_PREFIX = 'console';
/** The API, through the same distribution: same origin as the console, so no CORS and a `connect-src 'self'` CSP. */
export const API_PREFIX = 'api';

export interface ConsoleStackProps extends StackProps {
  /** The API the console calls, and its stage (the origin's path). */
  readonly restApi: IRestApi;
  readonly stage: Stage;
  /** The built console (`npm run build:console`: dist/console). */
  readonly assetsDirectory: string;
  readonly retainData?: boolean;
}

/**
 * The web console in AWS: its built files in a private S3 bucket that only CloudFront reads (origin access
 * control), behind one distribution that also forwards `/api/*` to the REST API (a CloudFront function strips the
 * prefix), so the console and the API share an origin. The API's URL is given to the console at deploy time in
 * `/console/config.json` (`{"apiUrl": "https://<distribution>/api"}`), which the app reads when it starts.
 */
export class ConsoleStack extends Stack {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  readonly consoleUrl: string;

  constructor(scope: Construct, id: string, props: ConsoleStackProps) {
    super(scope, id, props);
    if (!existsSync(join(props.assetsDirectory, 'index.html'))) {
      throw new Error(`the console is not built (no index.html in ${props.assetsDirectory}): run \`npm run build:console\` before \`cdk synth\` or \`cdk deploy\`, or deploy without it with -c console=false`);
    }

    this.bucket = new Bucket(this, 'ConsoleBucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: props.retainData === false ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: props.retainData === false,
    });

    // The console talks to its own origin only (the API is under /api/ of it), and is never framed.
    const securityHeaders = new ResponseHeadersPolicy(this, 'ConsoleSecurityHeaders', {
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
      },
    });
    // `/api/workflows` -> `/workflows` on the API's stage (the origin path); query strings and headers pass as they are.
    const stripApiPrefix = new EdgeFunction(this, 'StripApiPrefix', {
      runtime: FunctionRuntime.JS_2_0,
      comment: 'Strips /api from console API calls before they reach API Gateway',
      code: FunctionCode.fromInline(
        `function handler(event) { var uri = event.request.uri.replace(/^\\/${API_PREFIX}(?=\\/|$)/, ''); event.request.uri = uri === '' ? '/' : uri; return event.request; }`,
      ),
    });
    // The app's own routes are not files: the SPA's index.html answers them (as the local server does).
    const spaFallback = new EdgeFunction(this, 'ConsoleRoutes', {
      runtime: FunctionRuntime.JS_2_0,
      comment: 'Serves the console index.html for the app routes under /console/',
      code: FunctionCode.fromInline(
        `function handler(event) { var uri = event.request.uri; if (uri === '/' || uri === '/${CONSOLE_PREFIX}') { return { statusCode: 302, statusDescription: 'Found', headers: { location: { value: '/${CONSOLE_PREFIX}/' } } }; } if (uri.startsWith('/${CONSOLE_PREFIX}/') && uri.split('/').pop().indexOf('.') < 0) { event.request.uri = '/${CONSOLE_PREFIX}/index.html'; } return event.request; }`,
      ),
    });

    this.distribution = new Distribution(this, 'ConsoleDistribution', {
      comment: 'Orchestrator console (and its API under /api/)',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: securityHeaders,
        functionAssociations: [{ function: spaFallback, eventType: FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        [`/${API_PREFIX}/*`]: {
          // The API's own endpoint, its stage as the origin path (the API is deployed through an explicit Stage).
          origin: new HttpOrigin(`${props.restApi.restApiId}.execute-api.${this.region}.${this.urlSuffix}`, { originPath: `/${props.stage.stageName}` }),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          // Nothing of the API is cached: answers depend on the caller and change with every run.
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          functionAssociations: [{ function: stripApiPrefix, eventType: FunctionEventType.VIEWER_REQUEST }],
        },
      },
    });
    this.consoleUrl = `https://${this.distribution.distributionDomainName}/${CONSOLE_PREFIX}/`;

    new BucketDeployment(this, 'ConsoleAssets', {
      destinationBucket: this.bucket,
      destinationKeyPrefix: `${CONSOLE_PREFIX}/`,
      sources: [Source.asset(props.assetsDirectory), Source.jsonData('config.json', { apiUrl: `https://${this.distribution.distributionDomainName}/${API_PREFIX}` })],
      // A new version is seen at once: index.html and config.json are not cached past the deployment.
      distribution: this.distribution,
      distributionPaths: [`/${CONSOLE_PREFIX}/*`],
      memoryLimit: 256,
    });

    new CfnOutput(this, 'ConsoleUrl', { value: this.consoleUrl, description: 'The web console' });
    new CfnOutput(this, 'ConsoleApiUrl', { value: `https://${this.distribution.distributionDomainName}/${API_PREFIX}`, description: 'The API through the console distribution (same origin as the console)' });
    this.acknowledgeNagFindings();
  }

  private acknowledgeNagFindings(): void {
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'The bucket holds the built console only (public JavaScript and HTML, replaced on every deployment) and is read by CloudFront alone; server access logs would record nothing worth auditing.',
    });
    Validations.of(this.distribution).acknowledge(
      { id: 'AwsSolutions-CFR1', reason: 'The console is for the operators of this deployment wherever they are; access is controlled by the API credentials, not by geography.' },
      { id: 'AwsSolutions-CFR2', reason: 'The distribution forwards API calls to API Gateway, which has its own throttling and the optional WAF rate limit (wafRateLimit); the static console needs none.' },
      { id: 'AwsSolutions-CFR3', reason: 'API calls are logged by the API itself (access logs and the audit trail); the static files need no access log.' },
      { id: 'AwsSolutions-CFR4', reason: 'The default CloudFront certificate is used (no custom domain for the console): CloudFront then negotiates TLS 1.2 or later with current browsers, and the policy cannot be set without a custom certificate.' },
    );
    // BucketDeployment's own function (CDK's singleton, with the AWS CLI layer): it copies the built files once per
    // deployment and invalidates the distribution. Its grants are CDK's, scoped to the staging bucket and this one.
    const copier = this.node.findAll().find((construct) => construct.node.id.startsWith('Custom::CDKBucketDeployment'));
    const copierRole = copier?.node.tryFindChild('ServiceRole');
    if (!copierRole) throw new Error("CDK's BucketDeployment function has no ServiceRole: its findings cannot be acknowledged where they are");
    const bucketId = this.getLogicalId(this.bucket.node.defaultChild as CfnElement);
    const why = "CDK's BucketDeployment function copies the built console from CDK's staging bucket into this bucket under console/ and invalidates this distribution; these are CDK's own grants for that.";
    Validations.of(copier!).acknowledge({ id: 'AwsSolutions-L1', reason: "CDK's BucketDeployment function picks its own runtime, which CDK keeps current with its releases." });
    Validations.of(copierRole).acknowledge(
      { id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: "CDK's BucketDeployment function writes its logs with the AWS managed basic execution policy." },
      ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => ({ id: `AwsSolutions-IAM5[Action::${action}]`, reason: why })),
      { id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]', reason: why },
      { id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`, reason: why },
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: "CloudFront's CreateInvalidation has no resource-level permission in CDK's grant; the function invalidates this distribution's console paths only." },
    );
  }
}
