import { useEffect, useState } from 'preact/hooks';

/**
 * A small history-API router. Every path of the app lives under BASE (Vite's `base`); the local server and
 * CloudFront answer any path there that is not a file with index.html, so a reload of /console/runs/x works.
 */
export const BASE = '/console/';

export interface Location {
  /** The path inside the app, always starting with `/` (`/workflows/abc`). */
  readonly path: string;
  readonly query: URLSearchParams;
}

const listeners = new Set<() => void>();

function current(): Location {
  const { pathname, search } = window.location;
  const inside = pathname.startsWith(BASE) ? pathname.slice(BASE.length - 1) : '/';
  return { path: inside === '' ? '/' : inside, query: new URLSearchParams(search) };
}

/** The href of an app path, for links and history entries. */
export function href(path: string): string {
  return `${BASE}${path.replace(/^\/+/, '')}`;
}

/** Goes to an app path (`/runs?status=failed`); `replace` for filter changes that should not pile up history. */
export function navigate(path: string, options: { readonly replace?: boolean } = {}): void {
  const target = href(path);
  if (options.replace) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  listeners.forEach((listener) => listener());
}

window.addEventListener('popstate', () => listeners.forEach((listener) => listener()));

/** The current location, re-rendering on every navigation. */
export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return location;
}

/** The params of `pattern` (`/workflows/:id`) in `path`, or undefined when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/').filter(Boolean);
  const got = path.split('/').filter(Boolean);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let index = 0; index < want.length; index += 1) {
    const part = want[index]!;
    const value = got[index]!;
    if (part.startsWith(':')) {
      try {
        params[part.slice(1)] = decodeURIComponent(value);
      } catch {
        return undefined;
      }
    } else if (part !== value) return undefined;
  }
  return params;
}

/** A query string from a record, leaving out empty values. */
export function queryString(values: Readonly<Record<string, string | number | undefined>>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
