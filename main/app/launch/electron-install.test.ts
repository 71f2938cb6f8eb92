// Electron's own install.js, run for real on a copy of the package against mirrors on 127.0.0.1:
// refused, stalled, empty, serving a release that fails the package's checksums, serving a good one.
import { describe, it, expect, afterAll } from 'vitest';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../crr/test-helpers.ts';
import { electronPackageCopy, electronVersion, startMirror, unreachableMirror } from './fake-electron.ts';
import { findElectronPackage, type ElectronPackage } from './electron-package.ts';
import { installElectron, installFailure, nodeTooOld } from './electron-install.ts';

const tmp = tempDir('electron-install-');
afterAll(() => tmp.cleanup());
let n = 0;

function fresh(): { pkg: ElectronPackage; env: NodeJS.ProcessEnv } {
  const dir = join(tmp.dir, String(n++));
  const env: NodeJS.ProcessEnv = { ...process.env, CRR_ELECTRON_PACKAGE: electronPackageCopy(dir), electron_config_cache: join(dir, 'cache') };
  delete env.ELECTRON_OVERRIDE_DIST_PATH;
  const pkg = findElectronPackage(env);
  if ('missing' in pkg) throw new Error(pkg.missing);
  return { pkg, env };
}

const zipName = `electron-v${electronVersion}-${process.platform}-${process.arch}.zip`;

describe('first-use install', () => {
  it('fails fast on a refused connection, naming its cause and the URL', async () => {
    const { pkg, env } = fresh();
    const mirror = await unreachableMirror();
    const failed = await installElectron(pkg, { ...env, ELECTRON_MIRROR: mirror });
    expect(failed?.reason).toBe(`Electron ${electronVersion}'s first-use install failed: connect ECONNREFUSED ${new URL(mirror).host} (${mirror}v${electronVersion}/${zipName})`);
    expect(failed?.retry).toMatch(/npm start again .*ELECTRON_MIRROR/);
  });

  it('gives up on a mirror that never answers after CRR_ELECTRON_DOWNLOAD_TIMEOUT seconds', async () => {
    const { pkg, env } = fresh();
    const mirror = await startMirror('stall');
    try {
      const failed = await installElectron(pkg, { ...env, ELECTRON_MIRROR: mirror.url, CRR_ELECTRON_DOWNLOAD_TIMEOUT: '1' });
      expect(failed?.reason).toMatch(/install failed: no data for 1 s \(CRR_ELECTRON_DOWNLOAD_TIMEOUT sets the limit\) from http:\/\/127\.0\.0\.1:\d+\//);
      expect(mirror.requests).toEqual([`/v${electronVersion}/${zipName}`]);
    } finally {
      await mirror.close();
    }
  });

  it('passes on an HTTP error as the installer words it', async () => {
    const { pkg, env } = fresh();
    const mirror = await startMirror('empty');
    try {
      const failed = await installElectron(pkg, { ...env, ELECTRON_MIRROR: mirror.url });
      expect(failed?.reason).toBe(`Electron ${electronVersion}'s first-use install failed: Response code 404 (Not Found) for ${mirror.url}v${electronVersion}/${zipName}`);
    } finally {
      await mirror.close();
    }
  });

  it('refuses a release that does not match the package\'s checksums', async () => {
    const { pkg, env } = fresh();
    const mirror = await startMirror('serve');
    try {
      const failed = await installElectron(pkg, { ...env, ELECTRON_MIRROR: mirror.url });
      expect(failed?.reason).toMatch(new RegExp(`install failed: Generated checksum for "${zipName}" did not match expected checksum`));
      expect(findElectronPackage(env)).toMatchObject({ installed: false });
    } finally {
      await mirror.close();
    }
  });

  it('downloads, checks and unpacks a release: the binary is then installed and executable', async () => {
    const { pkg, env } = fresh();
    const mirror = await startMirror('serve');
    try {
      // the stand-in's checksum is the mirror's own SHASUMS256.txt, as Electron's option allows
      expect(await installElectron(pkg, { ...env, ELECTRON_MIRROR: mirror.url, electron_use_remote_checksums: '1' })).toBeNull();
      expect(findElectronPackage(env)).toMatchObject({ installed: true, binary: join(pkg.dir, 'dist', 'electron') });
      expect(statSync(pkg.binary).mode & 0o111).not.toBe(0);
      expect(mirror.requests).toEqual([`/v${electronVersion}/${zipName}`, `/v${electronVersion}/SHASUMS256.txt`]);
    } finally {
      await mirror.close();
    }
  });

  it('does not download into the package when ELECTRON_OVERRIDE_DIST_PATH names the binary\'s place', async () => {
    const { env } = fresh();
    const pkg = findElectronPackage({ ...env, ELECTRON_OVERRIDE_DIST_PATH: join(tmp.dir, 'elsewhere') }) as ElectronPackage;
    expect((await installElectron(pkg, env))?.reason).toBe(`ELECTRON_OVERRIDE_DIST_PATH names ${join(tmp.dir, 'elsewhere')}, which holds no Electron binary`);
  });
});

describe('reading the installer\'s failure', () => {
  it('takes the first error line of its stack, or its last line, or its exit', () => {
    const stack = 'DownloadError: connect ECONNREFUSED 127.0.0.1:1 (http://x/y.zip)\n    at describe (file:///hook.mjs:16:24)\n    at async x\n';
    expect(installFailure(stack, 1, null)).toBe('connect ECONNREFUSED 127.0.0.1:1 (http://x/y.zip)');
    const esm = "/x/install.js:3\nconst { downloadArtifact } = require('@electron/get');\n\nError [ERR_REQUIRE_ESM]: require() of ES Module /x/index.js not supported.\n";
    expect(installFailure(esm, 1, null)).toBe('require() of ES Module /x/index.js not supported.');
    expect(installFailure('(node:1) Warning: x\nsomething odd happened\n', 1, null)).toBe('something odd happened');
    expect(installFailure('', 3, null)).toBe('its installer exited with code 3');
    expect(installFailure('', null, 'SIGKILL')).toBe('its installer was stopped (SIGKILL)');
  });

  it('knows which Node versions can run install.js (it require()s an ES module)', () => {
    for (const v of ['v20.19.0', 'v20.20.2', 'v22.12.0', 'v24.1.0']) expect(nodeTooOld(v), v).toBeNull();
    for (const v of ['v20.18.1', 'v22.11.0', 'v21.7.3', 'v18.20.0']) expect(nodeTooOld(v), v).toMatch(/needs Node 20\.19\+ or 22\.12\+/);
  });
});
