import type { ComponentChildren } from 'preact';
import { useSession } from '../api/context.ts';
import { Link } from './link.tsx';

const SECTIONS = [
  { to: '/workflows', label: 'Workflows' },
  { to: '/runs', label: 'Runs' },
  { to: '/registry', label: 'Registry' },
  { to: '/operations', label: 'Operations' },
] as const;

/** The frame of every page: a skip link, the sections, who is signed in, and the page itself. */
export function Layout({ path, children }: { readonly path: string; readonly children: ComponentChildren }) {
  const { session, signOut } = useSession();
  const { whoami, credential } = session;
  const section = SECTIONS.find((candidate) => path === candidate.to || path.startsWith(`${candidate.to}/`) || (candidate.to === '/operations' && path.startsWith('/traces')));
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="app-header">
        <Link to="/workflows" class="brand">
          Orchestrator
        </Link>
        <nav aria-label="Sections">
          <ul>
            {SECTIONS.map((item) => (
              <li key={item.to}>
                <Link to={item.to} {...(section?.to === item.to ? { 'aria-current': 'page' as const } : {})}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who" data-testid="who">
          <span title={`tenant ${whoami.tenant}, signed in by ${whoami.method}`}>
            {credential.kind === 'anonymous' ? 'anonymous' : whoami.subject} · {whoami.roles.join(', ')}
          </span>
          <button type="button" class="secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
