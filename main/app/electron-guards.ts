// The Electron shell's security decisions as plain functions (electron-main.ts wires them in;
// tests call them without Electron): which permissions a page gets, which links leave the app for
// the system browser, and which frames may call the API over IPC.
//   - permissions: none, except writing sanitized text to the clipboard (Copy of an invite code),
//     and only for the app's own page;
//   - external links: https only, without credentials in the URL;
//   - IPC: only the main frame of a window, showing the app's own page (not an iframe, not a page
//     navigated elsewhere).

const ALLOWED_PERMISSIONS = new Set(['clipboard-sanitized-write']);

/** The page URL without its query and fragment. */
function pageOf(url: string): string | null {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return null;
  }
}

const isAppPage = (url: string | undefined, rendererUrl: string) => !!url && pageOf(url) !== null && pageOf(url) === pageOf(rendererUrl);

export function permissionAllowed(permission: string, requestingUrl: string | undefined, rendererUrl: string): boolean {
  return ALLOWED_PERMISSIONS.has(permission) && isAppPage(requestingUrl, rendererUrl);
}

export function externalUrlAllowed(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.hostname !== '' && u.username === '' && u.password === '';
  } catch {
    return false;
  }
}

export function senderAllowed(frame: { url: string; isMainFrame: boolean } | null, rendererUrl: string): boolean {
  return !!frame && frame.isMainFrame && isAppPage(frame.url, rendererUrl);
}
