import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { projectionOf, type TableDesign } from '../../adapters/aws/dynamo/workflow-table.ts';

export interface DesignedTableOptions {
  /**
   * Keep the table (and refuse to delete it) when the stack goes away. True for anything holding real
   * data; false only for throwaway stacks (`-c retainData=false`).
   */
  readonly retainData: boolean;
}

/**
 * A DynamoDB table built from its plain-data design, the same object the local runtime creates its
 * emulator tables from, so the deployed keys and indexes can never drift from what the code queries.
 *
 * Every key attribute in a design is a string (the designs only use composite string keys).
 */
export function createDesignedTable(scope: Construct, design: TableDesign, options: DesignedTableOptions): Table {
  const table = new Table(scope, design.id, {
    partitionKey: { name: design.partitionKey, type: AttributeType.STRING },
    sortKey: { name: design.sortKey, type: AttributeType.STRING },
    // Traffic is bursty and small (an API and workflow runs); on-demand has no capacity to tune or to
    // throttle at, and costs nothing while idle.
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    // AWS-managed key (aws/dynamodb) rather than the default AWS-owned key: every use of the key shows up in
    // CloudTrail, at no cost and with nothing to manage. A customer-managed key would add a key policy to
    // maintain, a monthly fee and KMS calls on every request, and every grant would also need kms:Decrypt;
    // it buys control over rotation and revocation that nothing here needs yet. Switching later is an
    // online table update.
    encryption: TableEncryption.AWS_MANAGED,
    ...(design.timeToLiveAttribute ? { timeToLiveAttribute: design.timeToLiveAttribute } : {}),
    deletionProtection: options.retainData,
    removalPolicy: options.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });

  for (const index of design.indexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
      sortKey: { name: index.sortKey, type: AttributeType.STRING },
      // INCLUDE, not ALL: listings need a summary, never the (possibly 300 KB) definition.
      projectionType: ProjectionType.INCLUDE,
      nonKeyAttributes: [...projectionOf(design, index)],
    });
  }
  return table;
}
