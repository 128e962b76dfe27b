import { BatchGetCommand, DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { indexedWords } from '../../../core/workflow/search.ts';
import type { WorkflowSummary } from '../../../core/workflow/model.ts';
import { conditionalWrite, dynamoCall, queryItems, writeBatch, WRITE_BATCH_SIZE, type WriteRequest } from './operations.ts';
import { WorkflowIndex } from './workflow-table.ts';
import { parseItem } from './items.ts';
import { WordItemSchema } from './workflow-items.ts';

/** DynamoDB's BatchGetItem limit. */
const READ_BATCH = 100;
const WORD_PREFIX = 'W#';

type Item = Record<string, unknown>;
type Indexed = Pick<WorkflowSummary, 'workflow_id' | 'tenant' | 'revision' | 'name' | 'tags' | 'description'>;

/**
 * The search index of the workflows table: one item per indexed word of a workflow, in the workflow's own
 * item collection (`sk = W#<word>`), indexed by `word-prefix` (see workflow-table.ts).
 *
 * Without transactions, the order of writes keeps it complete (ADR 0001, 0011): words a change adds are
 * written before the workflow, words it removes are deleted after, and only if no later change wrote them
 * again (each word item carries the revision that wrote it). A crash leaves extra words only, and search
 * checks every candidate against the workflow itself.
 */
export class DynamoWordIndex {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(client: DynamoDBDocumentClient, tableName: string) {
    this.client = client;
    this.tableName = tableName;
  }

  /** Words `next` has that `previous` (if any) had not: written before the workflow is. */
  async addWords(next: Indexed, previous?: Indexed): Promise<void> {
    const before = new Set(previous ? indexedWords(previous) : []);
    const added = indexedWords(next).filter((word) => !before.has(word));
    await this.batchWrite(added.map((word) => ({ PutRequest: { Item: wordItem(next, word) } })));
  }

  /** Words `previous` had that `next` has not: deleted after the workflow is written, unless written again since. */
  async removeWords(next: Indexed, previous: Indexed): Promise<void> {
    const after = new Set(indexedWords(next));
    const removed = indexedWords(previous).filter((word) => !after.has(word));
    await Promise.all(
      removed.map((word) =>
        conditionalWrite(() =>
          this.client.send(
            new DeleteCommand({
              TableName: this.tableName,
              Key: { pk: collectionKey(next.workflow_id), sk: `${WORD_PREFIX}${word}` },
              ConditionExpression: 'revision < :revision',
              ExpressionAttributeValues: { ':revision': next.revision },
            }),
          ),
        ),
      ),
    );
  }

  /** Every word item of a deleted workflow (after its HEAD is gone, so search no longer finds it anyway). */
  async removeAll(workflowId: string): Promise<void> {
    const keys: Item[] = [];
    for await (const key of queryItems(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :words)',
      ExpressionAttributeValues: { ':pk': collectionKey(workflowId), ':words': WORD_PREFIX },
      ProjectionExpression: 'pk, sk',
    })) {
      keys.push(key);
    }
    await this.batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } })));
  }

  /**
   * The ids of workflows having a word that starts with `word` (of one tenant, or any), each once: one
   * `begins_with` Query of the word's partition, whose cost follows the matching words.
   */
  async candidates(word: string, tenant: string | undefined): Promise<string[]> {
    const index = WorkflowIndex.byWord;
    const ids = new Set<string>();
    for await (const item of queryItems(this.client, {
      TableName: this.tableName,
      IndexName: index.indexName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :word)',
      ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey, ...(tenant === undefined ? {} : { '#tenant': 'tenant' }) },
      ExpressionAttributeValues: { ':pk': wordPartition(word), ':word': word, ...(tenant === undefined ? {} : { ':tenant': tenant }) },
      ...(tenant === undefined ? {} : { FilterExpression: '#tenant = :tenant' }),
    })) {
      ids.add(parseItem(WordItemSchema, item, 'search word').workflow_id);
    }
    return [...ids];
  }

  /** HEAD items of `ids` with `attributes` only, in batches; ids without a HEAD (deleted since) are skipped. */
  async *heads(ids: readonly string[], attributes: readonly string[], head: string): AsyncIterable<Item> {
    const names = Object.fromEntries(attributes.map((attribute, position) => [`#a${position}`, attribute]));
    for (let start = 0; start < ids.length; start += READ_BATCH) {
      let keys: Item[] = ids.slice(start, start + READ_BATCH).map((id) => ({ pk: collectionKey(id), sk: head }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > 0) await pause(attempt);
        const pending = keys;
        const { Responses, UnprocessedKeys } = await dynamoCall(
          () =>
            this.client.send(
              new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names } } }),
            ),
          '',
        );
        yield* Responses?.[this.tableName] ?? [];
        keys = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        if (attempt > 8 && keys.length > 0) throw new Error(`could not read ${keys.length} workflows after ${attempt} attempts`);
      }
    }
  }

  private async batchWrite(requests: readonly WriteRequest[]): Promise<void> {
    for (let start = 0; start < requests.length; start += WRITE_BATCH_SIZE) {
      await writeBatch(this.client, this.tableName, requests.slice(start, start + WRITE_BATCH_SIZE), 'search index items');
    }
  }
}

const collectionKey = (workflowId: string) => `WF#${workflowId}`;

/** Partitioned by the word's first character, so every prefix of a word is in one partition. */
const wordPartition = (word: string) => `${WORD_PREFIX}${Array.from(word)[0] ?? ''}`;

function wordItem(workflow: Indexed, word: string): Item {
  const index = WorkflowIndex.byWord;
  return {
    pk: collectionKey(workflow.workflow_id),
    sk: `${WORD_PREFIX}${word}`,
    workflow_id: workflow.workflow_id,
    tenant: workflow.tenant,
    revision: workflow.revision,
    [index.partitionKey]: wordPartition(word),
    [index.sortKey]: `${word}#${workflow.workflow_id}`,
  };
}

function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** attempt)));
}
