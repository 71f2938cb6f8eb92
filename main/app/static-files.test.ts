// The browser-mode server answers request lines that are no URL (`GET //`) or carry broken
// escapes, and keeps serving: it once threw in its request handler and the whole process stopped.
import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../crr/test-helpers.ts';

const tmp = tempDir('static-');
afterAll(() => tmp.cleanup());

function rawGet(port: number, target: string): Promise<string> {
  return new Promise((resolve) => {
    let reply = '';
    const s = connect(port, '127.0.0.1', () => s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`));
    s.on('data', (d) => (reply += d));
    s.on('error', () => resolve(reply));
    s.on('close', () => resolve(reply));
  });
}

describe('browser-mode static files', () => {
  it('answers `GET //` and a broken escape with 400 and goes on serving', async () => {
    const file = join(tmp.dir, 's.db');
    const db = new Database(file);
    db.exec('CREATE TABLE t (a)');
    db.close();
    const child = spawn('node', ['--import', 'tsx', 'main/app/serve.ts', file], {
      env: { ...process.env, CRR_DESK_DATA: tmp.dir, CRR_NO_MDNS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stderr.on('data', (d) => (out += d));
    try {
      const url = await new Promise<URL>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          const m = /^URL: (\S+)$/m.exec(out);
          if (m) resolve(new URL(m[1]));
        });
        child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
      });
      const port = Number(url.port);
      expect(await rawGet(port, '//')).toMatch(/^HTTP\/1\.1 400 /);
      expect(await rawGet(port, '/%E0%A4%A')).toMatch(/^HTTP\/1\.1 400 /);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    } finally {
      child.kill('SIGTERM');
    }
  }, 60_000);
});
