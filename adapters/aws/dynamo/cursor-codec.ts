import { createHmac, timingSafeEqual } from 'node:crypto';
import { invalidCursor } from './operations.ts';

/** HMAC-SHA256 wants a key at least as long as its output (RFC 2104 §3); shorter keys are refused. */
export const MIN_CURSOR_KEY_BYTES = 32;

/**
 * How much of the HMAC-SHA256 a token carries: 16 bytes (128 bits). A forger cannot test guesses offline
 * without the key, and each online guess costs a request, so 2^-128 per guess is ample (NIST SP 800-107 allows
 * truncation to 64 bits and more); the full 32 bytes would add 21 characters to every next page's URL.
 */
const MAC_BYTES = 16;
/** base64url of MAC_BYTES, without padding: ceil(16 * 8 / 6). */
const MAC_CHARS = Math.ceil((MAC_BYTES * 8) / 6);

/**
 * Listing cursors a client cannot forge or alter: the cursor's JSON, base64url, followed by the first 16
 * bytes of its HMAC-SHA256 under a secret key, base64url (always 22 characters).
 *
 * The MAC follows the payload without a separator: the token stays in the base64url alphabet that the HTTP
 * edge accepts for next_token (functions/http/workflow-schemas.ts NextTokenSchema), and its fixed length
 * tells where the payload ends. What a cursor belongs to (index, partition, filters) is in its payload and
 * checked by the store after decode; the MAC makes that check trustworthy.
 */
export class CursorCodec {
  /** A # field: util.inspect, console.log and JSON.stringify of a store holding the codec never show it. */
  readonly #key: Buffer;

  /** `key`: at least 32 bytes (a string counts its UTF-8 bytes). Error, never echoing the key, when shorter. */
  constructor(key: Buffer | string) {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key);
    if (bytes.length < MIN_CURSOR_KEY_BYTES) {
      throw new Error(`a cursor signing key must be at least ${MIN_CURSOR_KEY_BYTES} bytes (HMAC-SHA256 wants a key as long as its output); got ${bytes.length}`);
    }
    this.#key = bytes;
  }

  /** The token for `value`: opaque to clients, safe in a URL, refused by decode if any character changes. */
  encode(value: unknown): string {
    const payload = Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    return `${payload}${this.mac(payload)}`;
  }

  /**
   * The cursor in a token made by encode with the same key. InvalidCursorError (field `next_token`) when the
   * token is too short to hold a MAC, its MAC does not match (checked in constant time, before anything of
   * the payload is parsed), or its content is not JSON or fails `isValid`.
   */
  decode<Cursor>(token: string, isValid: (value: unknown) => value is Cursor): Cursor {
    if (token.length <= MAC_CHARS) throw invalidCursor();
    const payload = token.slice(0, -MAC_CHARS);
    const given = Buffer.from(token.slice(-MAC_CHARS), 'utf8');
    const expected = Buffer.from(this.mac(payload), 'utf8');
    // Compared as the characters sent, not as decoded bytes: base64url decoding ignores stray characters and
    // the last character's unused bits, which would let several spellings of one MAC through.
    // timingSafeEqual throws on different lengths (non-ASCII characters): refused first.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidCursor();
    let value: unknown;
    try {
      value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalidCursor();
    }
    if (!isValid(value)) throw invalidCursor();
    return value;
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.#key).update(payload, 'utf8').digest().subarray(0, MAC_BYTES).toString('base64url');
  }
}

/** What a store that lists takes besides its client and table: the codec of its cursors. */
export interface CursorOptions {
  /**
   * Signs the cursors the store issues and checks those it is given. Optional only for the functions that
   * never list (workers, the authorizer): a store without one refuses to list (see requiredCursors).
   */
  readonly cursors?: CursorCodec;
}

/**
 * The codec a store was given. A plain Error (a 500: a composition mistake, not the client's) when there is
 * none, on every listing rather than only on those that reach a second page, so a miswired function fails on
 * its first request instead of once a table grows.
 */
export function requiredCursors(cursors: CursorCodec | undefined, store: string): CursorCodec {
  if (cursors === undefined) throw new Error(`${store} was built without a CursorCodec (options.cursors), so it can neither issue nor check a next_token: it cannot list`);
  return cursors;
}

/**
 * Where a listing that reads one index partition, with filters that are not keys, goes on: the index and the
 * partition it reads, its filters (JSON text: a cursor from one filter cannot page another) and the key to
 * continue after.
 */
export interface IndexListing {
  readonly indexName: string;
  readonly partition: string;
  readonly filters: string;
}

interface IndexCursor {
  i: string;
  p: string;
  f: string;
  k: Record<string, unknown>;
}

const isIndexCursor = (value: unknown): value is IndexCursor => {
  const cursor = value as Partial<IndexCursor> | null;
  return typeof cursor === 'object' && cursor !== null && typeof cursor.i === 'string' && typeof cursor.p === 'string' && typeof cursor.f === 'string' && typeof cursor.k === 'object' && cursor.k !== null;
};

/** The key a listing's cursor continues after; InvalidCursorError when the token is forged or from another listing. */
export function decodeIndexCursor(cursors: CursorCodec, token: string, listing: IndexListing): Record<string, unknown> {
  const cursor = cursors.decode(token, isIndexCursor);
  if (cursor.i !== listing.indexName || cursor.p !== listing.partition || cursor.f !== listing.filters) {
    throw invalidCursor('next_token belongs to another listing; repeat the filters of the request that gave it');
  }
  return cursor.k;
}

export function encodeIndexCursor(cursors: CursorCodec, listing: IndexListing, key: Record<string, unknown>): string {
  return cursors.encode({ i: listing.indexName, p: listing.partition, f: listing.filters, k: key });
}
