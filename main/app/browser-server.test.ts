// Issue 16.5, 16.6 and 16.7 against the real browser-mode server (npm run serve, its own process):
// no request, header or message may end it. Each crash the issue found is replayed first, then the
// server must still answer.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { tempDir } from '../crr/test-helpers.ts';

const tmp = tempDir('crr-server-');
let server: ChildProcess;
let url: URL;
let exited: string | null = null;
let output = '';

// one server per test: a crash in one must not hide the next
let n = 0;
beforeEach(async () => {
  exited = null;
  output = '';
  const file = join(tmp.dir, `s${++n}.db`);
  const db = new Database(file);
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT); INSERT INTO t VALUES (1, 'one')`);
  db.close();
  server = spawn(process.execPath, ['--import', 'tsx', 'main/app/serve.ts', file], {
    env: { ...process.env, CRR_DESK_DATA: join(tmp.dir, 'data'), CRR_NO_MDNS: '1', CRR_SYNC_LISTEN: '/ip4/127.0.0.1/tcp/0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.on('data', (d) => (output += d));
  server.stderr!.on('data', (d) => (output += d));
  const self = server;
  server.on('exit', (code, signal) => {
    if (server === self) exited = `exit ${code ?? signal}`;
  });
  url = new URL(
    await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /^URL: (\S+)$/m.exec(output);
        if (m) resolve(m[1]);
        if (m || exited) clearInterval(timer);
        if (exited) reject(new Error(`server ${exited}: ${output}`));
      }, 50);
    }),
  );
}, 60_000);

afterEach(() => {
  server?.kill('SIGKILL');
});
afterAll(() => tmp.cleanup());

const token = () => url.searchParams.get('token')!;
const origin = () => `http://${url.host}`;

/** A raw GET, so that the path reaches the server exactly as written. */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: url.port, path, headers: { host: url.host, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function stillServing(): Promise<void> {
  expect(exited).toBe(null);
  expect([200, 503]).toContain((await get('/')).status);
}

function openSocket(headers: Record<string, string> = { Origin: origin() }, path = `/api?token=${encodeURIComponent(token())}`): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${url.host}${path}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

const closed = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
const reply = (ws: WebSocket) => new Promise<Record<string, unknown>>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));

describe('the browser-mode server never dies on a request', () => {
  it('answers malformed URLs with 400 (they used to end the process: URIError from serveStatic)', async () => {
    for (const path of ['/%', '/%ZZ', '/%c0%ae%c0%ae/%c0%ae%c0%ae/package.json', '/a%', '/%E0%A4%A']) {
      expect((await get(path)).status, path).toBe(400);
    }
    await stillServing();
  });

  it('survives a WebSocket message over the limit (it died: RangeError: Max payload size exceeded)', async () => {
    const ws = await openSocket();
    const other = await openSocket();
    const done = closed(ws);
    ws.send('x'.repeat(5 * 1024 * 1024));
    expect((await done).code).toBe(1009);
    other.send(JSON.stringify({ id: 1, method: 'listTables', params: {} }));
    expect((await reply(other)).result).toEqual([{ name: 't', rowEstimate: 1, isCrr: false }]);
    other.close();
    await stillServing();
  });

  it('survives a text frame that is not UTF-8', async () => {
    const s = tcpConnect({ host: '127.0.0.1', port: Number(url.port) });
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.write(
      `GET /api?token=${encodeURIComponent(token())} HTTP/1.1\r\nHost: ${url.host}\r\nOrigin: ${origin()}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await new Promise((r) => {
      s.once('data', r);
      s.once('close', r);
    });
    // a masked text frame (opcode 1) holding 0xff 0xfe: never valid UTF-8
    const mask = [1, 2, 3, 4];
    s.write(Buffer.from([0x81, 0x82, ...mask, 0xff ^ 1, 0xfe ^ 2]));
    await new Promise((r) => s.once('close', r));
    await stillServing();
    const ws = await openSocket();
    ws.send(JSON.stringify({ id: 2, method: 'currentDatabase', params: {} }));
    expect((await reply(ws)).result).toMatchObject({ name: `s${n}.db` });
    ws.close();
  });

  it('accepts the API only from its own Origin and a loopback Host (DNS rebinding)', async () => {
    await expect(openSocket({ Origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(openSocket({ Origin: `http://127.0.0.1:${Number(url.port) + 1}` })).rejects.toThrow(/403/);
    await expect(openSocket({})).rejects.toThrow(/403/);
    await expect(openSocket({ Origin: `http://evil.example:${url.port}`, Host: `evil.example:${url.port}` })).rejects.toThrow(/403/);
    expect((await get('/', { host: `evil.example:${url.port}` })).status).toBe(403);
    const ok = await openSocket({ Origin: `http://localhost:${url.port}`, Host: `localhost:${url.port}` });
    ok.close();
    await stillServing();
  });
});
