// A file written by the engine of storage format 2 (fixtures/storage-v2.db, made at commit 27cc0f1
// by fixtures/make-storage-v2.ts.txt: inserts, an update, a delete, a conflict, a last merge that
// only brought history, so crsql_db_version() was 9 and the clock 10, and then a write by a plain
// connection whose marker is still open) opens in the format-3 engine: its clock comes from
// crr_times, the same versions as before, the other program's write is sealed and travels, and
// crsql_db_version() survives a reopen after a merge that only brings history.
import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeReplica, openReplica, syncStream, tableSnapshot, tempDir } from './test-helpers.ts';
import { installCrr } from './index.ts';

const tmp = tempDir('crr-migrate2-');
afterAll(() => tmp.cleanup());
const TABLES = ['notes', 'tags'];
const HISTORY = `SELECT "table", pk, cid, cl, col_version, hex(site_id), quote(val), hex(parent_site_id), parent_col_version, won FROM crr_history`;
const CONFLICTS = `SELECT "table", pk, cid, cl, hex(parent_site_id), parent_col_version, versions, resolved FROM crr_conflicts`;
const rows = (db: Database.Database, sql: string) => (db.prepare(sql).raw().all() as unknown[][]).map((r) => r.join('|')).sort();
const versions = (db: Database.Database) => [db.prepare('SELECT crsql_db_version()').pluck().get(), db.prepare('SELECT crsql_next_db_version()').pluck().get()];
const state = (db: Database.Database) => db.prepare(`SELECT key, value FROM crr_state WHERE key IN ('db_version', 'crsql_db_version', 'storage_format') ORDER BY key`).raw().all();

describe('a storage format 2 file', () => {
  it('opens with its clock read from crr_times: the same versions, the open marker sealed, history kept', () => {
    const path = join(tmp.dir, 'v2.db');
    copyFileSync(join(import.meta.dirname, 'fixtures', 'storage-v2.db'), path);
    const before = new Database(path, { readonly: true });
    expect(state(before)).toEqual([['crsql_db_version', 9], ['db_version', 10], ['storage_format', 2]]);
    expect(before.prepare('SELECT db_version, max_version FROM crr_tx').raw().get()).toEqual([11, 11]);
    const tables = Object.fromEntries(TABLES.map((t) => [t, tableSnapshot(before, t)]));
    const history = rows(before, HISTORY);
    const conflicts = rows(before, CONFLICTS);
    before.close();
    expect(history.length).toBeGreaterThan(10);
    expect(conflicts.length).toBe(2);

    const a = openReplica(path);
    expect(state(a.db)).toEqual([['storage_format', 3]]);
    // the plain connection's insert was sealed at 11; 10 was the merge that only brought history
    expect(a.engine.dbVersion()).toBe(11);
    expect(versions(a.db)).toEqual([11, 12]);
    expect(a.db.prepare('SELECT db_version FROM crr_times WHERE quiet = 1').pluck().all()).toEqual([10]);
    expect(a.db.prepare('SELECT count(*) FROM crr_tx').pluck().get()).toBe(0);
    for (const t of TABLES) expect(tableSnapshot(a.db, t), t).toEqual(tables[t]);
    expect(rows(a.db, HISTORY)).toEqual(history);
    expect(rows(a.db, CONFLICTS)).toEqual(conflicts);
    expect(a.db.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');

    // a new replica pulls it all, the other program's row included
    const b = openReplica(join(tmp.dir, 'b.db'));
    for (const t of TABLES) {
      b.db.exec(a.db.prepare(`SELECT sql FROM sqlite_schema WHERE name = ?`).pluck().get(t) as string);
      b.engine.asCrr(t);
    }
    syncStream(a, b);
    for (const t of TABLES) expect(tableSnapshot(b.db, t), t).toEqual(tableSnapshot(a.db, t));
    expect(b.db.prepare(`SELECT color FROM tags WHERE name = 'blue'`).pluck().get()).toBe('#00f');
    expect(rows(b.db, HISTORY)).toEqual(rows(a.db, HISTORY));
    expect(rows(b.db, CONFLICTS)).toEqual(conflicts);

    // new writes take the next versions, from this engine and from a plain connection alike
    a.db.prepare(`UPDATE notes SET qty = 6 WHERE id = 1`).run();
    expect(versions(a.db)).toEqual([12, 13]);
    const plain = new Database(path);
    plain.prepare(`UPDATE tags SET color = 'navy' WHERE name = 'blue'`).run();
    plain.close();
    a.engine.noticeChanges();
    expect(a.engine.dbVersion()).toBe(13);
    syncStream(a, b);
    expect(tableSnapshot(b.db, 'tags')).toEqual(tableSnapshot(a.db, 'tags'));
    closeReplica(b);
    closeReplica(a);
    const again = openReplica(path);
    expect([again.engine.dbVersion(), ...versions(again.db)]).toEqual([13, 13, 14]);
    closeReplica(again);
  });

  it('keeps crsql_db_version() below the clock across a reopen when the last merge only brought history', () => {
    const [a, b] = ['h-a.db', 'h-b.db'].map((f, i) => openReplica(join(tmp.dir, f), { siteId: Uint8Array.from({ length: 16 }, () => i + 1) }));
    for (const r of [a, b]) r.db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT); SELECT crsql_as_crr('t');`);
    a.db.prepare(`INSERT INTO t VALUES (1, 'a0')`).run();
    syncStream(a, b);
    b.db.prepare(`UPDATE t SET v = 'b1' WHERE id = 1`).run();
    b.db.prepare(`UPDATE t SET v = 'b2' WHERE id = 1`).run();
    a.db.prepare(`UPDATE t SET v = 'a1' WHERE id = 1`).run();
    syncStream(a, b); // a1 (col_version 2) loses to b2 (3): only history
    const clock = b.engine.dbVersion();
    const [current] = versions(b.db) as number[];
    expect(current).toBeLessThan(clock);
    expect(b.db.prepare('SELECT v FROM t').pluck().get()).toBe('b2');
    closeReplica(b);
    const again = openReplica(b.path);
    expect(again.engine.dbVersion()).toBe(clock);
    expect(versions(again.db)).toEqual([current, clock + 1]);
    closeReplica(again);
    closeReplica(a);
  });
});

describe('a file of a newer storage format', () => {
  it('is refused with a clear error before anything in it changes', () => {
    const path = join(tmp.dir, 'newer.db');
    const a = openReplica(path);
    a.db.exec(`CREATE TABLE notes (id TEXT PRIMARY KEY NOT NULL, body TEXT); SELECT crsql_as_crr('notes')`);
    a.db.prepare(`INSERT INTO notes VALUES ('a', 'kept')`).run();
    closeReplica(a);
    const raw = new Database(path);
    raw.prepare(`UPDATE crr_state SET value = 99 WHERE key = 'storage_format'`).run();
    const schemaBefore = raw.prepare('SELECT type, name, sql FROM sqlite_schema ORDER BY name').raw().all();
    const timesBefore = raw.prepare('SELECT * FROM crr_times').raw().all();
    raw.close();
    const refused = new Database(path);
    expect(() => installCrr(refused, { pollMs: 0 })).toThrow(/newer release of the engine \(storage format 99; this release reads formats up to 3\)/);
    refused.close();
    const after = new Database(path, { readonly: true });
    expect(after.prepare('SELECT type, name, sql FROM sqlite_schema ORDER BY name').raw().all()).toEqual(schemaBefore);
    expect(after.prepare('SELECT * FROM crr_times').raw().all()).toEqual(timesBefore);
    expect(after.prepare(`SELECT value FROM crr_state WHERE key = 'storage_format'`).pluck().get()).toBe(99);
    expect(after.prepare('SELECT body FROM notes').pluck().all()).toEqual(['kept']);
    after.close();
  });
});
