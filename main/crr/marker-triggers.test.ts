// The transaction's marker is opened by triggers of their own (local-triggers.ts openTriggersSql)
// that must fire before every trigger recording a write: SQLite fires a table's newest trigger
// first, so they must stay the table's newest, whatever re-creates the triggers. And they open
// it only for a write some trigger records: an UPDATE that changes no value advances nothing.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { closeReplica, openReplica, tempDir, type Replica } from './test-helpers.ts';
import { CLOCK_SQL } from './clock-sql.ts';

const OPENERS = ['t__crr_open_delete', 't__crr_open_insert', 't__crr_open_update_0', 't__crr_open_update_1', 't__crr_open_update_pk'];

/** the table's engine triggers, oldest first (sqlite_schema rowid order: the order SQLite loads them in) */
const triggers = (db: Database.Database) =>
  db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 't' ORDER BY rowid`).pluck().all() as string[];

const newest = (db: Database.Database, n: number) => triggers(db).slice(-n).sort();

describe('marker-opening triggers', () => {
  const tmp = tempDir();
  const open: Replica[] = [];
  const replica = (name: string) => {
    const r = openReplica(join(tmp.dir, name));
    open.push(r);
    return r;
  };
  afterEach(() => {
    while (open.length) closeReplica(open.pop()!);
  });

  it('stay the newest triggers through reopening and a repair after an outside ALTER', () => {
    const A = replica('a.db');
    A.db.exec(`CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, b, n INTEGER); SELECT crsql_as_crr('t');`);
    expect(newest(A.db, OPENERS.length)).toEqual(OPENERS);
    closeReplica(open.pop()!);

    // another program alters the table: the engine re-derives the triggers when it next looks
    const plain = new Database(A.path);
    plain.exec(`ALTER TABLE t ADD COLUMN c TEXT DEFAULT 'd'`);
    plain.close();
    const B = replica('a.db');
    expect(newest(B.db, OPENERS.length + 1)).toEqual([...OPENERS, 't__crr_open_update_2'].sort());
    expect(triggers(B.db).filter((n) => /^t__crr_update_\d+$/.test(n))).toHaveLength(3);
    const v = B.engine.dbVersion();
    B.db.prepare(`INSERT INTO t (id, b) VALUES ('a', 'x')`).run();
    B.db.prepare(`UPDATE t SET c = 'e'`).run();
    expect(B.engine.changesSince(v).map((c) => [c.cid, c.val, c.col_version])).toEqual([['b', 'x', 1], ['n', null, 1], ['c', 'e', 2]]);
  });

  it('a counter column added later records every write (its triggers open the marker themselves, if newer)', () => {
    const A = replica('c.db');
    A.db.exec(`CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, b, n INTEGER); SELECT crsql_as_crr('t'); INSERT INTO t VALUES ('a', 'x', 1);`);
    A.engine.history.setPolicy('t', 'n', 'counter');
    const from = A.engine.dbVersion();
    const plain = new Database(A.path);
    plain.exec(`UPDATE t SET n = n + 5, b = 'y' WHERE id = 'a'; INSERT INTO t VALUES ('b', 'z', 2)`);
    plain.close();
    A.engine.noticeChanges();
    const changes = A.engine.changesSince(from);
    expect(new Set(changes.map((c) => c.db_version))).toEqual(new Set([from + 1]));
    expect(changes.map((c) => c.cid)).toEqual(expect.arrayContaining(['b', 'n']));
    expect(A.db.prepare(`SELECT n FROM t ORDER BY id`).pluck().all()).toEqual([6, 2]);
  });

  it('every kind of write from a plain connection is recorded, and one that changes nothing advances nothing', () => {
    const A = replica('b.db');
    A.db.exec(`CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, b, n INTEGER); SELECT crsql_as_crr('t');`);
    const plain = new Database(A.path);
    const version = () => Number(plain.prepare(`SELECT ${CLOCK_SQL}`).pluck().get());
    const writes = [
      `INSERT INTO t VALUES ('a', 'x', 1)`,
      `UPDATE t SET b = 'y' WHERE id = 'a'`,
      `UPDATE t SET b = 'z', n = 2 WHERE id = 'a'`,
      `INSERT OR REPLACE INTO t VALUES ('a', 'r', 3)`,
      `UPDATE t SET id = 'b' WHERE id = 'a'`,
      `DELETE FROM t WHERE id = 'b'`,
      `INSERT INTO t VALUES ('b', 'again', 4)`,
    ];
    let seen = 0;
    for (const sql of writes) {
      plain.exec(sql);
      // the engine seals what another program committed when it next looks
      A.engine.noticeChanges();
      const now = A.engine.dbVersion();
      expect(now, sql).toBeGreaterThan(seen);
      const recorded = A.engine.changesSince(seen);
      expect(recorded.length, sql).toBeGreaterThan(0);
      expect(new Set(recorded.map((c) => c.db_version)), sql).toEqual(new Set([now]));
      seen = now;
    }
    const before = version();
    plain.exec(`UPDATE t SET b = b, n = n`);
    plain.exec(`UPDATE t SET b = 'again' WHERE id = 'b'`);
    A.engine.noticeChanges();
    expect(version()).toBe(before);
    expect(plain.prepare('SELECT count(*) FROM crr_tx').pluck().get()).toBe(0);
    expect(A.engine.changesSince(before)).toEqual([]);
    plain.close();
  });

  it('the rare inserts record behind views that follow the table: renamed, dropped, a column dropped, shared no more', () => {
    const A = replica('rare.db');
    const views = () => A.db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'view' AND name LIKE '%\\_\\_crr\\_do\\_%' ESCAPE '\\' ORDER BY name`).pluck().all();
    A.db.exec(`CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, name TEXT, qty INTEGER); SELECT crsql_as_crr('t');`);
    A.db.prepare(`INSERT INTO t VALUES ('a', 'A', 1), ('b', 'B', 2)`).run();
    expect(views()).toEqual(['t__crr_do_reinsert', 't__crr_do_replace']);
    const plain = new Database(A.path);
    plain.exec(`ALTER TABLE t RENAME TO u`);
    plain.exec(`INSERT OR REPLACE INTO u VALUES ('a', 'A2', 10)`);
    A.engine.noticeChanges();
    expect(views()).toEqual(['u__crr_do_reinsert', 'u__crr_do_replace']);
    A.db.prepare(`DELETE FROM u WHERE id = 'b'`).run();
    A.db.prepare(`INSERT INTO u VALUES ('b', 'B2', 20)`).run();
    expect(A.engine.history.cell('u', ['a'], 'name').map((v) => v.val)).toEqual(['A2', 'A']);
    expect(A.engine.history.cell('u', ['b'], 'qty').map((v) => [v.val, v.cl])).toEqual([[20n, 3], [2n, 1]]);
    A.db.exec(`ALTER TABLE u DROP COLUMN name`);
    // (a new connection: SQLite compiles a statement against the schema the connection last read,
    // so the one that read it before the DROP COLUMN refuses two values as it prepares)
    const later = new Database(A.path);
    later.exec(`INSERT OR REPLACE INTO u VALUES ('a', 11)`);
    later.close();
    A.engine.noticeChanges();
    expect(A.engine.history.cell('u', ['a'], 'qty').map((v) => v.val)).toEqual([11n, 10n, 1n]);
    plain.exec(`DROP TABLE u`);
    A.engine.noticeChanges();
    expect(views()).toEqual([]);
    A.db.exec(`CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, v TEXT); SELECT crsql_as_crr('t');`);
    A.db.prepare(`SELECT crsql_as_table('t')`).get();
    expect(views()).toEqual([]);
    plain.close();
  });
});
