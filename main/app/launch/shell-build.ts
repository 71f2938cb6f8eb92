// The built pieces the shells load (out/): each is rebuilt by its npm script when an output is
// missing or older than any of its sources, so `npm start` after a `git pull` runs what was pulled.
// One build at a time per piece across processes (two servers starting together, tests in
// parallel): the others wait for it, then find the piece fresh.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface BuildStep {
  /** What it is, for messages. */
  name: string;
  /** The npm script that builds it, and extra arguments for it. */
  script: string;
  args?: string[];
  outputs: string[];
  /** Files and folders (searched recursively; tests and dot files left out), relative to the root. */
  sources: string[];
}

export const ELECTRON_SHELL: BuildStep = {
  name: 'the Electron shell',
  script: 'build:electron',
  outputs: ['out/main/electron-main.cjs', 'out/preload/preload.cjs'],
  sources: ['main', 'shared', 'scripts/build-electron.mjs', 'package-lock.json'],
};

export const RENDERER: BuildStep = {
  name: 'the renderer',
  script: 'build:renderer',
  args: ['--logLevel', 'warn'],
  outputs: ['out/renderer/index.html'],
  sources: ['renderer', 'shared', 'vite.config.ts', 'package-lock.json'],
};

function mtime(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** The newest source file under `path` (itself when a file), or null when there is none. */
function newest(path: string): { file: string; mtime: number } | null {
  let best: { file: string; mtime: number } | null = null;
  let st;
  try {
    st = statSync(path);
  } catch {
    return null;
  }
  if (st.isFile()) return { file: path, mtime: st.mtimeMs };
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules' || /\.test\.ts$/.test(entry.name)) continue;
    const found = newest(join(path, entry.name));
    if (found && (!best || found.mtime > best.mtime)) best = found;
  }
  return best;
}

/** Why `step` needs building under `root`, or null when its outputs are newer than all its sources. */
export function staleness(step: BuildStep, root: string): string | null {
  let oldest: { file: string; mtime: number } | null = null;
  for (const out of step.outputs) {
    const t = mtime(join(root, out));
    if (t === null) return `${out} is missing`;
    if (!oldest || t < oldest.mtime) oldest = { file: out, mtime: t };
  }
  for (const src of step.sources) {
    const found = newest(join(root, src));
    if (found && oldest && found.mtime > oldest.mtime) return `${found.file.slice(root.length + 1)} is newer than ${oldest.file}`;
  }
  return null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `fn` holding the lock file `path` (it holds our pid); waits while a live process holds it. */
function withLock<T>(path: string, fn: () => T): T {
  mkdirSync(dirname(path), { recursive: true });
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder = NaN;
    let age = 0;
    try {
      holder = Number(readFileSync(path, 'utf8'));
      age = Date.now() - statSync(path).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    // a holder that died, or one that never wrote its pid within a minute: the lock is abandoned
    if ((holder > 0 && !alive(holder)) || (!(holder > 0) && age > 60_000)) rmSync(path, { force: true });
    else Atomics.wait(nap, 0, 0, 100);
  }
  try {
    return fn();
  } finally {
    rmSync(path, { force: true });
  }
}

/** Builds `step` when it is stale; null when it is fresh afterwards, else why not. */
export function buildIfStale(step: BuildStep, root: string): string | null {
  if (!staleness(step, root)) return null;
  return withLock(join(root, 'out', `.${step.script.replace(/\W/g, '-')}.lock`), () => build(step, root));
}

function build(step: BuildStep, root: string): string | null {
  // another process may have built it while this one waited
  const why = staleness(step, root);
  if (!why) return null;
  console.log(`Building ${step.name} (${why}): npm run ${step.script}`);
  const r = spawnSync('npm', ['run', '--silent', step.script, ...(step.args ? ['--', ...step.args] : [])], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  if (r.status !== 0) return `building ${step.name} failed (npm run ${step.script} ${r.error ? r.error.message : `exited with ${r.status ?? r.signal}`})`;
  // outputs present is enough: a source stamped in the future (clock skew) must not fail the build
  const absent = step.outputs.find((out) => mtime(join(root, out)) === null);
  return absent ? `building ${step.name} did not write ${absent}` : null;
}
