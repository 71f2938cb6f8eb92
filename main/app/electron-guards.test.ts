// Issue 16.7, Electron: no session permission handler, shell.openExternal opened any URL, IPC
// checked the webContents but not the sender frame. The decisions, without Electron.
import { describe, expect, it } from 'vitest';
import { externalUrlAllowed, permissionAllowed, senderAllowed } from './electron-guards.ts';

const page = 'file:///opt/crr-desk/resources/app.asar/out/renderer/index.html';

describe('Electron guards', () => {
  it('grants no permission but sanitized clipboard writes, and only to the app page', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'midi', 'pointerLock', 'fullscreen', 'openExternal', 'clipboard-read', 'hid', 'serial', 'usb']) {
      expect(permissionAllowed(p, page, page), p).toBe(false);
    }
    expect(permissionAllowed('clipboard-sanitized-write', `${page}?x=1#peers`, page)).toBe(true);
    expect(permissionAllowed('clipboard-sanitized-write', 'https://evil.example/', page)).toBe(false);
    expect(permissionAllowed('clipboard-sanitized-write', 'file:///tmp/other.html', page)).toBe(false);
    expect(permissionAllowed('clipboard-sanitized-write', undefined, page)).toBe(false);
  });

  it('opens only https links without credentials in the system browser', () => {
    expect(externalUrlAllowed('https://github.com/vlcn-io/cr-sqlite')).toBe(true);
    for (const url of ['http://example.com', 'file:///etc/passwd', 'smb://host/share', 'javascript:alert(1)', 'ms-msdt:/id', 'https://user:pw@example.com', 'not a url', '']) {
      expect(externalUrlAllowed(url), url).toBe(false);
    }
  });

  it('answers IPC only from the main frame showing the app page', () => {
    expect(senderAllowed({ url: page, isMainFrame: true }, page)).toBe(true);
    expect(senderAllowed({ url: page, isMainFrame: false }, page)).toBe(false);
    expect(senderAllowed({ url: 'https://evil.example/', isMainFrame: true }, page)).toBe(false);
    expect(senderAllowed({ url: 'file:///tmp/index.html', isMainFrame: true }, page)).toBe(false);
    expect(senderAllowed(null, page)).toBe(false);
  });
});
