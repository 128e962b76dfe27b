import { splitCause } from '../lib/format.ts';
import { JsonBlock } from './feedback.tsx';

/** An error: its name, what it says in a sentence, and the document it carries, folded. */
export function ErrorCause({ error, cause, full = true }: { readonly error: string; readonly cause: string; readonly full?: boolean }) {
  const { text, message, detail } = splitCause(cause);
  return (
    <>
      <strong>{error}</strong>
      <p class="pre-wrap">
        {[text, message].filter(Boolean).join(' ')}
      </p>
      {full && detail !== undefined && (
        <details>
          <summary>Details</summary>
          <JsonBlock value={detail} label={`Details of ${error}`} />
        </details>
      )}
    </>
  );
}
