import { describe, it, expect, afterAll, beforeAll } from 'vitest';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startBrowserHost, type BrowserHost } from './browser-host.ts';
import { tempDir } from '../crr/test-helpers.ts';
import { FRAME_CHARS, Reassembler, toFrames } from '../../shared/bridge-chunks.ts';

const tmp = tempDir('bridge-');
let host: BrowserHost;
beforeAll(async () => {
  const path = join(tmp.dir, 'b.db');
  const db = new Database(path);
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT); INSERT INTO t VALUES (1, 'one');`);
  db.close();
  host = await startBrowserHost({ file: path });
});
afterAll(async () => {
  await host.close();
  tmp.cleanup();
});

const apiUrl = (token: string | null) => {
  const u = new URL(host.url);
  return `ws://${u.host}/api${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;
};
const token = () => new URL(host.url).searchParams.get('token')!;

function connect(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // the page's own origin, as a browser sends it
    const ws = new WebSocket(url, { headers: { Origin: new URL(host.url).origin } });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

function next(ws: WebSocket): Promise<{ id?: number; result?: unknown; error?: { code: string; message: string }; event?: string }> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))));
}

describe('browser-mode bridge', () => {
  it('listens on 127.0.0.1 only', () => {
    expect(new URL(host.url).hostname).toBe('127.0.0.1');
    expect(token().length).toBeGreaterThanOrEqual(32);
  });

  it('refuses a connection without the token or with a wrong one', async () => {
    await expect(connect(apiUrl(null))).rejects.toThrow(/401/);
    await expect(connect(apiUrl('wrong-token'))).rejects.toThrow(/401/);
    await expect(connect(apiUrl(token().slice(1)))).rejects.toThrow(/401/);
  });

  it('answers calls, replies to malformed messages with an error, and keeps serving', async () => {
    const ws = await connect(apiUrl(token()));
    const other = await connect(apiUrl(token()));
    ws.send(JSON.stringify({ id: 1, method: 'listTables', params: {} }));
    expect(await next(ws)).toEqual({ id: 1, result: [{ name: 't', rowEstimate: 1, isCrr: false }] });
    ws.send('{not json');
    expect((await next(ws)).error?.code).toBe('invalid-argument');
    ws.send(JSON.stringify({ id: 2, method: 'dropEverything', params: {} }));
    expect(await next(ws)).toMatchObject({ id: 2, error: { code: 'not-found' } });
    ws.send(JSON.stringify({ id: 3, method: 'readRows', params: { table: 't', offset: -1, limit: 5 } }));
    expect(await next(ws)).toMatchObject({ id: 3, error: { code: 'invalid-argument' } });
    other.send(JSON.stringify({ id: 9, method: 'readRows', params: { table: 't', offset: 0, limit: 5 } }));
    expect(await next(other)).toEqual({ id: 9, result: { columns: ['id', 'v'], offset: 0, rows: [{ key: [{ i: '1' }], values: [{ i: '1' }, 'one'] }], atEnd: true } });
    ws.close();
    other.close();
  });

  it('pushes rowsChanged events to connected pages', async () => {
    const ws = await connect(apiUrl(token()));
    ws.send(JSON.stringify({ id: 1, method: 'enableCrr', params: { table: 't' } }));
    const messages: { id?: number; event?: string }[] = [];
    await new Promise<void>((resolve) => {
      ws.on('message', (d) => {
        messages.push(JSON.parse(String(d)));
        if (messages.some((m) => m.id === 1)) resolve();
      });
    });
    const changed = new Promise((resolve) => ws.on('message', (d) => JSON.parse(String(d)).event === 'rowsChanged' && resolve(JSON.parse(String(d)))));
    ws.send(JSON.stringify({ id: 2, method: 'updateCell', params: { table: 't', key: [{ i: '1' }], column: 'v', value: 'uno' } }));
    expect(await changed).toMatchObject({ event: 'rowsChanged', payload: { tables: ['t'], origin: 'local' } });
    ws.close();
  });

  it('serves pages with a strict CSP and never files outside the renderer folder', async () => {
    const res = await fetch(new URL('/../../package.json', host.url));
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(await res.text()).not.toMatch(/"dependencies"/);
  });

  it('carries messages of any size in chunks both ways: a 6 MB CSV imported whole, its rows read back whole', async () => {
    const ws = await connect(apiUrl(token()));
    const lines = ['id,text'];
    for (let i = 0; i < 60_000; i++) lines.push(`${i},"line ${i} ${'é'.repeat(40)} ""quoted"" ${'\\'.repeat(3)}"`);
    const csv = lines.join('\n') + '\n';
    expect(Buffer.byteLength(csv)).toBeGreaterThan(5 * 1024 * 1024);
    const inbox = new Reassembler();
    const replies: Record<string, unknown>[] = [];
    ws.on('message', (d) => {
      const m = inbox.accept(String(d)) as Record<string, unknown> | undefined;
      if (m && 'id' in m) replies.push(m);
    });
    const reply = async (id: number) => {
      while (!replies.some((r) => r.id === id)) await new Promise((r) => setTimeout(r, 20));
      return replies.find((r) => r.id === id)!;
    };
    const frames = toFrames(JSON.stringify({ id: 1, method: 'importCsv', params: { table: 'big', create: true, csv, header: true } }), 1);
    expect(frames.length).toBeGreaterThan(8);
    for (const f of frames) ws.send(f);
    expect(await reply(1)).toEqual({ id: 1, result: { inserted: 60_000 } });
    // a reply past one frame: 10,000 rows of it (the most one window reads)
    ws.send(JSON.stringify({ id: 2, method: 'readRows', params: { table: 'big', offset: 0, limit: 10_000 } }));
    const window = (await reply(2)).result as { rows: { values: unknown[] }[] };
    expect(JSON.stringify(window).length).toBeGreaterThan(FRAME_CHARS);
    expect(window.rows.map((r) => `${(r.values[0] as { i: string }).i},"${String(r.values[1]).replace(/"/g, '""')}"`)).toEqual(lines.slice(1, 10_001));
    // and all of it as the file export writes it: the text imported, whole
    const out = join(tmp.dir, 'big.csv');
    ws.send(JSON.stringify({ id: 4, method: 'exportRows', params: { table: 'big', format: 'csv', path: out } }));
    expect(await reply(4)).toMatchObject({ id: 4, result: { rows: 60_000 } });
    expect(readFileSync(out, 'utf8').replace(/\r\n/g, '\n')).toBe(csv);
    // a chunk out of order is refused with the chunk's id, and the connection goes on
    ws.send(JSON.stringify({ chunk: 7, part: 1, parts: 3, data: 'x' }));
    await new Promise((r) => setTimeout(r, 200));
    ws.send(JSON.stringify({ id: 3, method: 'currentDatabase', params: {} }));
    expect((await reply(3)).result).toMatchObject({ name: 'b.db' });
    ws.close();
  });
});
