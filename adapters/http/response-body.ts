import type { OutboundBody, OutboundResponse } from '../../core/ports.ts';

/** What reading a body needs of a fetch Response (undici's or the global one). */
export interface ReadableResponse {
  readonly body: ReadableStream<Uint8Array> | null;
  readonly headers: { get(name: string): string | null };
}

/** A chunked body over the limit is counted up to this, to report its size, and then abandoned. */
const MAX_COUNTED_BYTES = 16 * 1024 * 1024;

/**
 * Reads a response body within `maxBytes`: never holds more than `maxBytes` plus one chunk in memory. Network
 * errors while reading propagate, except once the body is known to be too large: then what was counted is
 * reported. A body over the limit keeps its first `previewBytes` bytes; with a preview wanted, a chunked body is
 * counted on (up to 16 MiB) so its size can be reported.
 */
export async function readBodyWithin(response: ReadableResponse, maxBytes: number, previewBytes: number): Promise<OutboundBody> {
  if (response.body === null) return { kind: 'complete', text: '' };
  const declared = declaredLength(response.headers.get('content-length'));
  const reader = response.body.getReader();
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let size = 0;
  let over = declared !== undefined && declared > maxBytes;
  let complete = false;
  try {
    for (;;) {
      if (over && keptBytes >= previewBytes && (declared !== undefined || previewBytes === 0 || size > MAX_COUNTED_BYTES)) break;
      const { done, value } = await reader.read();
      if (done) {
        complete = true;
        break;
      }
      size += value.byteLength;
      if (!over || keptBytes < previewBytes) {
        kept.push(value);
        keptBytes += value.byteLength;
      }
      if (size > maxBytes) over = true;
    }
  } catch (error) {
    if (!over) throw error;
  } finally {
    if (!complete) await reader.cancel().catch(() => undefined);
  }
  const bytes = concat(kept, keptBytes);
  if (over) return { kind: 'too_large', size_bytes: declared ?? size, size_is_lower_bound: declared === undefined && !complete, preview: preview(bytes, previewBytes) };
  return { kind: 'complete', text: new TextDecoder().decode(bytes) };
}

/** What replaces a body too large to keep (the action runner's result, a health probe's body). */
export interface TruncatedBody {
  readonly truncated: true;
  /** The body's size; a lower bound when `size_is_lower_bound` (chunked body, stopped counting). */
  readonly size_bytes: number;
  readonly size_is_lower_bound?: true;
  readonly content_type: string | null;
  /** The first bytes as text (a split character at the end is dropped). */
  readonly preview: string;
}

export interface BodyLimits {
  /** A body larger than this (raw, or as JSON once parsed) is not returned; a truncated stand-in is. */
  readonly maxBytes: number;
  /** How many bytes of a body over the limit the stand-in keeps, as text. */
  readonly previewBytes: number;
}

/**
 * A response body as a value: JSON-parsed when the content type says JSON (text if it does not parse), text
 * otherwise, null when empty, a TruncatedBody when it (or the JSON of its value) is larger than the limit.
 */
export function bodyValue(response: Pick<OutboundResponse, 'headers' | 'body'>, limits: BodyLimits): unknown {
  const contentType = response.headers['content-type'] ?? null;
  const body = response.body;
  if (body.kind === 'too_large') {
    return { truncated: true, size_bytes: body.size_bytes, ...(body.size_is_lower_bound ? { size_is_lower_bound: true as const } : {}), content_type: contentType, preview: body.preview } satisfies TruncatedBody;
  }
  if (body.text === '') return null;
  let value: unknown = body.text;
  if (isJson(contentType)) {
    try {
      value = JSON.parse(body.text) as unknown;
    } catch {
      // The service said JSON but sent something else: hand over what it sent.
    }
  }
  // Escaping can make the JSON of a value much larger than the bytes it came from; the state holds the JSON.
  if (Buffer.byteLength(JSON.stringify(value), 'utf8') > limits.maxBytes) {
    const bytes = Buffer.from(body.text, 'utf8');
    return { truncated: true, size_bytes: bytes.byteLength, content_type: contentType, preview: preview(bytes, limits.previewBytes) } satisfies TruncatedBody;
  }
  return value;
}

/** `application/json`, `application/problem+json`, `text/json`... */
export function isJson(contentType: string | null): boolean {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return /^(application|text)\/([\w.-]+\+)?json$/.test(mediaType);
}

export function isTruncated(value: unknown): value is TruncatedBody {
  return typeof value === 'object' && value !== null && (value as { truncated?: unknown }).truncated === true;
}

/** A streaming decode drops a character split at the end of the preview instead of emitting U+FFFD. */
function preview(bytes: Uint8Array, previewBytes: number): string {
  return new TextDecoder().decode(bytes.subarray(0, previewBytes), { stream: true });
}

function declaredLength(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim());
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
