/**
 * A random key (128 bits, hex). crypto.randomUUID exists in secure contexts only; getRandomValues everywhere,
 * so the console works over plain HTTP on a private network too.
 */
export function randomKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
