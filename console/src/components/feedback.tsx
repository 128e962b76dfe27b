import type { ComponentChildren } from 'preact';
import { OrchestratorApiError } from '../../../client/index.ts';
import { errorMessage } from '../lib/format.ts';

/** A failure, announced to screen readers; with the API's field details when it gave some. */
export function ErrorBox({ error, title, onRetry }: { readonly error: unknown; readonly title?: string; readonly onRetry?: () => void }) {
  if (error === undefined || error === null) return null;
  const details = error instanceof OrchestratorApiError ? error.details : [];
  return (
    <div class="alert alert-error" role="alert">
      <strong>{title ?? 'Something went wrong'}</strong>
      <p>{errorMessage(error)}</p>
      {details.length > 0 && (
        <ul>
          {details.map((detail) => (
            <li key={`${detail.field}:${detail.message}`}>
              <code>{detail.field || '(request)'}</code>: {detail.message}
            </li>
          ))}
        </ul>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Notice({ children, kind = 'info' }: { readonly children: ComponentChildren; readonly kind?: 'info' | 'success' | 'warning' }) {
  return (
    <div class={`alert alert-${kind}`} role="status">
      {children}
    </div>
  );
}

export function Loading({ what }: { readonly what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** Pretty JSON in a scrollable block, labelled for screen readers. */
export function JsonBlock({ value, label }: { readonly value: unknown; readonly label: string }) {
  return (
    <pre class="json" tabIndex={0} aria-label={label}>
      {JSON.stringify(value, null, 2) ?? 'undefined'}
    </pre>
  );
}
