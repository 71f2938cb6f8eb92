// Runs `npm start` as a user would. Where Electron cannot start it must say why in one line,
// fall back to browser mode and serve the page at the URL it prints; where it can (a stand-in
// binary here: Electron itself cannot run on these machines) it installs it on first use from
// the mirror, builds the shell and launches it on the user's file. Every Electron package these
// runs see is a temp copy and every mirror is on 127.0.0.1: nothing touches node_modules/electron
// or the internet, whatever this machine has installed.
import { describe, it, expect, afterAll, afterEach } from 'vitest';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from '../crr/test-helpers.ts';
import { electronPackageCopy, electronVersion, installStandIn, standInRuns, startMirror, unreachableMirror } from './launch/fake-electron.ts';
import { ELECTRON_SHELL, staleness } from './launch/shell-build.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ELECTRON_MAIN = join(ROOT, 'out', 'main', 'electron-main.cjs');
const tmp = tempDir('start-');
afterAll(() => tmp.cleanup());
let n = 0;

/** A fresh copy of the electron package (no binary) and its download cache. */
function electronCopy(): { CRR_ELECTRON_PACKAGE: string; electron_config_cache: string } {
  const dir = join(tmp.dir, `electron-${n++}`);
  return { CRR_ELECTRON_PACKAGE: electronPackageCopy(dir), electron_config_cache: join(dir, 'cache') };
}

function smallDatabase(): string {
  const path = join(tmp.dir, `small-${n++}.db`);
  const db = new Database(path);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'one')");
  db.close();
  return path;
}

interface StartRun {
  out: string;
  /** The browser-mode URL, when it fell back. */
  url?: string;
  /** The exit status, when it exited (it keeps running when it serves browser mode). */
  code?: number | null;
}

const running: (() => void)[] = [];
afterEach(() => running.splice(0).forEach((stop) => stop()));

/** `npm start -- ...args` from `cwd` until it prints the browser-mode URL (stopped after the test) or exits. */
async function npmStart(args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<StartRun> {
  const base = { ...process.env };
  for (const k of ['ELECTRON_OVERRIDE_DIST_PATH', 'ELECTRON_MIRROR', 'CRR_ELECTRON_PACKAGE', 'electron_use_remote_checksums']) delete base[k];
  const child = spawn('npm', ['start', '--silent', ...(args.length ? ['--', ...args] : [])], {
    cwd,
    env: { ...base, CRR_DESK_DATA: join(tmp.dir, 'data'), CRR_NO_MDNS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.push(() => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // it exited already
    }
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise<StartRun>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start neither served nor exited: ${out}`)), 50_000);
    child.stdout.on('data', () => {
      const m = /^URL: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ out, url: m[1] });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ out, code });
    });
  });
}

async function expectServes(url: string | undefined): Promise<void> {
  expect(url).toBeDefined();
  const res = await fetch(url!);
  expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
  expect(res.status).toBe(200);
  expect(await res.text()).toMatch(/<div id="app"><\/div>/);
}

const FALLBACK = /^Electron cannot start here: (.+); to retry, (.+)\. Falling back to browser mode\.$/m;

describe('npm start', () => {
  it('falls back to browser mode with a clear line and serves the demo database', async () => {
    const run = await npmStart([], { DISPLAY: '', WAYLAND_DISPLAY: '' });
    expect(run.out).toMatch(/^Electron cannot start here: .+\. Falling back to browser mode\.$/m);
    expect(FALLBACK.exec(run.out)?.slice(1)).toEqual(['there is no display (DISPLAY and WAYLAND_DISPLAY are unset)', 'run npm start in a graphical session']);
    await expectServes(run.url);
  }, 60_000);

  it('without the Electron binary runs its install; a failed download is the one-line reason, then browser mode', async () => {
    const mirror = await unreachableMirror();
    const zip = `${mirror}v${electronVersion}/electron-v${electronVersion}-${process.platform}-${process.arch}.zip`;
    const run = await npmStart([smallDatabase()], { ...electronCopy(), ELECTRON_MIRROR: mirror, DISPLAY: ':99' });
    expect(run.out).toMatch(new RegExp(`^Electron ${electronVersion} is not installed yet: running its first-use install`, 'm'));
    const [reason, retry] = FALLBACK.exec(run.out)!.slice(1);
    expect(reason).toBe(`Electron ${electronVersion}'s first-use install failed: connect ECONNREFUSED ${new URL(mirror).host} (${zip})`);
    expect(retry).toMatch(/^run npm start again once the download host is reachable \(ELECTRON_MIRROR=/);
    expect(run.out.split('\n').filter((l) => l.startsWith('Electron cannot start here'))).toHaveLength(1);
    await expectServes(run.url);
  }, 60_000);

  it('downloads Electron on first use with progress, builds the shell, and launches it on the file named from the user\'s folder', async () => {
    const mirror = await startMirror('serve');
    const log = join(tmp.dir, 'download-launch.log');
    try {
      // run from main/: npm runs the script in the package root, the relative path is from main/
      const run = await npmStart(
        ['some dir/file.db'],
        { ...electronCopy(), ELECTRON_MIRROR: mirror.url, electron_use_remote_checksums: '1', DISPLAY: ':99', CRR_FAKE_ELECTRON_LOG: log },
        join(ROOT, 'main'),
      );
      expect(run.out).toMatch(new RegExp(`^Downloading electron-v${electronVersion}-${process.platform}-${process.arch}\\.zip \\(1 kB\\) from 127\\.0\\.0\\.1:\\d+$`, 'm'));
      expect(run.out).not.toMatch(/Falling back/);
      expect(run.code).toBe(0);
      expect(standInRuns(log)).toEqual([[ELECTRON_MAIN, join(ROOT, 'main', 'some dir', 'file.db')]]);
      expect(staleness(ELECTRON_SHELL, ROOT)).toBeNull();
    } finally {
      await mirror.close();
    }
  }, 60_000);

  it('launches an installed Electron without downloading, and exits with its status', async () => {
    const env = electronCopy();
    installStandIn(env.CRR_ELECTRON_PACKAGE);
    const log = join(tmp.dir, 'installed-launch.log');
    const run = await npmStart(['/abs/x.db', '--port', '8080'], { ...env, ELECTRON_MIRROR: await unreachableMirror(), DISPLAY: ':99', CRR_FAKE_ELECTRON_LOG: log, CRR_FAKE_ELECTRON_EXIT: '5' });
    expect(run.out).not.toMatch(/not installed yet|Falling back/);
    expect(run.code).toBe(5);
    expect(standInRuns(log)).toEqual([[ELECTRON_MAIN, '/abs/x.db', '--port', '8080']]);
  }, 60_000);

  it('falls back when Electron exits before it comes up, quoting why', async () => {
    const env = electronCopy();
    installStandIn(env.CRR_ELECTRON_PACKAGE);
    const why = 'electron: error while loading shared libraries: libnss3.so: cannot open shared object file: No such file or directory';
    const run = await npmStart([smallDatabase()], { ...env, DISPLAY: ':99', CRR_FAKE_ELECTRON_FAIL: why });
    expect(FALLBACK.exec(run.out)?.slice(1)).toEqual([`Electron exited before it came up (exit code 127): ${why}`, 'fix that, then npm start']);
    await expectServes(run.url);
  }, 60_000);
});
