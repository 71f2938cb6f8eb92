// Paged reads (sync's source of changes) return exactly crsql_changes' rows, resume across
// writes without missing any, and merge into a replica that converges.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Change, ChangePageCursor, CrrEngine } from './types.ts';
import { closeReplica, openReplica, tableSnapshot, tempDir, type Replica } from './test-helpers.ts';

const keyOf = (c: Change) =>
  [c.table, Buffer.from(c.pk).toString('hex'), c.cid, typeof c.val, String(c.val), c.col_version, c.db_version, Buffer.from(c.site_id).toString('hex'), c.cl, c.seq].join('|');

function readAll(engine: CrrEngine, cursor: ChangePageCursor, limit: number, exclude?: Uint8Array) {
  const out: Change[] = [];
  let pages = 0;
  for (let c: ChangePageCursor | null = cursor; c; pages++) {
    const p = engine.changesPage(c, limit, { excludeSite: exclude });
    expect(p.changes.length).toBeLessThanOrEqual(limit + 8);
    out.push(...p.changes);
    c = p.next;
  }
  return { out, pages };
}

describe('changesPage', () => {
  const open: Replica[] = [];
  let cleanup = () => {};
  afterEach(() => {
    open.splice(0).forEach(closeReplica);
    cleanup();
  });
  function replica(dir: string, name: string) {
    const r = openReplica(join(dir, name));
    open.push(r);
    return r;
  }

  it('returns the same rows as crsql_changes, in small pages, across one huge version and several tables', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const a = replica(t.dir, 'a.db');
    a.db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, name TEXT, n INTEGER, r REAL, b BLOB);
      CREATE TABLE k (x TEXT NOT NULL, y BLOB NOT NULL, PRIMARY KEY (x, y));
      CREATE TABLE e (id TEXT PRIMARY KEY NOT NULL, v TEXT)`);
    for (const n of ['t', 'k', 'e']) a.engine.asCrr(n);
    const ins = a.db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?)');
    a.db.transaction(() => {
      for (let i = 0; i < 3000; i++) ins.run(i, `n${i}`, BigInt(i) * 3n, i / 7, i % 5 ? null : Buffer.from([i & 255]));
    })();
    a.db.exec(`UPDATE t SET name = 'x' WHERE id % 7 = 0; DELETE FROM t WHERE id % 11 = 0;
      INSERT INTO t (id, name) VALUES (11, 'back'); INSERT INTO k VALUES ('a', x'00'), ('a', x'01'), ('b', x'');`);
    const all = a.engine.changesSince(0);
    const { out, pages } = readAll(a.engine, { from: 0, to: a.engine.dbVersion() }, 97);
    expect(pages).toBeGreaterThan(all.length / 120);
    expect(out.map(keyOf).sort()).toEqual(all.map(keyOf).sort());
    // a range later than the first version only
    const since = a.engine.changesSince(1).map(keyOf).sort();
    expect(readAll(a.engine, { from: 1, to: a.engine.dbVersion() }, 50).out.map(keyOf).sort()).toEqual(since);
  });

  it('skips the excluded site and resumes a range across writes without missing a change', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const a = replica(t.dir, 'a.db');
    const b = replica(t.dir, 'b.db');
    for (const r of [a, b]) {
      r.db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT, w INTEGER)');
      r.engine.asCrr('t');
    }
    const ins = a.db.prepare('INSERT INTO t VALUES (?, ?, ?)');
    a.db.transaction(() => {
      for (let i = 0; i < 500; i++) ins.run(i, `a${i}`, i);
    })();
    b.db.exec(`INSERT INTO t VALUES (1000, 'from b', 1)`);
    a.engine.applyChanges(b.engine.changesSince(0));
    expect(readAll(a.engine, { from: 0, to: a.engine.dbVersion() }, 64, b.engine.siteId).out.some((c) => c.table === 't' && c.val === 'from b')).toBe(false);

    // page through a's range while a keeps writing; then read the next range: b ends identical
    const to = a.engine.dbVersion();
    let cursor: ChangePageCursor | null = { from: 0, to };
    let step = 0;
    while (cursor) {
      const p = a.engine.changesPage(cursor, 40, { excludeSite: b.engine.siteId });
      b.engine.applyChanges(p.changes);
      cursor = p.next;
      a.db.prepare('UPDATE t SET v = ? WHERE id = ?').run(`edit${step}`, (step * 37) % 500);
      if (step % 3 === 0) a.db.prepare('DELETE FROM t WHERE id = ?').run((step * 53) % 500);
      step++;
    }
    expect(step).toBeGreaterThan(10);
    b.engine.applyChanges(readAll(a.engine, { from: to, to: a.engine.dbVersion() }, 1000, b.engine.siteId).out);
    expect(tableSnapshot(b.db, 't')).toEqual(tableSnapshot(a.db, 't'));
  });
});
