// The Electron window loads the renderer from the app's own scheme, crr-desk://app/, not file://:
// its files come from out/renderer only, each response carries the CSP (a file:// page gets no
// response headers), and the page has an origin of its own that no other content shares.
import { resolveStatic, STATIC_HEADERS } from '../static-files.ts';

export const APP_SCHEME = 'crr-desk';
export const APP_ORIGIN = `${APP_SCHEME}://app`;
export const RENDERER_URL = `${APP_ORIGIN}/index.html`;

/** `url` parsed when it is on the app's own origin (scheme and host; Node's URL gives such a scheme no origin), else null. */
export function appUrl(url: string | undefined | null): URL | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === 'app' && !u.username && !u.password && !u.port ? u : null;
  } catch {
    return null;
  }
}

export type RendererResponse = { status: number; headers: Record<string, string> } & ({ file: string } | { body: string });

/** The answer to a request on the app's scheme: a file of `root`, or an error status and text. */
export function rendererResponse(root: string, requestUrl: string): RendererResponse {
  const url = appUrl(requestUrl);
  const text = { ...STATIC_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' };
  if (!url) return { status: 404, headers: text, body: 'not found' };
  const r = resolveStatic(root, url.pathname);
  if (r.status !== 200) return { status: r.status, headers: text, body: r.message };
  return { status: 200, headers: { ...STATIC_HEADERS, 'Content-Type': r.contentType }, file: r.file };
}
