import { CfnOutput, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { EXECUTION_TABLE } from '../../adapters/aws/dynamo/execution-table.ts';
import { REGISTRY_TABLE } from '../../adapters/aws/dynamo/registry-table.ts';
import { API_KEY_TABLE, AUDIT_TABLE } from '../../adapters/aws/dynamo/security-tables.ts';
import { EVENT_TABLE } from '../../adapters/aws/dynamo/event-table.ts';
import { SUBSCRIPTION_TABLE } from '../../adapters/aws/dynamo/subscription-table.ts';
import { SPAN_TABLE } from '../../adapters/aws/dynamo/span-table.ts';
import { WORKFLOW_TABLE, type TableDesign } from '../../adapters/aws/dynamo/workflow-table.ts';
import { createDesignedTable } from '../constructs/designed-table.ts';

export interface DataStackProps extends StackProps {
  /** Keep tables (deletion protection, RETAIN) when the stack is deleted; false only for throwaway stacks. */
  readonly retainData: boolean;
  /** Secrets Secrets Manager generates for this deployment (`-c jwtSecret=generate`, `-c adminApiKey=generate`). */
  readonly generateSecrets?: {
    /** The HS256 key bearer tokens are signed with. */
    readonly jwtSecret?: boolean;
    /** The single admin API key (`X-API-Key`), for bootstrapping: it creates the first managed keys. */
    readonly adminApiKey?: boolean;
  };
}

/**
 * Every table as the API stack takes it, with the index names that reads may target (each is granted by
 * name, never `index/*`): `new ApiStack(app, id, { ...apiTableProps(data), ... })`.
 */
export function apiTableProps(data: DataStack) {
  const indexNames = (design: TableDesign): string[] => design.indexes.map((index) => index.indexName);
  return {
    workflowsTable: data.workflowsTable,
    workflowsTableIndexNames: indexNames(WORKFLOW_TABLE),
    registryTable: data.registryTable,
    registryTableIndexNames: indexNames(REGISTRY_TABLE),
    executionsTable: data.executionsTable,
    executionsTableIndexNames: indexNames(EXECUTION_TABLE),
    apiKeysTable: data.apiKeysTable,
    apiKeysTableIndexNames: indexNames(API_KEY_TABLE),
    auditTable: data.auditTable,
    auditTableIndexNames: indexNames(AUDIT_TABLE),
    eventsTable: data.eventsTable,
    eventsTableIndexNames: indexNames(EVENT_TABLE),
    subscriptionsTable: data.subscriptionsTable,
    subscriptionsTableIndexNames: indexNames(SUBSCRIPTION_TABLE),
    spansTable: data.spansTable,
    spansTableIndexNames: indexNames(SPAN_TABLE),
  };
}

/** Length of generated secrets: 64 letters and digits, about 380 bits (HS256 wants at least 256). */
export const GENERATED_SECRET_LENGTH = 64;

/**
 * Stateful resources only. They live apart from the API so that the API stack can be destroyed, renamed or
 * split again without ever putting a table at risk. Generated secrets are state too: tokens signed with the
 * JWT key, and scripts holding the admin key, must survive a redeployment of the API.
 */
export class DataStack extends Stack {
  readonly workflowsTable: Table;
  readonly registryTable: Table;
  readonly executionsTable: Table;
  /** Managed API keys (hashes only); the authorizer reads them, the key routes manage them. */
  readonly apiKeysTable: Table;
  /** The audit trail: every route appends to it, only GET /audit reads it. */
  readonly auditTable: Table;
  /** The event history (TTL: ORCHESTRATOR_EVENT_RETENTION_DAYS); the recorder writes it, the event routes read it. */
  readonly eventsTable: Table;
  /** Webhook subscriptions (with their signing secrets); the subscription routes and the delivery worker use it. */
  readonly subscriptionsTable: Table;
  /**
   * Recorded spans (issue 13; TTL: ORCHESTRATOR_SPAN_RETENTION_DAYS): every route function, the action runner
   * and the status listener write them, the tracing routes read them.
   */
  readonly spansTable: Table;
  readonly jwtSecret?: Secret;
  readonly adminApiKeySecret?: Secret;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    this.workflowsTable = createDesignedTable(this, WORKFLOW_TABLE, { retainData: props.retainData });
    this.registryTable = createDesignedTable(this, REGISTRY_TABLE, { retainData: props.retainData });
    this.executionsTable = createDesignedTable(this, EXECUTION_TABLE, { retainData: props.retainData });
    this.apiKeysTable = createDesignedTable(this, API_KEY_TABLE, { retainData: props.retainData });
    this.auditTable = createDesignedTable(this, AUDIT_TABLE, { retainData: props.retainData });
    this.eventsTable = createDesignedTable(this, EVENT_TABLE, { retainData: props.retainData });
    this.subscriptionsTable = createDesignedTable(this, SUBSCRIPTION_TABLE, { retainData: props.retainData });
    this.spansTable = createDesignedTable(this, SPAN_TABLE, { retainData: props.retainData });

    if (props.generateSecrets?.jwtSecret) {
      this.jwtSecret = this.generatedSecret('JwtSecret', 'HS256 key that bearer tokens of this orchestrator are signed with', props.retainData);
    }
    if (props.generateSecrets?.adminApiKey) {
      this.adminApiKeySecret = this.generatedSecret('AdminApiKeySecret', 'The admin API key of this orchestrator (X-API-Key): use it to create managed keys', props.retainData);
    }
  }

  /** A random secret, its ARN as a stack output (read the value with `aws secretsmanager get-secret-value`). */
  private generatedSecret(id: string, description: string, retainData: boolean): Secret {
    const secret = new Secret(this, id, {
      description,
      // Letters and digits only: the value goes into shells, headers and `jose` as it is.
      generateSecretString: { passwordLength: GENERATED_SECRET_LENGTH, excludePunctuation: true, includeSpace: false },
      removalPolicy: retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating it would invalidate every token signed with it (or every script holding the key) at once, and the authorizer accepts one value; rotate by hand (put-secret-value, then redeploy or wait for new authorizer instances), see README.',
    });
    new CfnOutput(this, `${id}Arn`, {
      value: secret.secretArn,
      description: `${description}. Read it with: aws secretsmanager get-secret-value --query SecretString --output text --secret-id <this ARN>`,
    });
    return secret;
  }
}
