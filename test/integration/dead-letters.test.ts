import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { retryRecordKey, DynamoRetryLedger } from '../../adapters/aws/dynamo/dynamo-retry-ledger.ts';
import { EVENT_TABLE } from '../../adapters/aws/dynamo/event-table.ts';
import { createSqsClient, SqsDeadLetterQueue } from '../../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import type { RetryRun } from '../../core/dead-letters/retry.ts';
import type { DeadLetterService } from '../../core/dead-letters/service.ts';
import { ConflictError } from '../../core/errors.ts';
import { toAuthorizerContext } from '../../functions/auth/principal-context.ts';
import { createDeadLetterHandlers } from '../../functions/http/dlq-handlers.ts';
import { routes } from '../../functions/routes.ts';
import { createLocalDeadLetters } from '../../local/dead-letters.ts';
import { ensureQueue } from '../../local/fauxqs.ts';
import { freshTable } from '../support/dynamo.ts';
import { MemoryAuditTrail } from '../support/security.ts';

/**
 * The dead-letter adapters against the emulators: the SQS inspector on fauxqs, the retry ledger on dynalite,
 * composed as the local runtime composes them (local/dead-letters.ts), with a run retry that records its calls.
 */

let sqs: SQSClient;
let documentClient: DynamoDBDocumentClient;
let eventsTableName: string;

beforeAll(async () => {
  sqs = createSqsClient({ endpoint: inject('fauxqsEndpoint'), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  ({ client: documentClient, tableName: eventsTableName } = await freshTable(EVENT_TABLE, 'events'));
});

const failedAction = (executionId: string, actionId: string, workflowId: string, error: string | null) => ({
  kind: 'action_failed',
  action_id: actionId,
  execution_id: executionId,
  workflow_id: workflowId,
  workflow_version: 1,
  service: 'payments',
  endpoint: '/charge',
  method: 'POST',
  error,
  cause: '{"status":503}',
});

interface Fixture {
  readonly queueUrl: string;
  readonly service: DeadLetterService;
  /** The runs retried, in order; a run retried while not failed is refused, as ExecutionService does. */
  readonly retried: string[];
  readonly failed: Set<string>;
  /** What the queue looked like (visible, in flight) when each retry ran. */
  readonly countsAtRetry: Array<{ visible: number; inFlight: number }>;
}

/** `waitSeconds`: the inspector's long polling, as in AWS (1 s); the local runtime's short polls otherwise. */
async function fixture(options: { retryRun?: RetryRun; waitSeconds?: number } = {}): Promise<Fixture> {
  const queueUrl = await ensureQueue(sqs, `dlq-${randomUUID()}`);
  const retried: string[] = [];
  const failed = new Set<string>();
  const countsAtRetry: Array<{ visible: number; inFlight: number }> = [];
  const retryRun: RetryRun =
    options.retryRun ??
    (async (executionId) => {
      countsAtRetry.push(await countsOf(queueUrl));
      if (!failed.has(executionId)) throw new ConflictError(`execution ${executionId} is running; only failed runs can be retried`);
      failed.delete(executionId);
      retried.push(executionId);
      return { execution: { execution_id: executionId, status: 'running', tenant: 'default' } };
    });
  let id = 0;
  const service = createLocalDeadLetters({
    sqsClient: sqs,
    documentClient,
    eventsTableName,
    queues: { actions: queueUrl },
    retryRun,
    runTenant: async () => 'default',
    clock: { now: () => new Date().toISOString() },
    ids: { next: () => `claim-${randomUUID()}-${++id}` },
    ...(options.waitSeconds === undefined ? {} : { inspector: { waitSeconds: options.waitSeconds } }),
  });
  return { queueUrl, service, retried, failed, countsAtRetry };
}

async function countsOf(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return { visible: Number(Attributes?.ApproximateNumberOfMessages), inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible) };
}

/** Receives (and so hides for a minute) every visible message, without waiting: what a consumer gets right now. */
async function receiveNow(queueUrl: string): Promise<Array<{ id: string; receiveCount: number }>> {
  const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
  return (Messages ?? []).map((message) => ({ id: message.MessageId!, receiveCount: Number(message.Attributes?.ApproximateReceiveCount) }));
}

async function ledgerItem(messageId: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await documentClient.send(new GetCommand({ TableName: eventsTableName, Key: retryRecordKey('actions', messageId), ConsistentRead: true }));
  return Item;
}

describe('dead-letter stats and messages on the SQS emulator', () => {
  it('count by workflow, action and error type, and every message is receivable at once afterwards', async () => {
    const { queueUrl, service } = await fixture({ waitSeconds: 1 });
    const sender = new SqsDeadLetterQueue(sqs, queueUrl);
    await sender.send(failedAction('run-1', 'charge', 'orders', 'ServiceUnavailableError'));
    await sender.send(failedAction('run-2', 'charge', 'orders', 'ServiceUnavailableError'));
    await sender.send(failedAction('run-3', 'ship', 'orders', 'States.Timeout'));
    await sender.send(failedAction('run-4', 'refund', 'billing', null));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'not json', MessageAttributes: { ERROR_CODE: { DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' } } }));

    const { queues } = await service.stats();
    expect(queues).toHaveLength(1);
    const stats = queues[0]!;
    expect(stats).toMatchObject({ queue: 'actions', visible: 5, in_flight: 0, sampled: 5, breakdown_complete: true });
    expect(stats.oldest_message_age_seconds).toBeGreaterThanOrEqual(0);
    expect(stats.oldest_message_age_seconds).toBeLessThan(60);
    expect(stats.by_kind).toEqual([
      { kind: 'action_failed', count: 4 },
      { kind: 'unknown', count: 1 },
    ]);
    expect(stats.by_workflow).toEqual([
      { workflow_id: 'orders', count: 3 },
      { workflow_id: 'billing', count: 1 },
    ]);
    expect(stats.by_action).toEqual([
      { workflow_id: 'orders', action_id: 'charge', count: 2 },
      { workflow_id: 'billing', action_id: 'refund', count: 1 },
      { workflow_id: 'orders', action_id: 'ship', count: 1 },
    ]);
    // The message attribute (EventBridge's ERROR_CODE) names the error of a message the body does not explain.
    expect(stats.by_error_type).toEqual([
      { error_type: 'ServiceUnavailableError', count: 2 },
      { error_type: 'SDK_CLIENT_ERROR', count: 1 },
      { error_type: 'States.Timeout', count: 1 },
      { error_type: 'unknown', count: 1 },
    ]);

    // Nothing lost, nothing delayed: every message is visible and a consumer gets them all right away.
    expect(await countsOf(queueUrl)).toEqual({ visible: 5, inFlight: 0 });
    const received = await receiveNow(queueUrl);
    expect(received).toHaveLength(5);
    // The peek was a receive: each count went up by one (these queues have no redrive policy to trip).
    expect(received.every((message) => message.receiveCount === 2)).toBe(true);
  });

  it('shows messages with what failed and why, reading more than one receive of 10, and gives them back', async () => {
    const { queueUrl, service } = await fixture({ waitSeconds: 1 });
    const sender = new SqsDeadLetterQueue(sqs, queueUrl);
    for (let index = 0; index < 13; index += 1) await sender.send(failedAction(`run-${index}`, 'charge', 'orders', 'ServiceUnavailableError'));

    const page = await service.messages('actions', 12);
    expect(page.messages).toHaveLength(12);
    expect(new Set(page.messages.map((message) => message.message_id)).size).toBe(12);
    expect(page.messages[0]).toMatchObject({ queue: 'actions', kind: 'action_failed', workflow_id: 'orders', action_id: 'charge', error_type: 'ServiceUnavailableError', receive_count: 1 });
    expect(page.messages[0]!.sent_at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(await countsOf(queueUrl)).toEqual({ visible: 13, inFlight: 0 });
  });
});

describe('dead-letter retry on the SQS emulator and the ledger on DynamoDB', () => {
  it('deletes a message only once its retry was accepted', async () => {
    const { queueUrl, service, retried, failed, countsAtRetry } = await fixture();
    failed.add('run-1');
    const messageId = await new SqsDeadLetterQueue(sqs, queueUrl).send(failedAction('run-1', 'charge', 'orders', 'ServiceUnavailableError'));

    const report = await service.retry('actions', { messageIds: [messageId] }, { actor: 'alice', scope: {} });
    expect(report.results).toEqual([expect.objectContaining({ message_id: messageId, outcome: 'retried', execution_id: 'run-1', execution_status: 'running' })]);
    expect(retried).toEqual(['run-1']);
    // While the run was being retried its message was still there, held out of sight.
    expect(countsAtRetry).toEqual([{ visible: 0, inFlight: 1 }]);
    expect(await countsOf(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await ledgerItem(messageId)).toMatchObject({ state: 'done', by: 'alice', message_id: messageId });
  });

  it('has one effect when the same message is retried twice, one after the other or at once', async () => {
    const { queueUrl, service, retried, failed } = await fixture();
    failed.add('run-1');
    failed.add('run-2');
    const sender = new SqsDeadLetterQueue(sqs, queueUrl);
    const first = await sender.send(failedAction('run-1', 'charge', 'orders', 'ServiceUnavailableError'));
    const second = await sender.send(failedAction('run-2', 'charge', 'orders', 'ServiceUnavailableError'));

    await service.retry('actions', { messageIds: [first] }, { actor: 'alice', scope: {} });
    const again = await service.retry('actions', { messageIds: [first] }, { actor: 'alice', scope: {} });
    expect(again.results).toEqual([expect.objectContaining({ message_id: first, outcome: 'already_retried' })]);

    const both = await Promise.all([0, 1].map(() => service.retry('actions', { messageIds: [second] }, { actor: 'bob', scope: {} })));
    const outcomes = both.map((report) => report.results[0]!.outcome).sort();
    expect(outcomes).toContain('retried');
    expect(outcomes.filter((outcome) => outcome === 'retried')).toHaveLength(1);
    expect(retried).toEqual(['run-1', 'run-2']);
    expect(await countsOf(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('deletes, without retrying again, a message whose retry was accepted but whose delete was lost', async () => {
    const { queueUrl, service, retried, failed } = await fixture();
    failed.add('run-1');
    const messageId = await new SqsDeadLetterQueue(sqs, queueUrl).send(failedAction('run-1', 'charge', 'orders', 'ServiceUnavailableError'));
    // What a retry that crashed between settling its claim and deleting the message leaves behind.
    const ledger = new DynamoRetryLedger(documentClient, eventsTableName);
    const now = new Date().toISOString();
    await ledger.claim({ queue: 'actions', messageId, claimId: 'earlier', by: 'carol', at: now, leaseUntil: new Date(Date.now() + 300_000).toISOString() });
    await ledger.settle({ queue: 'actions', messageId, claimId: 'earlier', state: 'done', at: now });

    const report = await service.retry('actions', { executionId: 'run-1' }, { actor: 'alice', scope: {} });
    expect(report.results).toEqual([expect.objectContaining({ message_id: messageId, outcome: 'already_retried', reason: expect.stringContaining('carol') })]);
    expect(retried).toEqual([]);
    expect(await countsOf(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('leaves a refused retry\'s message in the queue, receivable at once, and its claim released', async () => {
    const { queueUrl, service, retried } = await fixture();
    // run-1 is not failed (it was retried by hand meanwhile): the retry is refused.
    const messageId = await new SqsDeadLetterQueue(sqs, queueUrl).send(failedAction('run-1', 'charge', 'orders', 'ServiceUnavailableError'));

    const report = await service.retry('actions', { all: true, max: 10 }, { actor: 'alice', scope: {} });
    expect(report.results).toEqual([expect.objectContaining({ message_id: messageId, outcome: 'refused', reason: expect.stringContaining('is running') })]);
    expect(retried).toEqual([]);
    expect(await ledgerItem(messageId)).toMatchObject({ state: 'failed' });
    expect((await receiveNow(queueUrl)).map((message) => message.id)).toEqual([messageId]);
  });
});

describe('the retry ledger on DynamoDB', () => {
  const at = (seconds: number) => new Date(Date.parse('2026-03-01T12:00:00.000Z') + seconds * 1000).toISOString();

  it('claims a message once, until the claim fails or its lease ends; only the claimer settles it', async () => {
    const ledger = new DynamoRetryLedger(documentClient, eventsTableName);
    const messageId = randomUUID();
    const claim = (claimId: string, seconds: number) => ledger.claim({ queue: 'actions', messageId, claimId, by: 'alice', at: at(seconds), leaseUntil: at(seconds + 300) });

    expect(await claim('c1', 0)).toEqual({ claimed: true });
    expect(await claim('c2', 10)).toEqual({ claimed: false, record: expect.objectContaining({ state: 'claimed', claim_id: 'c1' }) });
    expect(await ledger.settle({ queue: 'actions', messageId, claimId: 'c2', state: 'done', at: at(20) })).toBe(false);
    expect(await ledger.settle({ queue: 'actions', messageId, claimId: 'c1', state: 'failed', at: at(20), reason: 'refused' })).toBe(true);
    expect(await ledger.get('actions', messageId)).toMatchObject({ state: 'failed', reason: 'refused' });

    expect(await claim('c3', 30)).toEqual({ claimed: true });
    // c3 crashed: past its lease, another retry may take over, and c3 can no longer settle.
    expect(await claim('c4', 400)).toEqual({ claimed: true });
    expect(await ledger.settle({ queue: 'actions', messageId, claimId: 'c3', state: 'done', at: at(401) })).toBe(false);
    expect(await ledger.settle({ queue: 'actions', messageId, claimId: 'c4', state: 'done', at: at(401) })).toBe(true);
    expect(await claim('c5', 10_000)).toEqual({ claimed: false, record: expect.objectContaining({ state: 'done', claim_id: 'c4' }) });
  });

  it('keeps its records out of the event indexes, expiring 14 days after the claim', async () => {
    const ledger = new DynamoRetryLedger(documentClient, eventsTableName);
    const messageId = randomUUID();
    await ledger.claim({ queue: 'actions', messageId, claimId: 'c1', by: 'alice', at: at(0), leaseUntil: at(300) });
    const item = (await ledgerItem(messageId))!;
    expect(item['pk']).toBe(`DLQRETRY#actions#${messageId}`);
    expect(Object.keys(item).filter((name) => name.startsWith('gsi_'))).toEqual([]);
    expect(item['expires_at_epoch']).toBe(Date.parse(at(0)) / 1000 + 14 * 86_400);
  });
});

describe('the dead-letter routes', () => {
  const admin = toAuthorizerContext({ subject: 'admin', roles: ['admin'], tenant: 'default', method: 'api_key' });
  const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;
  const eventOf = (route: { method: string; path: string }, query: Record<string, string> | null, body?: unknown): APIGatewayProxyEvent =>
    ({
      resource: route.path,
      path: route.path,
      httpMethod: route.method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      multiValueHeaders: {},
      queryStringParameters: query,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      stageVariables: null,
      body: body === undefined ? null : JSON.stringify(body),
      isBase64Encoded: false,
      requestContext: { requestId: 'req-1', authorizer: { ...admin }, identity: { sourceIp: '127.0.0.1' } },
    }) as unknown as APIGatewayProxyEvent;

  it('refuse a queue this runtime does not have, and a retry naming two selectors, with 400s that say which rule', async () => {
    const { service } = await fixture();
    const security = { audit: new MemoryAuditTrail(), authMode: 'required' as const, clock: { now: () => new Date().toISOString() }, ids: { next: () => randomUUID() }, log: () => undefined };
    const handlers = createDeadLetterHandlers({ security, deadLetters: service });

    const missing = await handlers.listDeadLetters(eventOf(routes.listDeadLetters, { queue: 'deployments' }), context);
    expect(missing.statusCode).toBe(400);
    expect(JSON.parse(missing.body).details).toEqual([{ field: 'queue', message: "must be one of the queues this runtime has: actions (got 'deployments')" }]);

    const two = await handlers.retryDeadLetters(eventOf(routes.retryDeadLetters, null, { queue: 'actions', all: true, execution_id: 'run-1' }), context);
    expect(two.statusCode).toBe(400);
    expect(JSON.parse(two.body).details).toEqual([{ field: 'all', message: 'give exactly one of message_ids, execution_id or all (got execution_id, all)' }]);

    const ok = await handlers.listDeadLetters(eventOf(routes.listDeadLetters, { queue: 'actions', limit: '5' }), context);
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body).data).toMatchObject({ queue: 'actions', messages: [], count: 0 });
  });
});
