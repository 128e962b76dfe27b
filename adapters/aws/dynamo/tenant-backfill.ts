import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_TENANT } from '../../../core/auth/model.ts';
import { conditionalWrite, dynamoCall } from './operations.ts';

/**
 * Items written before tenants existed have no `tenant` and none of the tenant-scoped index keys, so tenant
 * listings would not find them. This gives them to the `default` tenant, once per table: a marker item
 * records that it is done, so later starts cost one GetItem. Each update is conditional on the item still
 * having no tenant, so running it twice, or beside writers, changes nothing twice.
 */
export async function backfillTenants(client: DynamoDBDocumentClient, tableName: string, kind: 'workflows' | 'executions'): Promise<number> {
  const marker = { pk: 'MIGRATION', sk: 'TENANTS' };
  const { Item } = await dynamoCall(() => client.send(new GetCommand({ TableName: tableName, Key: marker, ConsistentRead: true })), '');
  if (Item) return 0;
  const partition = kind === 'workflows' ? 'WORKFLOW' : 'EXECUTION';
  let updated = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamoCall(
      () =>
        client.send(
          new QueryCommand({
            TableName: tableName,
            IndexName: 'all-by-created',
            KeyConditionExpression: 'gsi_all_pk = :all',
            FilterExpression: 'attribute_not_exists(tenant)',
            ExpressionAttributeValues: { ':all': partition },
            ExclusiveStartKey: startKey,
          }),
        ),
      '',
    );
    for (const item of page.Items ?? []) {
      const tenant = `T#${DEFAULT_TENANT}`;
      const sortKey = String(item.gsi_all_sk);
      const values: Record<string, unknown> = { ':tenant': DEFAULT_TENANT, ':tpk': tenant, ':sk': sortKey };
      let update = 'SET tenant = :tenant, gsi_tenant_pk = :tpk, gsi_tenant_sk = :sk';
      if (kind === 'workflows') {
        update += ', gsi_status_pk = :status, gsi_creator_pk = :creator, gsi_creator_status_pk = :creatorStatus';
        Object.assign(values, {
          ':status': `${tenant}#STATUS#${String(item.status)}`,
          ':creator': `${tenant}#CREATOR#${String(item.created_by)}`,
          ':creatorStatus': `${tenant}#CREATOR#${String(item.created_by)}#STATUS#${String(item.status)}`,
        });
      }
      const applied = await conditionalWrite(() =>
        client.send(new UpdateCommand({ TableName: tableName, Key: { pk: item.pk, sk: item.sk }, UpdateExpression: update, ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(tenant)', ExpressionAttributeValues: values })),
      );
      if (applied) updated++;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  await dynamoCall(() => client.send(new PutCommand({ TableName: tableName, Item: { ...marker, done_at: new Date().toISOString(), updated } })), '');
  return updated;
}
