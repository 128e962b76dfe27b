import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

/**
 * The web console's built files (`npm run build:console`, Vite's output in dist/console), served by the local
 * server at /console/ (and / redirects there), as CloudFront serves them from S3 in AWS (infra/stacks/
 * console-stack.ts). A path that is not a file is the single-page app's own route: index.html answers it.
 * Same origin as the API, so the console calls it without CORS.
 */
export const CONSOLE_PATH = '/console/';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/** What every console answer carries: the app talks to its own origin only, and is never framed. */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Whether a request is the console's (GET or HEAD of /, /console or below). */
export function isConsoleRequest(method: string, pathname: string): boolean {
  return (method === 'GET' || method === 'HEAD') && (pathname === '/' || pathname === '/console' || pathname.startsWith(CONSOLE_PATH));
}

/** Answers a console request from `directory`. */
export async function serveConsole(directory: string, request: IncomingMessage, response: ServerResponse, pathname: string): Promise<void> {
  const head = request.method === 'HEAD';
  if (pathname === '/' || pathname === '/console') {
    response.writeHead(302, { location: CONSOLE_PATH, ...CONSOLE_SECURITY_HEADERS });
    response.end();
    return;
  }
  const root = resolve(directory);
  let relative: string;
  try {
    relative = decodeURIComponent(pathname.slice(CONSOLE_PATH.length));
  } catch {
    return text(response, 400, 'the path is not valid percent-encoding');
  }
  const file = resolve(join(root, relative));
  // Never outside the built files, whatever `..` or encoded separators the path holds.
  if (file !== root && !file.startsWith(root + sep)) return text(response, 404, 'not found');
  const found = await isFile(file);
  // In AWS, config.json (written at deployment) names the API's URL; here the API is this origin.
  if (!found && relative === 'config.json') {
    response.writeHead(200, { 'content-type': TYPES['.json']!, 'cache-control': 'no-cache', ...CONSOLE_SECURITY_HEADERS });
    response.end(head ? undefined : JSON.stringify({ apiUrl: '' }));
    return;
  }
  // An asset that is not there is a 404; anything else is a route of the app, which index.html renders.
  const target = found ? file : extname(relative) !== '' ? undefined : join(root, 'index.html');
  if (target === undefined) return text(response, 404, 'not found');
  if (!found && !(await isFile(target))) return text(response, 503, 'the console is not built: run `npm run build:console` (npm start builds it)');
  const immutable = target.startsWith(join(root, 'assets') + sep);
  response.writeHead(200, {
    'content-type': TYPES[extname(target)] ?? 'application/octet-stream',
    // Vite names assets by their content: they never change. index.html must be checked every time.
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...CONSOLE_SECURITY_HEADERS,
  });
  if (head) {
    response.end();
    return;
  }
  createReadStream(target).on('error', () => response.destroy()).pipe(response);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function text(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...CONSOLE_SECURITY_HEADERS });
  response.end(`${message}\n`);
}
