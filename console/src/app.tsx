import { Fragment, type JSX } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { OrchestratorApiError } from '../../client/index.ts';
import { SessionContext } from './api/context.ts';
import { signIn, storeCredential, storedCredential, type Credential, type Session } from './api/session.ts';
import { ErrorBox, Loading } from './components/feedback.tsx';
import { Layout } from './components/layout.tsx';
import { Link } from './components/link.tsx';
import { OperationsPage } from './pages/operations.tsx';
import { RegistryPage } from './pages/registry.tsx';
import { RunFormPage } from './pages/run-form.tsx';
import { RunPage } from './pages/run.tsx';
import { RunsPage } from './pages/runs.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { TracePage } from './pages/trace.tsx';
import { WorkflowEditorPage } from './pages/workflow-editor.tsx';
import { WorkflowPage } from './pages/workflow.tsx';
import { WorkflowsPage } from './pages/workflows.tsx';
import { match, navigate, useLocation, type Location } from './router.ts';

type Page = (params: Record<string, string>, location: Location) => JSX.Element;

/** The app's pages, first match wins (`/workflows/new` before `/workflows/:id`). */
const ROUTES: readonly (readonly [string, Page])[] = [
  ['/workflows', (_, location) => <WorkflowsPage query={location.query} />],
  ['/workflows/new', (_, location) => <WorkflowEditorPage template={location.query.get('template') ?? undefined} />],
  ['/workflows/:id', (params, location) => <WorkflowPage id={params.id!} tab={location.query.get('tab') ?? 'graph'} />],
  ['/workflows/:id/edit', (params) => <WorkflowEditorPage id={params.id!} />],
  ['/workflows/:id/run', (params) => <RunFormPage id={params.id!} />],
  ['/runs', (_, location) => <RunsPage query={location.query} />],
  ['/runs/:id', (params) => <RunPage id={params.id!} />],
  ['/registry', (_, location) => <RegistryPage query={location.query} />],
  ['/operations', (_, location) => <OperationsPage query={location.query} />],
  ['/traces/:id', (params) => <TracePage id={params.id!} />],
];

function NotFound({ path }: { readonly path: string }) {
  return (
    <>
      <h1>Not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. Go to the <Link to="/workflows">workflows</Link>.
      </p>
    </>
  );
}

/** Signs in (from the tab's stored credential, or the sign-in page), then shows the page the URL names. */
export function App({ apiUrl }: { readonly apiUrl: string }) {
  const location = useLocation();
  const [session, setSession] = useState<Session | undefined>(undefined);
  const [restoring, setRestoring] = useState(() => storedCredential() !== undefined);
  const [restoreError, setRestoreError] = useState<unknown>(undefined);
  const [reason, setReason] = useState<string | undefined>(undefined);
  // Each sign-in has a number: a 401 answering a call of an earlier session must not end the current one.
  const generation = useRef(0);

  const begin = useCallback(
    async (credential: Credential) => {
      const mine = ++generation.current;
      const lost = () => {
        if (generation.current !== mine) return;
        generation.current += 1;
        storeCredential(undefined);
        setSession(undefined);
        setReason('The server refused your credential (it may have expired or been revoked). Sign in again to go on where you were.');
      };
      const next = await signIn(apiUrl, credential, lost);
      if (generation.current !== mine) return;
      storeCredential(credential);
      setReason(undefined);
      setSession(next);
    },
    [apiUrl],
  );

  useEffect(() => {
    const stored = storedCredential();
    if (!stored) return;
    begin(stored).then(
      () => setRestoring(false),
      (error: unknown) => {
        storeCredential(undefined);
        if (!(error instanceof OrchestratorApiError && error.status === 401)) setRestoreError(error);
        else setReason('The server refused your stored credential. Sign in again.');
        setRestoring(false);
      },
    );
  }, [begin]);

  const signOut = useCallback(() => {
    generation.current += 1;
    storeCredential(undefined);
    setSession(undefined);
    setReason(undefined);
  }, []);

  // After an in-app navigation, focus goes to the new page, as a page load would put it.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: false });
    window.scrollTo(0, 0);
  }, [location.path]);

  useEffect(() => {
    if (location.path === '/') navigate('/workflows', { replace: true });
  }, [location.path]);

  if (restoring) return <Loading what="your session" />;
  if (restoreError !== undefined)
    return (
      <main id="main" class="sign-in">
        <ErrorBox error={restoreError} title="The API did not answer" onRetry={() => window.location.reload()} />
      </main>
    );
  if (!session) return <SignInPage apiUrl={apiUrl} reason={reason} onSignIn={begin} />;

  let page: JSX.Element = <NotFound path={location.path} />;
  for (const [pattern, render] of ROUTES) {
    const params = match(pattern, location.path);
    if (params) {
      // Another id is another page: its state (a selected node, a confirmation) must not carry over.
      page = <Fragment key={`${pattern}:${JSON.stringify(params)}`}>{render(params, location)}</Fragment>;
      break;
    }
  }
  return (
    <SessionContext.Provider value={{ session, signOut }}>
      <Layout path={location.path}>{page}</Layout>
    </SessionContext.Provider>
  );
}
