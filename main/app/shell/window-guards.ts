// The Electron window's security decisions, as plain functions: the page never navigates away or
// opens windows (http(s) links go to the system browser), no webviews, no permissions but writing
// the clipboard (Copy invite code), IPC only from the app's own page, and the CSP on every response.
import { CSP } from '../static-files.ts';
import { appUrl } from './renderer-protocol.ts';

/** A link or window.open the page asked for: never in the app; http(s) URLs open in the system browser. */
export function externalTarget(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

/** The page's own navigation (a link clicked, location = …): allowed only within the app's origin. */
export function navigationAllowed(url: string): boolean {
  return appUrl(url) !== null;
}

/** Whether an IPC call comes from the app's own page (not from any other frame or content). */
export function isAppPage(senderUrl: string | undefined | null): boolean {
  return appUrl(senderUrl) !== null;
}

const ALLOWED_PERMISSIONS = new Set(['clipboard-sanitized-write']);

/** A permission the page asks for (camera, notifications, …): only clipboard writing, only for the app's page. */
export function permissionAllowed(permission: string, requestingUrl: string | undefined): boolean {
  return ALLOWED_PERMISSIONS.has(permission) && isAppPage(requestingUrl);
}

/** Response headers with the app's CSP in place of any other spelling of that header. */
export function withCsp(headers: Record<string, string | string[]> | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (k.toLowerCase() === 'content-security-policy') continue;
    out[k] = Array.isArray(v) ? v : [v];
  }
  out['Content-Security-Policy'] = [CSP];
  return out;
}
