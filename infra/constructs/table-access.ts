import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { TableAccess } from '../../functions/routes.ts';

/**
 * What the DynamoDB adapters call, and nothing else. Narrower than CDK's grantReadData/grantReadWriteData:
 * no Scan (ADR 0001: no request may scan, and in AWS this makes it a hard rule), no DescribeTable, no
 * ConditionCheckItem (transactions are not used), no stream actions. A new call in an adapter needs its
 * action here; the integration tests cannot catch it, since the emulators do not check IAM.
 */
export const TABLE_READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;

export const TABLE_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'] as const;

/** Indexes are read-only and, without Scan, only queried. */
export const INDEX_READ_ACTIONS = ['dynamodb:Query'] as const;

/**
 * Grants a Lambda what its route declares on a table, and nothing more.
 *
 * Unlike `table.grantReadData`, which grants on `<table>/index/*`, indexes are granted one ARN each, from the
 * table design: no wildcard to suppress in cdk-nag, and an index added to the design is granted with it.
 */
export function grantTableAccess(table: ITable, grantee: IGrantable, access: TableAccess, indexNames: readonly string[]): void {
  const tableActions = access === 'write' ? [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS] : [...TABLE_READ_ACTIONS];
  Grant.addToPrincipal({ grantee, actions: tableActions, resourceArns: [table.tableArn] });
  if (indexNames.length > 0) {
    Grant.addToPrincipal({
      grantee,
      actions: [...INDEX_READ_ACTIONS],
      resourceArns: indexNames.map((indexName) => `${table.tableArn}/index/${indexName}`),
    });
  }
}

/**
 * Appending to the audit trail: a record is put before a state-changing request runs and its outcome is set
 * after (functions/middleware/security.ts). No read, no delete: a function that can write the trail cannot
 * read it back or erase it (records go only by TTL).
 */
export const AUDIT_APPEND_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

/** Lets a function append to the audit table (AUDIT_APPEND_ACTIONS on the table only, never its indexes). */
export function grantAuditAppend(auditTable: ITable, grantee: IGrantable): void {
  Grant.addToPrincipal({ grantee, actions: [...AUDIT_APPEND_ACTIONS], resourceArns: [auditTable.tableArn] });
}

/**
 * Recording spans (adapters/aws/dynamo/dynamo-span-store.ts writes them in BatchWriteItem batches; a span
 * written twice overwrites itself, so no condition and no read is needed). No read, update or delete: a
 * function that records its spans cannot read anyone else's (the tracing routes declare `spans: 'read'`).
 */
export const SPAN_RECORD_ACTIONS = ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'] as const;

/** Lets a function record spans (SPAN_RECORD_ACTIONS on the spans table only, never its indexes). */
export function grantSpanRecording(spansTable: ITable, grantee: IGrantable): void {
  Grant.addToPrincipal({ grantee, actions: [...SPAN_RECORD_ACTIONS], resourceArns: [spansTable.tableArn] });
}
