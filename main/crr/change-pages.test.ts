// Paged reads (sync's stream) return every current change (crsql_changes' rows) and every version of
// the cell history once, resume across writes without missing any, and merge into a replica that converges.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Change, ChangePageCursor, CrrEngine } from './types.ts';
import { closeReplica, openReplica, tableSnapshot, tempDir, type Replica } from './test-helpers.ts';
import { unpackPrimaryKey } from './pack-pk.ts';

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
    expect(pages).toBeGreaterThan(out.length / 120);
    // the stream holds every current change (crsql_changes) ...
    const streamed = new Set(out.map(keyOf));
    expect(all.map(keyOf).filter((k) => !streamed.has(k))).toEqual([]);
    // ... and every version of the cell history, once (the overwritten and the deleted ones too)
    const quote = a.db.prepare('SELECT quote(?)').pluck();
    const literal = (pk: Uint8Array) => unpackPrimaryKey(pk).map((v) => quote.get(v instanceof Uint8Array ? Buffer.from(v) : v)).join(', ');
    const versions = out.filter((c) => c.cid !== '-1').map((c) => [c.table, literal(c.pk), c.cid, quote.get(c.val instanceof Uint8Array ? Buffer.from(c.val) : c.val), c.col_version, c.cl].join('|'));
    const history = (a.db.prepare(`SELECT "table", pk, cid, quote(val), col_version, cl FROM crr_history`).raw().all() as unknown[][]).map((r) => r.join('|'));
    expect(versions.sort()).toEqual(history.sort());
    expect(new Set(versions).size).toBe(versions.length);
    expect(out.filter((c) => c.cid === '-1').map(keyOf).sort()).toEqual(all.filter((c) => c.cid === '-1').map(keyOf).sort());
    // a range later than the first version only
    const since = a.engine.changesSince(1).map(keyOf);
    const later = new Set(readAll(a.engine, { from: 1, to: a.engine.dbVersion() }, 50).out.map(keyOf));
    expect(since.filter((k) => !later.has(k))).toEqual([]);
  });

  it('skips the excluded site and resumes a range across writes without missing a change', () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const a = replica(t.dir, 'a.db');
    const b = replica(t.dir, 'b.db');
    const c = replica(t.dir, 'c.db');
    for (const r of [a, b, c]) {
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
      // writes that turn a row's implied first versions into version rows while b reads the range:
      // a REPLACE, a re-insert of a deleted key, and a merged concurrent version
      if (step % 4 === 1) a.db.prepare('INSERT OR REPLACE INTO t VALUES (?, ?, ?)').run((step * 71) % 500, `replaced${step}`, step);
      if (step % 4 === 2) a.db.prepare('INSERT OR IGNORE INTO t VALUES (?, ?, ?)').run((step * 53) % 500, `back${step}`, step);
      if (step % 4 === 3) {
        c.db.prepare('INSERT OR REPLACE INTO t VALUES (?, ?, ?)').run((step * 29) % 500, `c${step}`, step);
        a.engine.applyChanges(c.engine.changesSince(0));
      }
      step++;
    }
    expect(step).toBeGreaterThan(10);
    b.engine.applyChanges(readAll(a.engine, { from: to, to: a.engine.dbVersion() }, 1000, b.engine.siteId).out);
    expect(tableSnapshot(b.db, 't')).toEqual(tableSnapshot(a.db, 't'));
    // and b holds every version a holds (b's own aside)
    const history = (r: Replica) =>
      (r.db.prepare(`SELECT pk, cid, cl, col_version, hex(site_id), quote(val) FROM crr_history WHERE site_id IS NOT ?`).raw().all(Buffer.from(b.engine.siteId)) as unknown[][])
        .map((x) => x.join('|'))
        .sort();
    expect(history(b)).toEqual(history(a));
  });

  it("sends a table's implied first versions before its later ones: a clone of edited rows merges them whole", () => {
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
      for (let i = 0; i < 300; i++) ins.run(i, `a${i}`, i);
    })();
    a.db.exec('UPDATE t SET w = w + 1');
    // pages smaller than the table: each is merged on its own, as sync does
    const { out, pages } = readAll(a.engine, { from: 0, to: a.engine.dbVersion() }, 50);
    expect(pages).toBeGreaterThan(10);
    const firstLater = out.findIndex((c) => c.col_version > 1);
    expect(out.slice(firstLater).some((c) => c.col_version === 1)).toBe(false);
    for (let c: ChangePageCursor | null = { from: 0, to: a.engine.dbVersion() }; c; ) {
      const p = a.engine.changesPage(c, 50);
      b.engine.applyChanges(p.changes);
      c = p.next;
    }
    expect(tableSnapshot(b.db, 't')).toEqual(tableSnapshot(a.db, 't'));
    // every row's first versions stay implied (its clock row) and the update is its one version
    // row, keeping the value it displaced, as on the writer. Sent the other way round, each row
    // came cell by cell: no implied clock, every version a row.
    const implied = b.db.prepare('SELECT count(*) FROM t__crr_rows WHERE i_version IS NOT NULL').pluck().get();
    expect(implied).toBe(300);
    const versionRows = (r: Replica) => r.db.prepare('SELECT count(*) FROM t__crr_v WHERE has_first = 1').pluck().get();
    expect(versionRows(b)).toBe(300);
    expect(b.db.prepare('SELECT count(*) FROM t__crr_v').pluck().get()).toBe(300);
    expect(versionRows(a)).toBe(300);
  });
  it("carries the value an update displaced exactly, whatever its storage class", () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const a = replica(t.dir, 'a.db');
    const b = replica(t.dir, 'b.db');
    for (const r of [a, b]) {
      r.db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v, w)');
      r.engine.asCrr('t');
    }
    // (the stream reads this value as text: each storage class, and text that quote() would cut
    // at the NUL or that holds the separator the stream uses)
    const firsts: unknown[] = [2n ** 62n + 1n, -7n, 0.1, 1 / 3, 5e-324, 1e300, -2.5, 'it\'s', 'a\0b', '😀 ,\x1f+', '', Buffer.from([0, 1, 255]), Buffer.alloc(0), null];
    const ins = a.db.prepare('INSERT INTO t VALUES (?, ?, ?)');
    firsts.forEach((v, i) => ins.run(i, v, i));
    a.db.exec("UPDATE t SET v = 'edited'");
    // two displaced cells in one row take another way
    a.db.exec("UPDATE t SET v = 'both', w = -1 WHERE id = 0");
    const { out } = readAll(a.engine, { from: 0, to: a.engine.dbVersion() }, 4);
    const sent = firsts.map((_, i) => out.find((c) => c.cid === 'v' && c.col_version === 1 && unpackPrimaryKey(c.pk)[0] === BigInt(i))?.val);
    const asBytes = (v: unknown) => (v instanceof Uint8Array ? [...v] : v);
    expect(sent.map(asBytes)).toEqual(firsts.map(asBytes));
    expect(sent.map((v) => typeof v)).toEqual(firsts.map((v) => typeof v));
    b.engine.applyChanges(out);
    const all = (r: Replica) => readAll(r.engine, { from: 0, to: r.engine.dbVersion() }, 1000).out;
    const norm = (cs: Change[]) => cs.map((c) => [Buffer.from(c.pk).toString('hex'), c.cid, c.col_version, typeof c.val, String(asBytes(c.val))].join('|')).sort();
    expect(norm(all(b))).toEqual(norm(out));
  });
});
