import { BasePathMapping, DomainName, EndpointType, SecurityPolicy, type RestApi, type Stage } from 'aws-cdk-lib/aws-apigateway';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { CustomDomainContext } from '../api-context.ts';

export interface ApiDomainProps {
  readonly settings: CustomDomainContext;
  readonly restApi: RestApi;
  readonly stage: Stage;
}

/**
 * The API's custom domain (regional, TLS 1.2 or later), mapped at its root to the stage, optionally with
 * mutual TLS: API Gateway then refuses any TLS handshake without a client certificate chaining to a CA of
 * the truststore, and passes the verified certificate to the authorizer (`requestContext.identity.clientCert`).
 *
 * The RestApi must also set `disableExecuteApiEndpoint` (api-stack.ts does when a domain is given):
 * otherwise the default `execute-api` URL would still answer, without mutual TLS.
 *
 * The certificate is an ACM certificate of the stack's region covering the domain name; the truststore a PEM
 * bundle in S3 that API Gateway reads when the domain is created or updated (`mtlsTruststoreVersion` pins an
 * object version, so uploading a new bundle takes effect only on a deploy naming it).
 */
export class ApiDomain extends Construct {
  readonly domain: DomainName;

  constructor(scope: Construct, id: string, props: ApiDomainProps) {
    super(scope, id);
    const { settings } = props;
    const mtls = settings.mtls;
    this.domain = new DomainName(this, 'Domain', {
      domainName: settings.domainName,
      certificate: Certificate.fromCertificateArn(this, 'Certificate', settings.certificateArn),
      endpointType: EndpointType.REGIONAL,
      securityPolicy: SecurityPolicy.TLS_1_2,
      ...(mtls === undefined
        ? {}
        : { mtls: { bucket: Bucket.fromBucketName(this, 'Truststore', mtls.bucketName), key: mtls.key, ...(mtls.version === undefined ? {} : { version: mtls.version }) } }),
    });
    // At the root: the domain serves the API's paths as they are (/health, /workflows...).
    new BasePathMapping(this, 'Mapping', { domainName: this.domain, restApi: props.restApi, stage: props.stage });
  }
}
