// Electron's own first-use install (the package's install.js: @electron/get downloads the
// release zip into its cache, checks it against checksums.json, unpacks it into dist/), run with
// download-hook.mjs for a timeout and progress. Its settings are Electron's: ELECTRON_MIRROR,
// electron_config_cache, electron_use_remote_checksums, or the same as npm config
// (npm_config_electron_mirror, …); CRR_ELECTRON_DOWNLOAD_TIMEOUT is the hook's limit in seconds.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findElectronPackage, type ElectronPackage } from './electron-package.ts';

const HOOK = join(import.meta.dirname, 'download-hook.mjs');

/** Why this Node cannot run install.js (it require()s the ES module @electron/get), or null. */
export function nodeTooOld(version: string): string | null {
  const [major, minor] = version.replace(/^v/, '').split('.').map(Number);
  const ok = (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 23;
  return ok ? null : `Electron's installer needs Node 20.19+ or 22.12+, this is Node ${version.replace(/^v/, '')}`;
}

/**
 * The one line that says why install.js failed, from its stderr (it prints the error's stack):
 * the first "SomeError: message" line's message, else the last line that says anything.
 */
export function installFailure(stderr: string, code: number | null, signal: string | null): string {
  const lines = stderr.split(/\r?\n/).map((l) => l.trim());
  for (const line of lines) {
    const m = /^(?:[A-Za-z]*Error|Error \[\w+\])(?: \[\w+\])?: (.+)$/.exec(line);
    if (m) return m[1];
  }
  const last = lines.filter((l) => l && !l.startsWith('at ') && !l.startsWith('(node:')).pop();
  return last ?? (signal ? `its installer was stopped (${signal})` : `its installer exited with code ${code}`);
}

export interface InstallFailure {
  reason: string;
  retry: string;
}

const DOWNLOAD_RETRY =
  'run npm start again once the download host is reachable (ELECTRON_MIRROR=https://… picks a mirror, CRR_ELECTRON_DOWNLOAD_TIMEOUT=60 waits longer)';

/** Runs install.js; null once the binary is in place, else why it is not and how to retry. */
export async function installElectron(pkg: ElectronPackage, env: NodeJS.ProcessEnv): Promise<InstallFailure | null> {
  if (pkg.overrideDist)
    return { reason: `ELECTRON_OVERRIDE_DIST_PATH names ${pkg.overrideDist}, which holds no Electron binary`, retry: 'unset it or put the binary there' };
  const old = nodeTooOld(process.version);
  if (old) return { reason: old, retry: 'install a newer Node (see README, Prerequisites), then npm start' };
  console.log(`Electron ${pkg.version} is not installed yet: running its first-use install (${join(pkg.dir, 'install.js')})`);
  const child = spawn(process.execPath, ['--import', pathToFileURL(HOOK).href, join(pkg.dir, 'install.js')], {
    cwd: pkg.dir,
    // its own progress bar (shown after 30 s) is replaced by the hook's
    env: { ...env, ELECTRON_GET_NO_PROGRESS: '1' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 64_000) stderr += d;
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => {
    child.on('error', (err) => {
      stderr += `Error: ${err.message}\n`;
      resolve([null, null]);
    });
    child.on('exit', (c, s) => resolve([c, s]));
  });
  if (code !== 0) return { reason: `Electron ${pkg.version}'s first-use install failed: ${installFailure(stderr, code, signal)}`, retry: DOWNLOAD_RETRY };
  const after = findElectronPackage({ ...env, CRR_ELECTRON_PACKAGE: pkg.dir });
  if ('missing' in after || !after.installed)
    return { reason: `Electron's installer finished, yet there is no binary at ${pkg.binary}`, retry: `delete ${pkg.dir}, run npm install, then npm start` };
  return null;
}
