// For sync tests: headless peers as real separate processes on 127.0.0.1, mDNS off.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../crr/test-helpers.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface PeerProcess {
  proc: ChildProcess;
  lines: string[];
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** its exit code once it exits on its own (null: killed by a signal) */
  exited: Promise<number | null>;
}

/** A test's folder for its peers: `path(n)` a database file, `data(n)` a peer's data folder (created); `cleanup` removes it. */
export function peerFiles(prefix: string): { path: (name: string) => string; data: (name: string) => string; cleanup: () => void } {
  const t = tempDir(prefix);
  const data = (n: string) => {
    const d = join(t.dir, `data-${n}`);
    mkdirSync(d, { recursive: true });
    return d;
  };
  return { path: (n) => join(t.dir, `${n}.db`), data, cleanup: t.cleanup };
}

/** A headless peer on 127.0.0.1 (a random port unless `args` has its own --listen). */
export function spawnPeer(args: string[], dataDir: string, extraEnv: Record<string, string> = {}): PeerProcess {
  const listen = args.includes('--listen') ? [] : ['--listen', '/ip4/127.0.0.1/tcp/0'];
  const proc = spawn(process.execPath, ['--import', 'tsx', 'main/sync/peer-cli.ts', '--no-mdns', ...listen, '--data', dataDir, ...args], {
    cwd: ROOT,
    env: { ...process.env, CRR_NO_MDNS: '1', ...extraEnv },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let buffered = '';
  const onData = (d: Buffer) => {
    buffered += d.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
    waiters.forEach((w) => w());
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    lines,
    exited,
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const l of lines) {
            const m = l.match(pattern);
            if (m) {
              waiters.delete(check);
              clearTimeout(timer);
              resolve(m);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; output:\n${lines.join('\n')}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds, polling; throws naming `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}
