import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../crr/test-helpers.ts';
import { electronPackageCopy, electronVersion, installStandIn } from './fake-electron.ts';
import { findElectronPackage, platformBinary } from './electron-package.ts';

const tmp = tempDir('electron-pkg-');
afterAll(() => tmp.cleanup());
let n = 0;
const copy = () => electronPackageCopy(join(tmp.dir, String(n++)));

describe('finding Electron', () => {
  it('reports the package without a binary as not installed, with where the binary goes', () => {
    const dir = copy();
    expect(findElectronPackage({ CRR_ELECTRON_PACKAGE: dir }, 'linux')).toEqual({ dir, version: electronVersion, binary: join(dir, 'dist', 'electron'), installed: false });
  });

  it('reports an unpacked binary of this version as installed, as install.js judges it', () => {
    const dir = copy();
    const binary = installStandIn(dir);
    expect(findElectronPackage({ CRR_ELECTRON_PACKAGE: dir }, 'linux')).toMatchObject({ binary, installed: true });
    // another version unpacked, or path.txt naming another platform's binary: install again
    writeFileSync(join(dir, 'dist', 'version'), 'v1.0.0');
    expect(findElectronPackage({ CRR_ELECTRON_PACKAGE: dir }, 'linux')).toMatchObject({ installed: false });
    writeFileSync(join(dir, 'dist', 'version'), `v${electronVersion}`);
    expect(findElectronPackage({ CRR_ELECTRON_PACKAGE: dir }, 'linux')).toMatchObject({ installed: true });
    writeFileSync(join(dir, 'path.txt'), 'electron.exe');
    expect(findElectronPackage({ CRR_ELECTRON_PACKAGE: dir }, 'linux')).toMatchObject({ installed: false });
  });

  it('follows ELECTRON_OVERRIDE_DIST_PATH as the package\'s index.js does', () => {
    const dir = copy();
    const dist = join(tmp.dir, 'custom-dist');
    mkdirSync(dist, { recursive: true });
    const env = { CRR_ELECTRON_PACKAGE: dir, ELECTRON_OVERRIDE_DIST_PATH: dist };
    expect(findElectronPackage(env, 'linux')).toMatchObject({ binary: join(dist, 'electron'), installed: false, overrideDist: dist });
    writeFileSync(join(dist, 'electron'), '');
    expect(findElectronPackage(env, 'linux')).toMatchObject({ installed: true });
  });

  it('says what is missing when there is no package or no build for the platform', () => {
    expect(findElectronPackage({ CRR_ELECTRON_PACKAGE: join(tmp.dir, 'nothing') }, 'linux')).toEqual({ missing: `${join(tmp.dir, 'nothing')} holds no electron package` });
    expect(findElectronPackage({ CRR_ELECTRON_PACKAGE: copy() }, 'aix')).toEqual({ missing: 'Electron has no build for this platform (aix)' });
    expect(platformBinary('darwin')).toBe('Electron.app/Contents/MacOS/Electron');
    expect(platformBinary('win32')).toBe('electron.exe');
  });

  it('finds the installed package by default', () => {
    const found = findElectronPackage({}, 'linux');
    expect(found).toMatchObject({ version: electronVersion });
  });
});
