/**
 * A status as a word in a coloured pill: the word carries the meaning, the colour only repeats it (so it
 * reads without colour vision, and in a screen reader).
 */
export function StatusBadge({ status }: { readonly status: string }) {
  return <span class={`badge status-${status}`}>{status.replace(/_/g, ' ')}</span>;
}
