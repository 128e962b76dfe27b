import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CursorCodec, MIN_CURSOR_KEY_BYTES } from '../adapters/aws/dynamo/cursor-codec.ts';

/** The file in the data directory that keeps the cursor key when ORCHESTRATOR_CURSOR_SECRET is not set. */
export const CURSOR_SECRET_FILE = 'cursor-secret';

/**
 * The codec of listing cursors: `cursorSecret` when given; otherwise a random key made on first start and kept
 * in `<dataDir>/cursor-secret` (mode 0600, like a private key: whoever reads it can forge cursors), so that a
 * client's next_token still works after a restart; without a data directory, a key of this process only.
 */
export async function loadCursorCodec(options: { readonly cursorSecret?: string; readonly dataDir?: string }): Promise<CursorCodec> {
  if (options.cursorSecret !== undefined) return new CursorCodec(options.cursorSecret);
  if (options.dataDir === undefined) return new CursorCodec(randomBytes(MIN_CURSOR_KEY_BYTES));
  const path = join(options.dataDir, CURSOR_SECRET_FILE);
  await mkdir(options.dataDir, { recursive: true });
  try {
    // `wx`: never replaces a key that exists (which would invalidate every cursor handed out with it).
    await writeFile(path, `${randomBytes(MIN_CURSOR_KEY_BYTES).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  try {
    return new CursorCodec((await readFile(path, 'utf8')).trim());
  } catch (error) {
    throw new Error(`invalid cursor key in ${path}: ${(error as Error).message}; delete the file to have a new one made (next_tokens handed out before become invalid)`, { cause: error });
  }
}
