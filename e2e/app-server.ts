// Starts the real browser-mode server (npm run serve) on a file of the test's, in a temp data
// folder, and stops it afterwards.
import { test } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AppServer {
  url: string;
  dataDir: string;
  /** the server's process (for measuring it) */
  pid: number;
  stop(): void;
}

export async function startAppServer(file?: string): Promise<AppServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'crr-e2e-'));
  const child: ChildProcess = spawn('node', ['--import', 'tsx', 'main/app/serve.ts', ...(file ? [file] : [])], {
    env: { ...process.env, CRR_DESK_DATA: dataDir, CRR_NO_MDNS: '1', CRR_SYNC_LISTEN: '/ip4/127.0.0.1/tcp/0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server printed no URL: ${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /^URL: (\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
  return {
    url,
    dataDir,
    pid: child.pid!,
    stop: () => {
      child.kill('SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One browser-mode server for the tests of a describe block (on `file`, or the demo database). */
export function useAppServer(file?: () => string): { readonly url: string; readonly dataDir: string; readonly pid: number } {
  let server: AppServer | undefined;
  test.beforeAll(async () => {
    server = await startAppServer(file?.());
  });
  test.afterAll(() => server?.stop());
  return {
    get url() {
      return server!.url;
    },
    get dataDir() {
      return server!.dataDir;
    },
    get pid() {
      return server!.pid;
    },
  };
}
