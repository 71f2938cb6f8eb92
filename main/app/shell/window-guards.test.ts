import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../crr/test-helpers.ts';
import { CSP } from '../static-files.ts';
import { appUrl, rendererResponse, RENDERER_URL } from './renderer-protocol.ts';
import { externalTarget, ipcSenderAllowed, isAppPage, navigationAllowed, permissionAllowed, withCsp } from './window-guards.ts';

const tmp = tempDir('guards-');
afterAll(() => tmp.cleanup());

describe('navigation and new windows', () => {
  it('keeps the window on the app: links away are refused, http(s) ones go to the system browser', () => {
    expect(navigationAllowed(RENDERER_URL)).toBe(true);
    expect(navigationAllowed('crr-desk://app/index.html?x=1')).toBe(true);
    for (const url of ['https://example.org/', 'file:///etc/passwd', 'crr-desk://other/index.html', 'crr-desk://app:99/', 'javascript:alert(1)', 'not a url'])
      expect(navigationAllowed(url), url).toBe(false);
    expect(externalTarget('https://example.org/a?b')).toBe('https://example.org/a?b');
    for (const url of ['http://example.org', 'https://user:pw@example.org/', 'file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'crr-desk://app/', '::'])
      expect(externalTarget(url), url).toBeNull();
  });
});

describe('IPC senders and permissions', () => {
  it('accepts calls only from the app page', () => {
    expect(isAppPage(RENDERER_URL)).toBe(true);
    expect(isAppPage('https://evil.example/')).toBe(false);
    expect(isAppPage('file:///work/out/renderer/index.html')).toBe(false);
    expect(isAppPage('crr-desk://user:pw@app/')).toBe(false);
    expect(isAppPage(undefined)).toBe(false);
    expect(isAppPage('')).toBe(false);
  });

  it('answers IPC only from the main frame showing the app page (not an iframe in it)', () => {
    expect(ipcSenderAllowed({ url: RENDERER_URL, isMainFrame: true })).toBe(true);
    expect(ipcSenderAllowed({ url: RENDERER_URL, isMainFrame: false })).toBe(false);
    expect(ipcSenderAllowed({ url: 'https://evil.example/', isMainFrame: true })).toBe(false);
    expect(ipcSenderAllowed(null)).toBe(false);
  });

  it('grants clipboard writing to the app page only, and nothing else', () => {
    expect(permissionAllowed('clipboard-sanitized-write', RENDERER_URL)).toBe(true);
    expect(permissionAllowed('clipboard-sanitized-write', 'crr-desk://app')).toBe(true);
    expect(permissionAllowed('clipboard-sanitized-write', 'https://evil.example/')).toBe(false);
    for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fileSystem'])
      expect(permissionAllowed(p, RENDERER_URL), p).toBe(false);
  });
});

describe('CSP', () => {
  it('replaces any spelling of the CSP header with the app\'s, keeping the other headers', () => {
    expect(withCsp({ 'content-security-policy': ["default-src *"], 'X-A': 'b' })).toEqual({ 'X-A': ['b'], 'Content-Security-Policy': [CSP] });
    expect(withCsp(undefined)).toEqual({ 'Content-Security-Policy': [CSP] });
  });
});

describe('the app scheme', () => {
  const root = join(tmp.dir, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<div id="app"></div>');
  writeFileSync(join(root, 'assets', 'a.js'), 'x');
  writeFileSync(join(tmp.dir, 'secret.txt'), 'secret');

  it('serves the renderer\'s files with the CSP, and index.html for unknown paths', () => {
    const page = rendererResponse(root, RENDERER_URL);
    expect(page).toMatchObject({ status: 200, file: join(root, 'index.html') });
    expect(page.headers['Content-Security-Policy']).toBe(CSP);
    expect(rendererResponse(root, 'crr-desk://app/assets/a.js')).toMatchObject({ status: 200, file: join(root, 'assets', 'a.js') });
    expect(rendererResponse(root, 'crr-desk://app/assets/a.js').headers['Content-Type']).toMatch(/javascript/);
    expect(rendererResponse(root, 'crr-desk://app/somewhere')).toMatchObject({ status: 200, file: join(root, 'index.html') });
  });

  it('serves nothing outside the renderer folder or for another host, and answers malformed paths', () => {
    // each gets index.html (the URL parser and normalize fold the dots away) or 403: never the file beside the folder
    for (const url of ['crr-desk://app/%2e%2e/secret.txt', 'crr-desk://app/..%2Fsecret.txt', 'crr-desk://app/..%2F..%2F' + tmp.dir + '/secret.txt', 'crr-desk://app/..%5Csecret.txt']) {
      const r = rendererResponse(root, url);
      expect('file' in r ? r.file : r.status, url).toSatisfy((v: unknown) => v === join(root, 'index.html') || v === 403);
    }
    expect(rendererResponse(root, 'crr-desk://other/index.html')).toMatchObject({ status: 404 });
    expect(rendererResponse(root, 'crr-desk://app/%E0%A4%A')).toMatchObject({ status: 400 });
    expect(rendererResponse(root, 'garbage')).toMatchObject({ status: 404 });
    expect(appUrl('crr-desk://app/x')?.pathname).toBe('/x');
  });

  it('says the renderer is not built when it is not', () => {
    const r = rendererResponse(join(tmp.dir, 'none'), RENDERER_URL);
    expect(r).toMatchObject({ status: 503 });
    expect('body' in r && r.body).toMatch(/npm run build:renderer/);
  });
});
