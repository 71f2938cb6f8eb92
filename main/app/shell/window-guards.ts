// The Electron window's security decisions, as plain functions: the page never navigates away or
// opens windows (https links go to the system browser), no webviews, no permissions but writing
// the clipboard (Copy invite code), IPC only from the app page's main frame, and the CSP on every response.
import { CSP } from '../static-files.ts';
import { appUrl } from './renderer-protocol.ts';

/**
 * A link or window.open the page asked for: never in the app; only https URLs without credentials
 * open in the system browser (shell.openExternal would hand any scheme to the OS).
 */
export function externalTarget(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.hostname !== '' && u.username === '' && u.password === '' ? u.href : null;
  } catch {
    return null;
  }
}

/** The page's own navigation (a link clicked, location = …): allowed only within the app's origin. */
export function navigationAllowed(url: string): boolean {
  return appUrl(url) !== null;
}

/** Whether a URL is the app's own page. */
export function isAppPage(senderUrl: string | undefined | null): boolean {
  return appUrl(senderUrl) !== null;
}

/** Whether an IPC call may be answered: only from a window's main frame showing the app's page (not an iframe). */
export function ipcSenderAllowed(frame: { url: string; isMainFrame: boolean } | null | undefined): boolean {
  return !!frame && frame.isMainFrame && isAppPage(frame.url);
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
