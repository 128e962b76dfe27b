import { randomBytes } from 'node:crypto';

/** Random lower-case hex of `bytes` bytes, never all zeros (W3C Trace Context forbids all-zero ids). */
export function randomHex(bytes: number): string {
  for (;;) {
    const hex = randomBytes(bytes).toString('hex');
    if (!/^0+$/.test(hex)) return hex;
  }
}

/** A new W3C trace id: 32 hex digits. */
export function newTraceId(): string {
  return randomHex(16);
}

/** A new span id: 16 hex digits. */
export function newSpanId(): string {
  return randomHex(8);
}
