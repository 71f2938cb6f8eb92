// Where `npm start` finds Electron: the electron npm package, its version, and its binary the way
// the package's own index.js and install.js find it (dist/ + path.txt, or
// ELECTRON_OVERRIDE_DIST_PATH). CRR_ELECTRON_PACKAGE names another copy of the package (tests use
// one without a binary, so they never depend on or write to node_modules/electron).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface ElectronPackage {
  dir: string;
  version: string;
  /** Where the binary is, or would be once installed. */
  binary: string;
  installed: boolean;
  /** ELECTRON_OVERRIDE_DIST_PATH when set: the binary lives there, and install.js does not put it there. */
  overrideDist?: string;
}

/** The executable's path inside dist/, as install.js writes it to path.txt. */
export function platformBinary(platform: string): string | null {
  if (platform === 'darwin' || platform === 'mas') return 'Electron.app/Contents/MacOS/Electron';
  if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd') return 'electron';
  if (platform === 'win32') return 'electron.exe';
  return null;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The package and its install state, or why there is none. */
export function findElectronPackage(env: NodeJS.ProcessEnv, platform = process.platform): ElectronPackage | { missing: string } {
  let dir = env.CRR_ELECTRON_PACKAGE;
  if (!dir) {
    try {
      dir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
    } catch {
      return { missing: 'the electron package is not installed' };
    }
  }
  const pkg = read(join(dir, 'package.json'));
  if (pkg === null) return { missing: `${dir} holds no electron package` };
  const version = String(JSON.parse(pkg).version);
  const expected = platformBinary(env.ELECTRON_INSTALL_PLATFORM || env.npm_config_platform || platform);
  if (!expected) return { missing: `Electron has no build for this platform (${platform})` };
  const pathTxt = read(join(dir, 'path.txt'));
  const overrideDist = env.ELECTRON_OVERRIDE_DIST_PATH || undefined;
  if (overrideDist) {
    const binary = join(overrideDist, pathTxt ?? expected);
    return { dir, version, binary, installed: existsSync(binary), overrideDist };
  }
  const binary = join(dir, 'dist', pathTxt ?? expected);
  // install.js's own test: the unpacked version is this package's and path.txt names this platform's binary
  const distVersion = read(join(dir, 'dist', 'version'))?.trim().replace(/^v/, '');
  const installed = distVersion === version && pathTxt === expected && existsSync(binary);
  return { dir, version, binary, installed };
}
