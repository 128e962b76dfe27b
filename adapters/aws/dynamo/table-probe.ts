import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DependencyProbe } from '../../../core/ports.ts';
import { timedCheck } from '../dependency-check.ts';
import type { TableDesign } from './workflow-table.ts';

/**
 * A table's reachability: one GetItem of a key no item has (half a read capacity unit). Not DescribeTable
 * (a control-plane call with its own low rate limit and a right the functions do not get) and never Scan.
 */
export function dynamoTableProbe(client: DynamoDBDocumentClient, tableName: string, design: Pick<TableDesign, 'partitionKey' | 'sortKey'>, name: string): DependencyProbe {
  const key = { [design.partitionKey]: 'HEALTH', [design.sortKey]: 'PROBE' };
  return {
    name,
    kind: 'table',
    check: (timeoutMs) => timedCheck(timeoutMs, (abortSignal) => client.send(new GetCommand({ TableName: tableName, Key: key }), { abortSignal })),
  };
}
