import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';

export interface RunningFauxqs {
  /** One endpoint for SQS and S3 (S3 clients need path-style URLs). */
  readonly endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts the fauxqs SQS and S3 emulator on a free port: in memory, or under `dataDir` so queues, messages and
 * objects survive restarts (SQLite for SQS in `dataDir`, S3 objects as plain files in `dataDir/s3`: payloads
 * run to megabytes, which would bloat the database). It listens on every interface (fauxqs 2 cannot be told
 * otherwise), so on a shared network its data is as reachable as its port.
 */
export async function startFauxqsEmulator(options: { dataDir?: string } = {}): Promise<RunningFauxqs> {
  const s3StorageDir = options.dataDir ? join(options.dataDir, 's3') : undefined;
  if (s3StorageDir) await mkdir(s3StorageDir, { recursive: true });
  const server = await startFauxqs({ port: 0, logger: false, ...(options.dataDir ? { dataDir: options.dataDir, s3StorageDir } : {}) });
  const port = new URL(server.address).port;
  return { endpoint: `http://127.0.0.1:${port}`, close: () => server.stop() };
}

/**
 * fauxqs 2.4.1 with a data directory loses a message whose visibility is changed (ChangeMessageVisibility
 * answers MessageNotInflight and the message is gone; in memory it behaves as SQS does). What reads the
 * dead-letter queues must then not change visibility (adapters/aws/sqs/sqs-dead-letter-inspector.ts).
 */
export const PERSISTED_FAUXQS_CHANGES_VISIBILITY = false;

/** Creates the queue unless it exists (CreateQueue with the same attributes is idempotent) and returns its URL. */
export async function ensureQueue(client: SQSClient, name: string, servedAt?: string): Promise<string> {
  const created = await client.send(new CreateQueueCommand({ QueueName: name }));
  if (!created.QueueUrl) throw new Error(`CreateQueue ${name} returned no URL`);
  return servedAt === undefined ? created.QueueUrl : onCurrentPort(created.QueueUrl, servedAt);
}

/**
 * The embedded emulator keeps the URL a queue was created with, port included, across restarts, and its port
 * changes with every start: the URL shown (and sent to) names the port it listens on now.
 */
export function onCurrentPort(queueUrl: string, endpoint: string): string {
  const url = new URL(queueUrl);
  url.port = new URL(endpoint).port;
  return url.toString();
}

/** Creates the bucket unless this account already has it. */
export async function ensureBucket(client: S3Client, name: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } catch (error) {
    if (error instanceof Error && error.name === 'BucketAlreadyOwnedByYou') return;
    throw error;
  }
}

/**
 * A name valid for both an S3 bucket (3-63 lower-case letters, digits, hyphens) and an SQS queue, derived
 * from a table name (which may hold upper case, `_` and `.`), ending in `suffix`.
 */
export function resourceNameFor(tableName: string, suffix: string): string {
  const base = tableName.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return `${base.slice(0, 63 - suffix.length - 1).replace(/-$/, '') || 'orchestrator'}-${suffix}`;
}
