// Counter and text columns over real sync: two headless peers in two processes on 127.0.0.1, the
// writes made by plain SQLite connections to their files (as the sqlite3 CLI would). Concurrent
// +5 and −3 give +2 on both; edits at the start and at the end of one text are both kept; a
// counter renamed on one while the other adjusts it offline stays a counter on both. The
// wire codec carries contributions and text states (kind) and refuses a malformed one.
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { installCrr } from '../crr/index.ts';
import { decodeChanges, encodeChanges, JSON_FORM, ProtocolError } from './change-codec.ts';
import { encodeFrame, FrameReader } from './frames.ts';
import { peerFiles, spawnPeer, until, type PeerProcess } from './test-peers.ts';

function read(path: string): { stock: unknown; descr: unknown } | undefined {
  const db = new Database(path, { timeout: 10_000 });
  try {
    const exists = db.prepare(`SELECT 1 FROM sqlite_schema WHERE name = 'items'`).get();
    return exists ? (db.prepare('SELECT stock, descr FROM items WHERE id = 1').safeIntegers(true).get() as { stock: unknown; descr: unknown }) : undefined;
  } finally {
    db.close();
  }
}

function write(path: string, sql: string): void {
  const db = new Database(path, { timeout: 10_000 });
  try {
    db.prepare(sql).run();
  } finally {
    db.close();
  }
}

/** JSON with bigints as strings, to compare and show rows */
const show = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? String(x) : x));

describe('counter and text columns over sync', () => {
  const peers: PeerProcess[] = [];
  let cleanup = () => {};
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.stop('SIGKILL')));
    cleanup();
  });

  it('the wire codec (and the file\'s form of held changes) carries contributions and text states, and refuses an unknown kind', () => {
    const base = { table: 'items', pk: Uint8Array.of(1, 9, 1), cid: 'stock', col_version: 3, db_version: 7, site_id: new Uint8Array(16).fill(5), cl: 1, seq: 0 };
    const changes = [
      { ...base, val: -3n, kind: 'counter' as const },
      { ...base, cid: 'descr', val: Uint8Array.of(1, 2, 3), kind: 'text' as const },
      { ...base, cid: 'descr', val: 'plain', parent: null, written_at: null, resolves: null },
    ];
    const forms = [
      { form: undefined, wire: () => new FrameReader().push(encodeFrame(encodeChanges(changes)))[0] as { rows: unknown[][] } },
      { form: JSON_FORM, wire: () => JSON.parse(JSON.stringify(encodeChanges(changes, JSON_FORM))) },
    ];
    for (const { form, wire: encoded } of forms) {
      const wire = encoded();
      const back = decodeChanges(wire, form);
      expect(back[0]).toMatchObject({ kind: 'counter', val: -3n, col_version: 3 });
      expect(back[1]).toMatchObject({ kind: 'text', val: Uint8Array.of(1, 2, 3) });
      expect(back[2].kind).toBeUndefined();
      wire.rows[0][13] = 9;
      expect(() => decodeChanges(wire, form)).toThrow(ProtocolError);
    }
  });

  it('two peers: +5 and −3 give +2, edits at both ends of a text are both kept', async () => {
    const f = peerFiles('crr-policy-sync-');
    cleanup = f.cleanup;
    const { path, data } = f;
    {
      const db = new Database(path('a'));
      db.pragma('journal_mode = WAL');
      db.exec(`CREATE TABLE items (id INTEGER PRIMARY KEY NOT NULL, stock INTEGER DEFAULT 0, descr TEXT);
        INSERT INTO items VALUES (1, 10, 'The quick brown fox.')`);
      const e = installCrr(db, { pollMs: 0 });
      e.asCrr('items');
      e.history.setPolicy('items', 'stock', 'counter');
      e.history.setPolicy('items', 'descr', 'text');
      e.close();
      db.close();
    }
    const a = spawnPeer(['--db', path('a'), '--share', '--name', 'A'], data('a'));
    peers.push(a);
    const code = (await a.waitFor(/^invite: (\S+)/))[1];
    const b = spawnPeer(['--db', path('b'), '--join', code, '--name', 'B'], data('b'));
    peers.push(b);
    await until(() => read(path('b'))?.descr === 'The quick brown fox.', 'B has the row', 30_000);
    // B got the policies too before it writes (they follow the changes)
    await until(() => {
      const db = new Database(path('b'));
      try {
        return (db.prepare(`SELECT count(*) FROM crr_policies WHERE policy IN ('counter', 'text')`).pluck().get() as number) === 2;
      } finally {
        db.close();
      }
    }, 'B has the policies', 30_000);
    // B goes offline, both write, B comes back
    await b.stop('SIGTERM');
    write(path('a'), 'UPDATE items SET stock = stock + 5 WHERE id = 1');
    write(path('a'), `UPDATE items SET descr = 'A quick brown fox.' WHERE id = 1`);
    write(path('b'), 'UPDATE items SET stock = stock - 3 WHERE id = 1');
    write(path('b'), `UPDATE items SET descr = 'The quick brown fox. It jumps.' WHERE id = 1`);
    const b2 = spawnPeer(['--db', path('b'), '--name', 'B'], data('b'));
    peers.push(b2);
    const want = { stock: 12n, descr: 'A quick brown fox. It jumps.' };
    await until(() => {
      const ra = read(path('a'));
      const rb = read(path('b'));
      return show([ra, rb]) === show([want, want]);
    }, 'both converge', 40_000).catch((err) => {
      throw new Error(`${(err as Error).message}: A ${show(read(path('a')))}, B ${show(read(path('b')))}`);
    });

    // A renames the counter column (a plain connection) and adds 4 while B, offline, takes 1 from it
    // under its old name: B gets the rename, both keep the policy and count both
    await b2.stop('SIGTERM');
    write(path('a'), 'ALTER TABLE items RENAME COLUMN stock TO qty');
    write(path('a'), 'UPDATE items SET qty = qty + 4 WHERE id = 1');
    write(path('b'), 'UPDATE items SET stock = stock - 1 WHERE id = 1');
    peers.push(spawnPeer(['--db', path('b'), '--name', 'B'], data('b')));
    const state = (p: string) => {
      const db = new Database(p, { timeout: 10_000 });
      try {
        const cols = db.prepare(`SELECT name FROM pragma_table_info('items')`).pluck().all() as string[];
        return JSON.stringify({
          qty: cols.includes('qty') ? db.prepare('SELECT qty FROM items WHERE id = 1').pluck().get() : null,
          policies: db.prepare(`SELECT cid || ' ' || policy FROM crr_policies ORDER BY cid`).pluck().all(),
          held: db.prepare('SELECT count(*) FROM crr_sync_held').pluck().get(),
        });
      } finally {
        db.close();
      }
    };
    const renamed = JSON.stringify({ qty: 15, policies: ['descr text', 'qty counter'], held: 0 });
    await until(() => state(path('a')) === renamed && state(path('b')) === renamed, 'both have the renamed counter with both adjustments', 40_000).catch((err) => {
      throw new Error(`${(err as Error).message}: A ${state(path('a'))}, B ${state(path('b'))}`);
    });
  }, 120_000);
});
