// The built renderer from one folder, with a strict CSP; nothing outside that folder. Served over
// HTTP in browser mode (serveStatic) and over the Electron shell's own scheme (shell/renderer-protocol.ts).
// Any request is answered: a path that does not decode is a 400, a file that cannot be read a 500.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export const STATIC_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export type StaticFile =
  | { status: 200; file: string; contentType: string }
  | { status: 400 | 403 | 503; message: string };

/** The file under `root` for a URL path (unknown paths get index.html: one page app), or why none. */
export function resolveStatic(root: string, pathname: string): StaticFile {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { status: 400, message: 'bad request' };
  }
  const rel = normalize(decoded).replace(/^([/\\])+/, '');
  const path = join(root, rel === '' ? 'index.html' : rel);
  if (!path.startsWith(root + sep) && path !== root) return { status: 403, message: 'forbidden' };
  const file = existsSync(path) && statSync(path).isFile() ? path : join(root, 'index.html');
  if (!existsSync(file)) return { status: 503, message: 'The renderer is not built yet: run `npm run build:renderer`.' };
  return { status: 200, file, contentType: TYPES[extname(file)] ?? 'application/octet-stream' };
}

export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): void {
  let pathname: string | null = null;
  try {
    pathname = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  } catch {
    // a request line such as `GET //` is no URL: answered, never thrown (that would stop the server)
  }
  const r: StaticFile = pathname === null ? { status: 400, message: 'bad request' } : resolveStatic(root, pathname);
  if (r.status !== 200) {
    res.writeHead(r.status, { ...STATIC_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }).end(r.message);
    return;
  }
  let body: Buffer;
  try {
    body = readFileSync(r.file);
  } catch (err) {
    // a file that vanished or cannot be read: a 500, and the server goes on
    res.writeHead(500, { ...STATIC_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' }).end('internal error');
    console.error(`browser mode: ${req.method} ${req.url}: ${(err as Error).message}`);
    return;
  }
  res.writeHead(200, { ...STATIC_HEADERS, 'Content-Type': r.contentType });
  res.end(body);
}
