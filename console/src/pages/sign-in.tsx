import { useEffect, useId, useState } from 'preact/hooks';
import { OrchestratorApiError } from '../../../client/index.ts';
import { anonymousAccess, type Credential } from '../api/session.ts';
import type { WhoAmI } from '../api/types.ts';
import { ErrorBox, Notice } from '../components/feedback.tsx';

interface SignInProps {
  readonly apiUrl: string;
  /** Why the sign-in is back (a refused or expired credential). */
  readonly reason?: string | undefined;
  readonly onSignIn: (credential: Credential) => Promise<void>;
}

/** Sign-in with a bearer token or an API key, or without a credential when the server's auth mode allows it. */
export function SignInPage({ apiUrl, reason, onSignIn }: SignInProps) {
  const [kind, setKind] = useState<'token' | 'apiKey'>('apiKey');
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [anonymous, setAnonymous] = useState<{ whoami?: WhoAmI; error?: unknown; checked: boolean }>({ checked: false });
  const [probe, setProbe] = useState(0);
  const credentialId = useId();

  useEffect(() => {
    document.title = 'Sign in · Orchestrator console';
    anonymousAccess(apiUrl).then(
      (whoami) => setAnonymous({ checked: true, ...(whoami ? { whoami } : {}) }),
      (failure: unknown) => setAnonymous({ checked: true, error: failure }),
    );
  }, [apiUrl, probe]);

  const submit = async (credential: Credential) => {
    setBusy(true);
    setError(undefined);
    try {
      await onSignIn(credential);
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in" tabIndex={-1}>
      <h1>Sign in to the orchestrator console</h1>
      {reason && <Notice kind="warning">{reason}</Notice>}
      <form
        class="card"
        onSubmit={(event) => {
          event.preventDefault();
          if (value.trim() !== '') void submit({ kind, value: value.trim() });
        }}
      >
        <fieldset>
          <legend>Credential</legend>
          <label class="inline">
            <input type="radio" name="kind" value="apiKey" checked={kind === 'apiKey'} onChange={() => setKind('apiKey')} /> API key (X-API-Key)
          </label>
          <label class="inline">
            <input type="radio" name="kind" value="token" checked={kind === 'token'} onChange={() => setKind('token')} /> Bearer token (JWT)
          </label>
        </fieldset>
        <div class="field">
          <label for={credentialId}>{kind === 'apiKey' ? 'API key' : 'Bearer token'}</label>
          <input id={credentialId} type="password" autoComplete="off" spellcheck={false} required value={value} aria-describedby={`${credentialId}-help`} onInput={(event) => setValue(event.currentTarget.value)} />
          <span id={`${credentialId}-help`} class="help">
            Kept in this tab only (sessionStorage), and forgotten when you sign out or close it.
          </span>
        </div>
        {error !== undefined && (
          <ErrorBox error={error instanceof OrchestratorApiError && error.status === 401 ? new Error('The server refused this credential: check it, or ask an admin for a new one.') : error} title="Not signed in" />
        )}
        <button type="submit" disabled={busy || value.trim() === ''}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <section class="card" aria-labelledby={`${credentialId}-anonymous`}>
        <h2 id={`${credentialId}-anonymous`}>Without a credential</h2>
        {!anonymous.checked && <p role="status">Asking the server whether it lets anonymous callers in…</p>}
        {anonymous.error !== undefined && <ErrorBox error={anonymous.error} title="The API did not answer" onRetry={() => setProbe((n) => n + 1)} />}
        {anonymous.checked && anonymous.whoami && (
          <>
            <p>
              This server’s auth mode is <strong>{anonymous.whoami.auth_mode}</strong>: anonymous callers act as <strong>{anonymous.whoami.roles.join(', ')}</strong> in tenant{' '}
              <strong>{anonymous.whoami.tenant}</strong>.
            </p>
            <button type="button" disabled={busy} onClick={() => void submit({ kind: 'anonymous' })}>
              Continue without signing in
            </button>
          </>
        )}
        {anonymous.checked && !anonymous.whoami && anonymous.error === undefined && <p>This server requires a credential.</p>}
      </section>
    </main>
  );
}
