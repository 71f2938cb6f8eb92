// A file written by the engine before storage format 2 (fixtures/storage-v1.db, made at commit
// 470aa50 by fixtures/make-storage-v1.ts.txt: inserts, updates, a delete and re-insert, a REPLACE,
// a primary-key change, a merged concurrent edit with a conflict resolved by Keep, another left to
// lww, a plain table) opens in the new engine: it is migrated in place, keeps its tables, history
// and conflicts exactly, syncs to a new replica and goes on tracking writes.
import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { closeReplica, openReplica, syncStream, tableSnapshot, tempDir } from './test-helpers.ts';

const tmp = tempDir('crr-migrate-');
afterAll(() => tmp.cleanup());
const TABLES = ['notes', 'tags', 'pairs', 'plain'];
const HISTORY = `SELECT "table", pk, cid, cl, col_version, hex(site_id), quote(val), hex(parent_site_id), parent_col_version,
  hex(resolves_parent_site_id), resolves_parent_col_version, won FROM crr_history`;
const CONFLICTS = `SELECT "table", pk, cid, cl, hex(parent_site_id), parent_col_version, versions, policy, resolved FROM crr_conflicts`;
const rows = (db: Database.Database, sql: string) => (db.prepare(sql).raw().all() as unknown[][]).map((r) => r.join('|')).sort();

describe('a storage format 1 file', () => {
  it('is migrated in place, keeps its tables, history and conflicts, syncs, and tracks new writes', () => {
    const path = join(tmp.dir, 'v1.db');
    copyFileSync(join(import.meta.dirname, 'fixtures', 'storage-v1.db'), path);
    const before = new Database(path, { readonly: true });
    const tables = Object.fromEntries(TABLES.map((t) => [t, tableSnapshot(before, t)]));
    const history = rows(before, HISTORY);
    const conflicts = rows(before, CONFLICTS);
    before.close();
    expect(history.length).toBeGreaterThan(25);
    expect(conflicts.length).toBe(2);

    const a = openReplica(path);
    expect(a.db.prepare(`SELECT value FROM crr_state WHERE key = 'storage_format'`).pluck().get()).toBe(3);
    expect(a.db.prepare(`SELECT count(*) FROM sqlite_schema WHERE name LIKE '%\\_\\_crr\\_cells' ESCAPE '\\' OR name LIKE '%\\_\\_crr\\_hist' ESCAPE '\\'`).pluck().get()).toBe(0);
    for (const t of TABLES) expect(tableSnapshot(a.db, t), t).toEqual(tables[t]);
    expect(rows(a.db, HISTORY)).toEqual(history);
    expect(rows(a.db, CONFLICTS)).toEqual(conflicts);
    expect(a.db.prepare('PRAGMA integrity_check').pluck().get()).toBe('ok');

    // a new replica pulls it all: same tables, same history
    const b = openReplica(join(tmp.dir, 'b.db'));
    for (const t of ['notes', 'tags', 'pairs']) {
      b.db.exec(a.db.prepare(`SELECT sql FROM sqlite_schema WHERE name = ?`).pluck().get(t) as string);
      b.engine.asCrr(t);
    }
    syncStream(a, b);
    for (const t of ['notes', 'tags', 'pairs']) expect(tableSnapshot(b.db, t), t).toEqual(tables[t]);
    expect(rows(b.db, HISTORY)).toEqual(history);
    expect(rows(b.db, CONFLICTS)).toEqual(conflicts);

    // writes go on being tracked and travel
    a.db.prepare(`UPDATE notes SET qty = qty + 10 WHERE id = 2`).run();
    a.db.prepare(`INSERT INTO tags VALUES ('gold', '#fc0')`).run();
    syncStream(a, b);
    for (const t of ['notes', 'tags']) expect(tableSnapshot(b.db, t)).toEqual(tableSnapshot(a.db, t));
    expect(a.engine.history.cell('notes', [2n], 'qty').map((v) => v.val)).toEqual([17n, 7n, 6n, 5n]);
    expect(rows(b.db, HISTORY)).toEqual(rows(a.db, HISTORY));
    closeReplica(b);
    closeReplica(a);
    // and it opens again as format 3, unchanged
    const again = openReplica(path);
    expect(rows(again.db, HISTORY).length).toBe(history.length + 2);
    closeReplica(again);
  });
});
