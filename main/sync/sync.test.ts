// Three headless peers in three processes on 127.0.0.1 edit one database while syncing; one is
// killed with SIGKILL mid-sync and restarted; all end identical. A fourth peer with the right
// database id but a wrong key gets nothing and changes nothing. Edits go through plain SQLite
// connections to each peer's file, so the engines must notice outside writes too.
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { installCrr } from '../crr/index.ts';
import { tableSnapshot } from '../crr/test-helpers.ts';
import { decodeInvite, encodeInvite } from './invite.ts';
import { newShareKey } from './auth.ts';
import { peerFiles, spawnPeer, type PeerProcess } from './test-peers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function plain(path: string): Database.Database {
  const db = new Database(path, { timeout: 10_000 });
  db.pragma('busy_timeout = 10000');
  return db;
}

async function waitForTable(path: string, table: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const db = plain(path);
    const found = db.prepare(`SELECT 1 FROM sqlite_schema WHERE name = ?`).get(table);
    db.close();
    if (found) return;
    if (Date.now() > until) throw new Error(`${path} never got table ${table}`);
    await sleep(100);
  }
}

function snapshot(path: string): string[][] {
  const db = plain(path);
  try {
    return tableSnapshot(db, 't');
  } finally {
    db.close();
  }
}

/** cell history and conflicts as sets (local times aside), read through the views in the file */
function historySnapshot(path: string): string[][] {
  const db = plain(path);
  try {
    const rows = (sql: string) => (db.prepare(sql).raw().all() as unknown[][]).map((r) => r.join('|')).sort();
    return [
      rows(`SELECT pk, cid, cl, col_version, hex(site_id), quote(val), hex(parent_site_id), parent_col_version FROM crr_history`),
      rows(`SELECT pk, cid, cl, hex(parent_site_id), parent_col_version, versions FROM crr_conflicts`),
    ];
  } finally {
    db.close();
  }
}

async function waitConverged<T>(paths: string[], read: (path: string) => T = snapshot as (p: string) => T, timeoutMs = 90_000): Promise<T[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const snaps = paths.map(read);
    if (snaps.every((s) => JSON.stringify(s) === JSON.stringify(snaps[0]))) return snaps;
    if (Date.now() > until) return snaps;
    await sleep(250);
  }
}

describe('LAN sync between processes', () => {
  const peers: PeerProcess[] = [];
  let cleanup = () => {};
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.stop('SIGKILL')));
    cleanup();
  });

  it('three peers converge under concurrent edits and a SIGKILL; a peer with a wrong key gets and puts nothing', async () => {
    const f = peerFiles('crr-sync-');
    cleanup = f.cleanup;
    const { path, data } = f;
    {
      const db = new Database(path('a'));
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT, n INTEGER, r REAL)');
      const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?)');
      db.transaction(() => {
        for (let i = 0; i < 30000; i++) ins.run(i, `row ${i}`, i, i / 3);
      })();
      const e = installCrr(db, { pollMs: 0 });
      e.asCrr('t');
      e.close();
      db.close();
    }
    const a = spawnPeer(['--db', path('a'), '--share', '--name', 'A'], data('a'));
    peers.push(a);
    const code = (await a.waitFor(/^invite: (\S+)/))[1];
    const b = spawnPeer(['--db', path('b'), '--join', code, '--name', 'B'], data('b'));
    const c = spawnPeer(['--db', path('c'), '--join', code, '--name', 'C'], data('c'));
    peers.push(b, c);

    // the wrong-key peer: right database id and addresses, its own key, and a row of its own
    const invite = decodeInvite(code);
    {
      const db = new Database(path('d'));
      db.pragma('journal_mode = WAL');
      db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT, n INTEGER, r REAL); INSERT INTO t VALUES (99999, 'intruder', 0, 0)`);
      const e = installCrr(db, { pollMs: 0 });
      e.asCrr('t');
      e.close();
      db.close();
    }
    const d = spawnPeer(['--db', path('d'), '--join', encodeInvite({ ...invite, key: newShareKey() }), '--name', 'D'], data('d'));
    peers.push(d);

    // B is killed in the middle of its first copy: it resumes from where it left off later
    await b.waitFor(/received \d+ changes/);
    await b.stop('SIGKILL');
    const partial = snapshot(path('b')).length;
    expect(partial).toBeLessThan(30000);
    await waitForTable(path('c'), 't');

    // concurrent random edits on all three files (B's while its peer is down), B restarted midway
    const ops = fc.sample(
      fc.record({
        peer: fc.constantFrom('a', 'b', 'c'),
        kind: fc.constantFrom('insert', 'update', 'update', 'delete'),
        // a few hot rows, so that peers write the same cells concurrently
        id: fc.oneof(fc.integer({ min: 0, max: 31000 }), fc.integer({ min: 0, max: 15 })),
        v: fc.string({ maxLength: 8 }),
        n: fc.oneof(fc.integer(), fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n })),
      }),
      { numRuns: 600, seed: 4242 },
    );
    let bProc = b;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (i === 300) {
        bProc = spawnPeer(['--db', path('b'), '--name', 'B'], data('b'));
        peers.push(bProc);
      }
      const db = plain(path(op.peer));
      try {
        if (op.kind === 'insert') db.prepare('INSERT OR REPLACE INTO t (id, v, n) VALUES (?, ?, ?)').run(op.id, op.v, op.n);
        else if (op.kind === 'update') db.prepare('UPDATE t SET v = ?, n = ? WHERE id = ?').run(op.v, op.n, op.id);
        else db.prepare('DELETE FROM t WHERE id = ?').run(op.id);
      } finally {
        db.close();
      }
      if (i % 20 === 0) await sleep(30);
    }
    await bProc.waitFor(/authorised/);

    const [sa, sb, sc] = await waitConverged([path('a'), path('b'), path('c')], snapshot);
    expect(sb).toEqual(sa);
    expect(sc).toEqual(sa);
    expect(sa.length).toBeGreaterThan(29000);
    expect(sa.some((row) => row[1] === "'intruder'")).toBe(false);
    // and the same history and conflicts, losers included, on every peer
    const [ha, hb, hc] = await waitConverged([path('a'), path('b'), path('c')], historySnapshot);
    expect(hb).toEqual(ha);
    expect(hc).toEqual(ha);
    expect(ha[1].length).toBeGreaterThan(0);
    // D got nothing and still holds only its own row
    expect(snapshot(path('d'))).toEqual([['99999', "'intruder'", '0', '0.0']]);
    expect([...a.lines, ...d.lines].some((l) => /does not hold the key/.test(l))).toBe(true);
    expect(d.lines.some((l) => /received/.test(l))).toBe(false);
  }, 300_000);
});
