export interface BodyLimits {
  /** A body larger than this (raw, or as JSON once parsed) is not returned; a truncated stand-in is. */
  readonly maxBytes: number;
  /** How many bytes of a body over the limit the stand-in keeps, as text. */
  readonly previewBytes: number;
}

/**
 * What replaces a body over `maxBytes`: 200 KiB without a payload store; with one (AWS, the local runtime),
 * 10 MiB, below which the action runner stores the body in S3 instead (payload-refs.ts).
 */
export interface TruncatedBody {
  readonly truncated: true;
  /** The body's size; a lower bound when `size_is_lower_bound` (chunked body, stopped counting). */
  readonly size_bytes: number;
  readonly size_is_lower_bound?: true;
  readonly content_type: string | null;
  /** The first `previewBytes` bytes as text (a split character at the end is dropped). */
  readonly preview: string;
}

/** A chunked body over the limit is counted up to this, to report its size, and then abandoned. */
const MAX_COUNTED_BYTES = 16 * 1024 * 1024;

/**
 * Reads a response body within `limits`: JSON-parsed when the content type says JSON (text if it does not
 * parse), text otherwise, null when empty; a TruncatedBody when it is too large. Never holds more than
 * `maxBytes` plus one chunk in memory. Network errors while reading propagate, except once the body is
 * known to be too large: then the stand-in is returned with what was counted.
 */
export async function readBody(response: Response, limits: BodyLimits): Promise<{ value: unknown }> {
  const contentType = response.headers.get('content-type');
  if (response.body === null) return { value: null };
  const declared = declaredLength(response.headers.get('content-length'));
  const reader = response.body.getReader();
  const kept: Uint8Array[] = [];
  let keptBytes = 0;
  let size = 0;
  let over = declared !== undefined && declared > limits.maxBytes;
  let complete = false;
  try {
    for (;;) {
      if (over && keptBytes >= limits.previewBytes && (declared !== undefined || size > MAX_COUNTED_BYTES)) break;
      const { done, value } = await reader.read();
      if (done) {
        complete = true;
        break;
      }
      size += value.byteLength;
      if (!over || keptBytes < limits.previewBytes) {
        kept.push(value);
        keptBytes += value.byteLength;
      }
      if (size > limits.maxBytes) over = true;
    }
  } catch (error) {
    if (!over) throw error;
  } finally {
    if (!complete) await reader.cancel().catch(() => undefined);
  }

  const bytes = concat(kept, keptBytes);
  if (over) return { value: truncated(bytes, declared ?? size, contentType, limits, declared === undefined && !complete) };
  if (bytes.byteLength === 0) return { value: null };
  const text = new TextDecoder().decode(bytes);
  let value: unknown = text;
  if (isJson(contentType)) {
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      // The service said JSON but sent something else: hand over what it sent.
    }
  }
  // Escaping can make the JSON of a value much larger than the bytes it came from; the state holds the JSON.
  if (Buffer.byteLength(JSON.stringify(value), 'utf8') > limits.maxBytes) {
    return { value: truncated(bytes, bytes.byteLength, contentType, limits, false) };
  }
  return { value };
}

/** `application/json`, `application/problem+json`, `text/json`... */
export function isJson(contentType: string | null): boolean {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return /^(application|text)\/([\w.-]+\+)?json$/.test(mediaType);
}

function truncated(bytes: Uint8Array, size: number, contentType: string | null, limits: BodyLimits, lowerBound: boolean): TruncatedBody {
  // A streaming decode drops a character split at the end of the preview instead of emitting U+FFFD.
  const preview = new TextDecoder().decode(bytes.subarray(0, limits.previewBytes), { stream: true });
  return { truncated: true, size_bytes: size, ...(lowerBound ? { size_is_lower_bound: true as const } : {}), content_type: contentType, preview };
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
