import { GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { DependencyUnavailableError, NotFoundError, PayloadTooLargeError } from '../../../core/errors.ts';

/**
 * What replaces a value kept outside Step Functions state data: where it is, how big its JSON is, and its
 * start, so that a person reading an execution's history sees what it was without fetching it.
 */
export interface PayloadRef {
  /** `s3://<bucket>/<key>` */
  readonly payload_ref: string;
  /** Bytes of the stored JSON. */
  readonly size_bytes: number;
  /** The start (at most PREVIEW_CHARS characters, fewer when escaped or multi-byte): of the text for a string, of its JSON otherwise. */
  readonly preview: string;
}

export const PREVIEW_CHARS = 256;

/**
 * An S3 client for the payload bucket. Endpoint and credentials come from the standard SDK configuration
 * (AWS_ENDPOINT_URL_S3) unless given here. With an endpoint (an emulator, LocalStack) requests use path-style
 * URLs: virtual-hosted ones need `<bucket>.<host>` to resolve, which a loopback address does not.
 */
export function createS3Client(config: S3ClientConfig = {}): S3Client {
  return new S3Client({ ...(config.endpoint === undefined ? {} : { forcePathStyle: true }), ...config });
}

/**
 * Values too large for state data, stored as JSON objects in one bucket (`S3PayloadStore`). Keys are chosen by
 * the caller; the store only writes, reads and recognises its own references. It never deletes: the bucket's
 * lifecycle rule expires objects (infra/stacks/runtime-stack.ts).
 */
export class S3PayloadStore {
  readonly bucket: string;
  private readonly client: S3Client;

  constructor(client: S3Client, bucket: string) {
    this.client = client;
    this.bucket = bucket;
  }

  /** Stores `value` as JSON under `key` and returns its reference. */
  async put(key: string, value: unknown, options: { signal?: AbortSignal } = {}): Promise<PayloadRef> {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`payload ${key}: undefined has no JSON to store`);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: text, ContentType: 'application/json' }), { abortSignal: options.signal });
    } catch (error) {
      throw translateS3Error(error, key, options.signal);
    }
    return { payload_ref: `s3://${this.bucket}/${key}`, size_bytes: Buffer.byteLength(text, 'utf8'), preview: previewOf(value, text) };
  }

  /** The key a reference names in this store's bucket; undefined when it names another bucket or no S3 object. */
  keyOf(ref: Pick<PayloadRef, 'payload_ref'>): string | undefined {
    const prefix = `s3://${this.bucket}/`;
    return ref.payload_ref.startsWith(prefix) && ref.payload_ref.length > prefix.length ? ref.payload_ref.slice(prefix.length) : undefined;
  }

  /**
   * The stored value a reference names, and the bytes of its JSON. NotFoundError when the reference is not
   * this bucket's or the object is gone (expired); PayloadTooLargeError, before reading it, when the object is
   * larger than `maxBytes`; DependencyUnavailableError when S3 could not answer (worth retrying).
   */
  async get(ref: Pick<PayloadRef, 'payload_ref'>, options: { signal?: AbortSignal; maxBytes?: number } = {}): Promise<{ value: unknown; size_bytes: number }> {
    const key = this.keyOf(ref);
    if (key === undefined) throw new NotFoundError(`${ref.payload_ref} is not in the payload bucket ${this.bucket}`);
    let text: string;
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: options.signal });
      const length = object.ContentLength ?? 0;
      if (options.maxBytes !== undefined && length > options.maxBytes) {
        await object.Body?.transformToWebStream().cancel().catch(() => undefined);
        throw new PayloadTooLargeError(`${ref.payload_ref} holds ${length} bytes, more than the ${options.maxBytes} allowed`);
      }
      text = (await object.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      throw translateS3Error(error, key, options.signal);
    }
    try {
      return { value: JSON.parse(text) as unknown, size_bytes: Buffer.byteLength(text, 'utf8') };
    } catch (error) {
      throw new Error(`${ref.payload_ref} does not hold JSON`, { cause: error });
    }
  }
}

/**
 * A reference stays small whatever the text: the preview's own JSON is at most this many bytes (escaped
 * quotes and control characters, multi-byte characters), so fewer than PREVIEW_CHARS characters may fit.
 */
const PREVIEW_MAX_JSON_BYTES = 512;

function previewOf(value: unknown, json: string): string {
  const text = typeof value === 'string' ? value : json;
  let preview = text.slice(0, PREVIEW_CHARS);
  while (Buffer.byteLength(JSON.stringify(preview), 'utf8') > PREVIEW_MAX_JSON_BYTES) preview = preview.slice(0, -16);
  // Never end on half of a surrogate pair: the preview must stay valid text.
  return /[\uD800-\uDBFF]$/.test(preview) ? preview.slice(0, -1) : preview;
}

const TRANSIENT_S3_ERRORS = new Set(['SlowDown', 'ServiceUnavailable', 'InternalError', 'RequestTimeout', 'RequestTimeTooSkewed', 'TimeoutError']);

/** SDK errors a caller can act on become domain errors; an abort by the caller and anything else propagate. */
function translateS3Error(error: unknown, key: string, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return error;
  if (error instanceof NotFoundError || error instanceof PayloadTooLargeError) return error;
  const name = error instanceof Error ? error.name : '';
  const metadata = (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata;
  if (name === 'NoSuchKey' || name === 'NotFound') return new NotFoundError(`payload ${key} does not exist (it may have expired)`, [], { cause: error });
  const code = (error as { code?: unknown } | undefined)?.code;
  const connection = typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code);
  if (TRANSIENT_S3_ERRORS.has(name) || (metadata?.httpStatusCode ?? 0) >= 500 || connection) {
    return new DependencyUnavailableError(`S3 is unavailable: ${error instanceof Error ? error.message : String(error)}`, [], { cause: error });
  }
  return error;
}
