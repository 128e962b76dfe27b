import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { ParkedCallStore } from '../../../core/execution/held-calls.ts';
import { EXECUTION_STATUSES, type ExecutionStatus } from '../../../core/execution/model.ts';
import { dynamoCall, isConditionFailure, queryItems } from './operations.ts';
import { translateDynamoError } from './errors.ts';
import { executionKey } from './execution-table.ts';
import { parseItem } from './items.ts';

/**
 * Parked calls of paused runs on the executions table (core/execution/held-calls.ts): one item per call in
 * its run's item collection, `pk EX#<id>`, `sk PARK#<action_id>[#<index>]`, holding the task token. No index
 * has keys for them, so listings never see them; the run's own item is never touched.
 */
const PARK_PREFIX = 'PARK#';
const ParkedItemSchema = z.object({ sk: z.string().startsWith(PARK_PREFIX), task_token: z.string().min(1) });
const StatusSchema = z.object({ status: z.enum(EXECUTION_STATUSES) });

export class DynamoParkedCallStore implements ParkedCallStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.client = client;
    this.tableName = tableName;
  }

  async runStatus(executionId: string): Promise<ExecutionStatus | undefined> {
    const { Item } = await dynamoCall(
      () =>
        this.client.send(
          new GetCommand({
            TableName: this.tableName,
            Key: executionKey(executionId),
            // Only the status: the run's item is all it needs (runs written before issue 15 hold every action's progress in it).
            ProjectionExpression: '#status',
            ExpressionAttributeNames: { '#status': 'status' },
            ConsistentRead: true,
          }),
        ),
      '',
    );
    return Item ? parseItem(StatusSchema, Item, 'execution status').status : undefined;
  }

  async park(executionId: string, callKey: string, taskToken: string): Promise<void> {
    await dynamoCall(() => this.client.send(new PutCommand({ TableName: this.tableName, Item: { pk: pk(executionId), sk: `${PARK_PREFIX}${callKey}`, task_token: taskToken } })), '');
  }

  async parkedCalls(executionId: string): Promise<string[]> {
    const keys: string[] = [];
    const items = queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': pk(executionId), ':prefix': PARK_PREFIX },
      ConsistentRead: true,
    });
    for await (const item of items) keys.push(parseItem(ParkedItemSchema, item, 'parked call').sk.slice(PARK_PREFIX.length));
    return keys;
  }

  async claim(executionId: string, callKey: string): Promise<string | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pk: pk(executionId), sk: `${PARK_PREFIX}${callKey}` },
          // Only one claimer gets the token: the delete that finds the item.
          ConditionExpression: 'attribute_exists(pk)',
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes ? parseItem(ParkedItemSchema, Attributes, 'parked call').task_token : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw translateDynamoError(error, '');
    }
  }
}

const pk = (executionId: string) => executionKey(executionId).pk;
