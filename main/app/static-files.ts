// Serves the built renderer from one folder, with a strict CSP; nothing outside that folder. Any
// request is answered: a path that does not decode is a 400, a failure reading a file a 500.
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

const HEADERS = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' };

export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): void {
  try {
    serveFile(root, req, res);
  } catch (err) {
    if (!res.headersSent) res.writeHead(500, { ...HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('internal error');
    console.error(`browser mode: ${req.method} ${req.url}: ${(err as Error).message}`);
  }
}

function serveFile(root: string, req: IncomingMessage, res: ServerResponse): void {
  const headers = HEADERS;
  let url: URL;
  let pathname: string;
  try {
    url = new URL(req.url ?? '/', 'http://127.0.0.1');
    pathname = decodeURIComponent(url.pathname);
  } catch {
    res.writeHead(400, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end('bad request');
    return;
  }
  const rel = normalize(pathname).replace(/^([/\\])+/, '');
  const path = join(root, rel === '' ? 'index.html' : rel);
  if (!path.startsWith(root + sep) && path !== root) {
    res.writeHead(403, headers).end('forbidden');
    return;
  }
  const file = existsSync(path) && statSync(path).isFile() ? path : join(root, 'index.html');
  if (!existsSync(file)) {
    res.writeHead(503, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('The renderer is not built yet: run `npm run build:renderer`.');
    return;
  }
  res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
}
