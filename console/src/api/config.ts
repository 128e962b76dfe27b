import { BASE } from '../router.ts';

/**
 * Where the API is. On CloudFront the deployment writes `/console/config.json` (`{"apiUrl": "..."}`), since
 * the API is under /api/ of the distribution there; the local server answers {"apiUrl": ""}: the API is this origin.
 */
export async function loadApiUrl(): Promise<string> {
  try {
    const response = await fetch(`${BASE}config.json`, { headers: { accept: 'application/json' }, cache: 'no-cache' });
    if (response.ok) {
      const body: unknown = await response.json();
      if (typeof body === 'object' && body !== null && 'apiUrl' in body && typeof body.apiUrl === 'string' && body.apiUrl !== '') return body.apiUrl;
    }
  } catch {
    // Not there, or not JSON: the API is this origin.
  }
  return window.location.origin;
}
