// Issue 14 part B: schema changes that travel. Headless peers in separate processes on 127.0.0.1;
// schema changes made by other programs on their files while they run (a plain better-sqlite3
// connection, the sqlite3 CLI, a second engine): each must reach every peer with the values that
// need it, live or after a reconnect, and leave nothing held once the schemas agree. A drop waits
// on the receiver (here a peer in this process, whose user confirms it) while everything else
// keeps syncing.
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { installCrr } from '../crr/index.ts';
import { closeReplica, openReplica } from '../crr/test-helpers.ts';
import { decodeInvite } from './invite.ts';
import { DatabaseSync } from './database-sync.ts';
import { SyncNode } from './node.ts';
import { peerFiles, spawnPeer, until, type PeerProcess } from './test-peers.ts';

/** the sqlite3 CLI (on PATH, or CRR_SQLITE3; .ci/run installs Debian's) */
const SQLITE3 = process.env.CRR_SQLITE3 ?? 'sqlite3';

function read<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path, { timeout: 10_000 });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
const columns = (path: string, table: string) =>
  existsSync(path) ? read(path, (db) => (db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[]).sort()) : [];
/** rows of a query, none while the file or its table does not exist yet */
function rows(path: string, sql: string): unknown[][] {
  if (!existsSync(path)) return [];
  try {
    return read(path, (db) => db.prepare(sql).raw().all() as unknown[][]);
  } catch (err) {
    if (/no such (table|column)/.test(String(err))) return [];
    throw err;
  }
}
const held = (path: string) => read(path, (db) => db.prepare('SELECT count(*) FROM crr_sync_held').pluck().get() as number);
const hasTable = (path: string, table: string) => existsSync(path) && read(path, (db) => db.prepare(`SELECT 1 FROM sqlite_schema WHERE name = ?`).get(table) !== undefined);
/** another program's write (its own connection), as a user's script would do it */
function outside(path: string, sql: string): void {
  read(path, (db) => db.exec(sql));
}

describe('schema changes between peers', () => {
  const peers: PeerProcess[] = [];
  const stops: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
    await Promise.all(peers.splice(0).map((p) => p.stop('SIGKILL')));
  });

  function setup() {
    const f = peerFiles('crr-schema-sync-');
    stops.push(f.cleanup);
    return f;
  }

  it('a column added on A reaches C live and B after a reconnect with its values; a table shared later, concurrent columns, the sqlite3 CLI', async () => {
    const { path, data } = setup();
    {
      const db = new Database(path('a'));
      db.pragma('journal_mode = WAL');
      db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT); INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')`);
      installCrr(db, { pollMs: 0 }).asCrr('t');
      db.close();
    }
    const a = spawnPeer(['--db', path('a'), '--share', '--name', 'A'], data('a'));
    peers.push(a);
    const code = (await a.waitFor(/^invite: (\S+)/))[1];
    let b = spawnPeer(['--db', path('b'), '--join', code, '--name', 'B'], data('b'));
    // C applies schema changes from peers automatically (drops too); B waits for its user
    const c = spawnPeer(['--db', path('c'), '--join', code, '--name', 'C', '--apply-schema-changes'], data('c'));
    peers.push(b, c);
    await until(() => rows(path('b'), 'SELECT count(*) FROM t')[0]?.[0] === 3 && rows(path('c'), 'SELECT count(*) FROM t')[0]?.[0] === 3, 'B and C joined');
    await b.stop('SIGTERM');

    // A's user adds a column and writes into it with another program while B is offline
    outside(path('a'), `ALTER TABLE t ADD COLUMN note TEXT DEFAULT 'none'; UPDATE t SET note = 'from A' WHERE id = 1;`);
    const want = [[1, 'one', 'from A'], [2, 'two', 'none'], [3, 'three', 'none']];
    const notes = (p: string) => (columns(p, 't').includes('note') ? rows(p, 'SELECT id, v, note FROM t ORDER BY id') : []);
    await until(() => JSON.stringify(notes(path('c'))) === JSON.stringify(want), 'C got the column and its values live');
    b = spawnPeer(['--db', path('b'), '--name', 'B'], data('b'));
    peers.push(b);
    await until(() => JSON.stringify(notes(path('b'))) === JSON.stringify(want), 'B got the column and its values after reconnecting');
    // C's and B's writes to the new column travel back
    outside(path('c'), `UPDATE t SET note = 'from C' WHERE id = 2`);
    await until(() => rows(path('a'), 'SELECT note FROM t WHERE id = 2')[0]?.[0] === 'from C' && rows(path('b'), 'SELECT note FROM t WHERE id = 2')[0]?.[0] === 'from C', 'C\'s note reached A and B');
    expect([held(path('a')), held(path('b')), held(path('c'))]).toEqual([0, 0, 0]);

    // A makes a new table collaborative after B joined (a second engine on A's file): B and C get it with its rows
    {
      const db = new Database(path('a'), { timeout: 10_000 });
      const e = installCrr(db, { pollMs: 0 });
      db.exec(`CREATE TABLE later (k TEXT PRIMARY KEY NOT NULL, n INTEGER); INSERT INTO later VALUES ('x', 1), ('y', 2);`);
      e.asCrr('later');
      e.close();
      db.close();
    }
    await until(() => rows(path('b'), 'SELECT count(*) FROM later')[0]?.[0] === 2 && rows(path('c'), 'SELECT count(*) FROM later')[0]?.[0] === 2, 'B and C got the table shared later');

    // A and B add different columns while apart: both get both
    await b.stop('SIGTERM');
    outside(path('a'), `ALTER TABLE t ADD COLUMN from_a INTEGER; UPDATE t SET from_a = 7 WHERE id = 3;`);
    outside(path('b'), `ALTER TABLE t ADD COLUMN from_b TEXT; UPDATE t SET from_b = 'b' WHERE id = 3;`);
    b = spawnPeer(['--db', path('b'), '--name', 'B'], data('b'));
    peers.push(b);
    const both = ['from_a', 'from_b', 'id', 'note', 'v'];
    const row3 = (p: string) => (columns(p, 't').length === 5 ? rows(p, 'SELECT from_a, from_b FROM t WHERE id = 3') : []);
    await until(() => [path('a'), path('b'), path('c')].every((p) => JSON.stringify(row3(p)) === JSON.stringify([[7, 'b']])), 'A, B and C have both columns and both values', 30_000);
    expect(columns(path('a'), 't')).toEqual(both);

    // the sqlite3 CLI renames a column on C: like a change made in the app
    execFileSync(SQLITE3, [path('c'), 'ALTER TABLE t RENAME COLUMN v TO title;']);
    await until(() => columns(path('a'), 't').includes('title') && columns(path('b'), 't').includes('title'), 'the CLI\'s rename reached A and B');
    outside(path('a'), `UPDATE t SET title = 'renamed and written' WHERE id = 1`);
    await until(() => rows(path('c'), 'SELECT title FROM t WHERE id = 1')[0]?.[0] === 'renamed and written', 'a write to the renamed column reached C');
    expect([held(path('a')), held(path('b')), held(path('c'))]).toEqual([0, 0, 0]);
    expect(a.lines.some((l) => /received \d+ schema changes? from C/.test(l))).toBe(true);

    // A drops a column (through an engine: its triggers name it): C applies it at once, B logs it as waiting and keeps it
    {
      const db = new Database(path('a'), { timeout: 10_000 });
      const e = installCrr(db, { pollMs: 0 });
      db.exec(`ALTER TABLE t DROP COLUMN from_a`);
      e.close();
      db.close();
    }
    await until(() => !columns(path('c'), 't').includes('from_a'), 'C applied the drop by itself');
    await b.waitFor(/schema change waiting for confirmation here: drop column from_a of t/);
    expect(columns(path('b'), 't')).toContain('from_a');
  }, 120_000);

  it('A drops a column: B sees the change waiting, keeps syncing the other columns, and applies it when its user confirms', async () => {
    const { path, data } = setup();
    {
      const db = new Database(path('a'));
      db.pragma('journal_mode = WAL');
      db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT, extra TEXT); INSERT INTO t VALUES (1, 'one', 'x1'), (2, 'two', 'x2')`);
      installCrr(db, { pollMs: 0 }).asCrr('t');
      db.close();
    }
    const a = spawnPeer(['--db', path('a'), '--share', '--name', 'A'], data('a'));
    peers.push(a);
    const code = (await a.waitFor(/^invite: (\S+)/))[1];
    // B: the app's sync core in this process
    const r = openReplica(path('b'), { pollMs: 50 });
    const ds = new DatabaseSync(r.db, r.engine, { name: 'B', share: { databaseId: decodeInvite(code).databaseId, key: decodeInvite(code).key } });
    const node = await SyncNode.start({ identityFile: join(data('b'), 'peer-identity.key'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
    stops.push(() => closeReplica(r), () => ds.close(), () => node.stop());
    node.addDatabase(ds, decodeInvite(code).addresses);
    await until(() => hasTable(path('b'), 't') && rows(path('b'), 'SELECT count(*) FROM t')[0]?.[0] === 2, 'B joined');
    const fromA = () => node.peers(ds).find((p) => p.name === 'A');
    await until(() => fromA()?.schemaSame === true, 'B sees A with the same schema');

    // B's user writes into extra; A's user drops extra (through an engine: its tracking triggers name it)
    r.db.exec(`UPDATE t SET extra = 'edited on B' WHERE id = 1`);
    await until(() => rows(path('a'), 'SELECT extra FROM t WHERE id = 1')[0]?.[0] === 'edited on B', 'B\'s edit reached A');
    r.db.exec(`UPDATE t SET extra = 'B, not yet seen by A' WHERE id = 2`);
    {
      const db = new Database(path('a'), { timeout: 10_000 });
      const e = installCrr(db, { pollMs: 0 });
      db.exec(`ALTER TABLE t DROP COLUMN extra`);
      e.close();
      db.close();
    }
    await until(() => r.engine.schemaLog.waiting().length === 1, 'the drop waits on B');
    const [wait] = r.engine.schemaLog.waiting();
    expect(wait).toMatchObject({ kind: 'drop-column', column: 'extra', state: 'confirm', summary: 'drop column extra of t' });
    expect(columns(path('b'), 't')).toEqual(['extra', 'id', 'v']);
    await until(() => fromA()?.schemaSame === false && ds.status().schemaWaiting === 1, 'the peer list says the schemas differ and one change waits here');

    // everything else keeps syncing both ways meanwhile
    outside(path('a'), `UPDATE t SET v = 'changed on A' WHERE id = 1`);
    await until(() => rows(path('b'), 'SELECT v FROM t WHERE id = 1')[0]?.[0] === 'changed on A', 'A\'s other column reached B');
    r.db.exec(`UPDATE t SET v = 'changed on B', extra = 'B again' WHERE id = 2`);
    await until(() => rows(path('a'), 'SELECT v FROM t WHERE id = 2')[0]?.[0] === 'changed on B', 'B\'s other column reached A');
    expect(held(path('a'))).toBe(0);
    expect(ds.status().heldChanges).toBe(0);
    // B's edits to the dropped column are readable on A (its dropped column's versions), not lost
    const droppedOnA = () => read(path('a'), (db) => db.prepare(`SELECT val FROM "t__crr_dropped" WHERE cid = 'extra' AND id = 2`).pluck().all());
    await until(() => droppedOnA().includes('B again'), 'B\'s edits of the dropped column kept on A');
    expect(droppedOnA()).toContain('B, not yet seen by A');

    // B's user confirms: the column goes, its values stay in B's history of it, the schemas agree
    r.engine.schemaLog.confirm(wait.site_id, wait.clock);
    expect(columns(path('b'), 't')).toEqual(['id', 'v']);
    expect(r.engine.schemaLog.dropped('t', [2n]).map((v) => v.val)).toEqual(expect.arrayContaining(['B again', 'B, not yet seen by A', 'x2']));
    await until(() => fromA()?.schemaSame === true && fromA()?.schemaWaiting === 0 && ds.status().schemaWaiting === 0, 'schemas agree again');
    expect(fromA()!.schemaVersion).toBe(ds.status().schemaVersion);
    expect(ds.status().heldChanges).toBe(0);
    expect(rows(path('a'), 'SELECT id, v FROM t ORDER BY id')).toEqual(rows(path('b'), 'SELECT id, v FROM t ORDER BY id'));
  }, 90_000);
});
