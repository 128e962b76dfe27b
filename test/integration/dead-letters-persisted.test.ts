import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqsDeadLetterInspector } from '../../adapters/aws/sqs/sqs-dead-letter-inspector.ts';
import { createSqsClient } from '../../adapters/aws/sqs/sqs-dead-letter-queue.ts';
import { ensureQueue, PERSISTED_FAUXQS_CHANGES_VISIBILITY, startFauxqsEmulator, type RunningFauxqs } from '../../local/fauxqs.ts';

/**
 * The dead-letter inspector on the local runtime's persisted emulator (fauxqs with a data directory, as
 * `npm start` runs it), where ChangeMessageVisibility loses the message: reading the queues must lose nothing.
 */
let dataDir: string;
let fauxqs: RunningFauxqs;
let sqs: SQSClient;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'dlq-persisted-'));
  fauxqs = await startFauxqsEmulator({ dataDir });
  sqs = createSqsClient({ endpoint: fauxqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(async () => {
  sqs?.destroy();
  await fauxqs?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function queueWith(name: string, bodies: readonly string[]): Promise<string> {
  const url = await ensureQueue(sqs, `${name}-${Date.now()}`, fauxqs.endpoint);
  for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
  return url;
}

describe('dead letters on the persisted emulator', () => {
  it('is why the local runtime reads it without visibility changes: a message whose visibility is changed is lost there', async () => {
    const url = await queueWith('lossy', ['a']);
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 30 }));
    await expect(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: Messages[0]!.ReceiptHandle!, VisibilityTimeout: 0 }))).rejects.toMatchObject({ name: 'MessageNotInflight' });
    // If this starts to pass, fauxqs was fixed: drop the workaround (PERSISTED_FAUXQS_CHANGES_VISIBILITY).
    expect(PERSISTED_FAUXQS_CHANGES_VISIBILITY).toBe(false);
  });

  it('counts and shows messages any number of times without losing or hiding them', async () => {
    const url = await queueWith('peeked', ['{"kind":"action_failed"}', 'two', 'three']);
    const inspector = new SqsDeadLetterInspector(sqs, url, { waitSeconds: 0, changesVisibility: false });
    for (let read = 0; read < 3; read += 1) {
      expect((await inspector.peek(100)).map((message) => message.body).sort()).toEqual(['three', 'two', '{"kind":"action_failed"}'].sort());
    }
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    expect(Messages).toHaveLength(3);
  });

  it('deletes a held message, and gives back the others when their short hold ends', async () => {
    const url = await queueWith('held', ['keep-1', 'retry-me', 'keep-2']);
    const inspector = new SqsDeadLetterInspector(sqs, url, { waitSeconds: 0, changesVisibility: false, fallbackHoldSeconds: 1 });
    const held = await inspector.hold(100, 120);
    expect(held).toHaveLength(3);
    await inspector.release(held.filter((message) => message.body !== 'retry-me').map((message) => message.receiptHandle));
    await inspector.delete(held.find((message) => message.body === 'retry-me')!.receiptHandle);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await inspector.peek(100)).map((message) => message.body).sort()).toEqual(['keep-1', 'keep-2']);
  });
});
