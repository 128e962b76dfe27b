import path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import { CfnAuthorizer, RequestAuthorizer } from 'aws-cdk-lib/aws-apigateway';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { AuthMode, Role } from '../../core/auth/model.ts';
import { DEFAULT_ANONYMOUS_ROLE, DEFAULT_AUDIT_RETENTION_DAYS } from '../api-context.ts';
import { ApiFunction, FUNCTION_ENTRIES_DIR } from './api-function.ts';

/** The verification settings that are plain values (the context gives them, the authorizer's environment carries them). */
export interface AuthVerificationSettings {
  readonly mode: AuthMode;
  /** The role of callers without a credential in `optional` mode. */
  readonly anonymousRole: Role;
  readonly auditRetentionDays: number;
  readonly jwksUrl?: string;
  readonly jwtAlgorithms?: readonly string[];
  readonly jwtIssuer?: string;
  readonly jwtAudience?: string;
}

/** How the API authenticates callers: the authorizer's settings, from context (infra/api-context.ts). */
export interface ApiAuthSettings extends AuthVerificationSettings {
  /** Secrets Manager ARNs; the authorizer reads them at init and is the only function allowed to. */
  readonly jwtSecretArn?: string;
  readonly adminApiKeySecretArn?: string;
  readonly peerTokenSecretArn?: string;
}

export const DEFAULT_API_AUTH: ApiAuthSettings = { mode: 'required', anonymousRole: DEFAULT_ANONYMOUS_ROLE, auditRetentionDays: DEFAULT_AUDIT_RETENTION_DAYS };

/** The authorizer's entry file (the lead's functions/entries/authorizer.ts). */
export const AUTHORIZER_ENTRY = path.join(FUNCTION_ENTRIES_DIR, 'authorizer.ts');

/** The actions the authorizer has on the API keys table: look a key up by id, record its last use. */
export const AUTHORIZER_KEY_ACTIONS = ['dynamodb:GetItem', 'dynamodb:UpdateItem'] as const;
/** ...and on the audit table: a record of each refused credential, never read back. */
export const AUTHORIZER_AUDIT_ACTIONS = ['dynamodb:PutItem'] as const;

/**
 * The security settings every route function gets besides the audit table's name (functions/config.ts): the
 * auth mode (what `required` means for the route check) and the audit records' retention.
 */
export function routeSecurityEnvironment(settings: ApiAuthSettings): Record<string, string> {
  return {
    ORCHESTRATOR_AUTH_MODE: settings.mode,
    ORCHESTRATOR_ANONYMOUS_ROLE: settings.anonymousRole,
    ORCHESTRATOR_AUDIT_RETENTION_DAYS: String(settings.auditRetentionDays),
  };
}

export interface ApiAuthorizerProps {
  readonly settings: ApiAuthSettings;
  readonly apiKeysTable: ITable;
  readonly auditTable: ITable;
  /** Added to the function's environment (service version...). */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * The API's Lambda REQUEST authorizer: the same verification as the local server (functions/auth/), its
 * verdict returned to API Gateway as a policy and the principal as the authorizer context, which is all the
 * route handlers trust (docs/adr/0010-authentication-and-authorization.md).
 *
 * API Gateway caches nothing: a REQUEST authorizer's cache key is built from its identity sources, and API
 * Gateway answers 401 *without calling the authorizer* when any identity source is missing, null or empty
 * (API Gateway API reference, Authorizer.identitySource). A request carries `Authorization` or `X-API-Key`,
 * never both, and in `optional` mode possibly neither; so no identity source fits every request, and without
 * identity sources API Gateway allows no caching. `resultsCacheTtl` is 0 and there are no identity sources:
 * the authorizer runs on every request and caches verified credentials itself, keyed by a hash of the
 * credential (functions/auth/authenticator.ts), which also keeps the principal exact per request.
 */
export class ApiAuthorizer extends Construct {
  readonly function: ApiFunction;
  readonly authorizer: RequestAuthorizer;
  /** The secrets the function may read (GetSecretValue only). */
  readonly secretArns: readonly string[];

  constructor(scope: Construct, id: string, props: ApiAuthorizerProps) {
    super(scope, id);
    const { settings } = props;
    const secrets: Record<string, string | undefined> = {
      ORCHESTRATOR_JWT_SECRET_ARN: settings.jwtSecretArn,
      ORCHESTRATOR_API_KEY_SECRET_ARN: settings.adminApiKeySecretArn,
      ORCHESTRATOR_PEER_TOKEN_SECRET_ARN: settings.peerTokenSecretArn,
    };
    const verification: Record<string, string | undefined> = {
      ORCHESTRATOR_JWKS_URL: settings.jwksUrl,
      ORCHESTRATOR_JWT_ALGORITHMS: settings.jwtAlgorithms?.join(','),
      ORCHESTRATOR_JWT_ISSUER: settings.jwtIssuer,
      ORCHESTRATOR_JWT_AUDIENCE: settings.jwtAudience,
    };

    this.function = new ApiFunction(this, 'Authorizer', {
      entry: AUTHORIZER_ENTRY,
      description: 'API Gateway REQUEST authorizer: verifies bearer tokens, API keys and the peer token',
      environment: {
        ...props.environment,
        ...routeSecurityEnvironment(settings),
        API_KEYS_TABLE_NAME: props.apiKeysTable.tableName,
        AUDIT_TABLE_NAME: props.auditTable.tableName,
        // Only what is set: an empty variable would fail the function's configuration check at init.
        ...definedOnly({ ...verification, ...secrets }),
      },
    });
    const grantee = this.function.lambda;
    Grant.addToPrincipal({ grantee, actions: [...AUTHORIZER_KEY_ACTIONS], resourceArns: [props.apiKeysTable.tableArn] });
    Grant.addToPrincipal({ grantee, actions: [...AUTHORIZER_AUDIT_ACTIONS], resourceArns: [props.auditTable.tableArn] });
    this.secretArns = Object.values(secrets).filter((arn): arn is string => arn !== undefined);
    // GetSecretValue only (not grantRead's DescribeSecret too), on exactly these secrets. Secrets encrypted
    // with the default aws/secretsmanager key need no KMS grant; a customer-managed key would (README).
    if (this.secretArns.length > 0) Grant.addToPrincipal({ grantee, actions: ['secretsmanager:GetSecretValue'], resourceArns: [...this.secretArns] });

    this.authorizer = new RequestAuthorizer(this, 'RequestAuthorizer', {
      handler: this.function.lambda,
      // No identity sources and no API Gateway cache: see the class comment.
      identitySources: [],
      resultsCacheTtl: Duration.seconds(0),
    });
    // CDK writes the empty list as IdentitySource: "" — leave the property out, as the API documents for a
    // REQUEST authorizer without caching.
    const cfnAuthorizer = this.authorizer.node.defaultChild;
    if (!(cfnAuthorizer instanceof CfnAuthorizer)) throw new Error(`${this.authorizer.node.path} has no AWS::ApiGateway::Authorizer`);
    cfnAuthorizer.identitySource = undefined;
  }

  /** The AWS::ApiGateway::Authorizer, for the deployment's snapshot hash. */
  get cfnAuthorizer(): CfnAuthorizer {
    return this.authorizer.node.defaultChild as CfnAuthorizer;
  }
}

function definedOnly(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''));
}
