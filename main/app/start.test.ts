// Runs `npm start` as a user would on this machine (no Electron binary): it must say so in one
// line, fall back to browser mode, and serve the page at the URL it prints.
import { describe, it, expect, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import { tempDir } from '../crr/test-helpers.ts';

const tmp = tempDir('start-');
afterAll(() => tmp.cleanup());

describe('npm start', () => {
  it('falls back to browser mode with a clear line and serves the demo database', async () => {
    const child = spawn('npm', ['start', '--silent'], {
      env: { ...process.env, CRR_DESK_DATA: tmp.dir, CRR_NO_MDNS: '1', DISPLAY: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL line in: ${out}`)), 45_000);
        child.stdout.on('data', () => {
          const m = /^URL: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        });
      });
      expect(out).toMatch(/^Electron cannot start here: .+\. Falling back to browser mode\.$/m);
      const res = await fetch(url);
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/<div id="app"><\/div>/);
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
    }
  }, 60_000);
});
