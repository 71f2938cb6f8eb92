// Merge policies counter and text (policy-columns.ts): the +5/−3 case in every delivery order,
// concurrent text edits kept, writes by a plain connection counted and diffed, policy switches,
// cr-sqlite peers (crsql_changes only) converging, contributions and text states in the stream.
import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { Change } from './types.ts';
import { openReplica, closeReplica, tempDir, tableSnapshot, streamChanges, syncStream, type Replica } from './test-helpers.ts';

const tmp = tempDir('crr-policy-');
afterAll(() => tmp.cleanup());
let n = 0;
const file = () => join(tmp.dir, `p${++n}.db`);

const SCHEMA = `CREATE TABLE items (id INTEGER PRIMARY KEY NOT NULL, stock INTEGER DEFAULT 0, price REAL, descr TEXT, note);
  SELECT crsql_as_crr('items');`;

function replicas(count: number, setup = true): Replica[] {
  return Array.from({ length: count }, () => {
    const r = openReplica(file());
    r.db.exec(SCHEMA);
    if (setup) {
      r.engine.history.setPolicy('items', 'stock', 'counter');
      r.engine.history.setPolicy('items', 'descr', 'text');
    }
    return r;
  });
}
/** the counting triggers exist only while a column of the table is a counter */
const countingTriggers = (r: Replica) =>
  r.db.prepare(`SELECT count(*) FROM sqlite_schema WHERE type = 'trigger' AND name LIKE 'items__crr_counter%'`).pluck().get();
const cell = (r: Replica, col: string, id = 1) => r.db.prepare(`SELECT ${col} FROM items WHERE id = ?`).safeIntegers(true).pluck().get(id);

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('counter', () => {
  it('+5 on A and −3 on B give +2 everywhere, in every delivery order, with duplicates', () => {
    const [A, B, C] = replicas(3);
    A.db.prepare(`INSERT INTO items (id, stock, descr) VALUES (1, 10, 'x')`).run();
    syncStream(A, B);
    syncStream(A, C);
    A.db.prepare('UPDATE items SET stock = stock + 5 WHERE id = 1').run();
    B.db.prepare('UPDATE items SET stock = stock - 3 WHERE id = 1').run();
    const fromA = streamChanges(A, 0, undefined, 3);
    const fromB = streamChanges(B, 0, undefined, 3);
    const pieces = [...fromA.map((c) => [c]), ...fromB.map((c) => [c])];
    expect(pieces.length).toBeGreaterThan(3);
    // every order of A's and B's streams, and each change delivered twice, shuffled
    for (const order of permutations([fromA, fromB, [...fromB].reverse(), [...fromA].reverse()])) {
      const D = replicas(1)[0];
      for (const batch of order) D.engine.applyChanges(batch.filter((c) => !Buffer.from(c.site_id).equals(Buffer.from(D.engine.siteId))));
      expect(cell(D, 'stock')).toBe(12n);
      closeReplica(D);
    }
    for (const change of [...fromB].reverse()) C.engine.applyChanges([change]);
    for (const change of fromA) C.engine.applyChanges([change, change]);
    expect(cell(C, 'stock')).toBe(12n);
    syncStream(A, B);
    syncStream(B, A);
    syncStream(C, A);
    syncStream(A, C);
    syncStream(A, B);
    for (const r of [A, B, C]) expect(cell(r, 'stock')).toBe(12n);
    for (const r of [B, C]) expect(tableSnapshot(r.db, 'items')).toEqual(tableSnapshot(A.db, 'items'));
    // the cell's current version holds the sum too (what crsql_changes shows a cr-sqlite peer)
    for (const r of [A, B, C]) {
      const current = r.engine.changesSince(0).find((c) => c.cid === 'stock')!;
      expect(current.val).toBe(12n);
    }
    // who added what, and no conflict
    const contributions = A.engine.history.contributions('items', [1n], 'stock');
    const bySite = new Map(contributions.map((c) => [Buffer.from(c.site_id).toString('hex'), c.total]));
    expect(bySite.get(Buffer.from(A.engine.siteId).toString('hex'))).toBe(15n);
    expect(bySite.get(Buffer.from(B.engine.siteId).toString('hex'))).toBe(-3n);
    expect(A.engine.history.conflicts()).toEqual([]);
    [A, B, C].forEach(closeReplica);
  });

  it('counts writes by a plain connection (the sqlite3 CLI), a REPLACE sets the sum, a re-insert starts a new life', () => {
    const [A, B] = replicas(2);
    A.db.prepare(`INSERT INTO items (id, stock) VALUES (1, 4)`).run();
    syncStream(A, B);
    const other = new Database(A.path);
    other.prepare('UPDATE items SET stock = stock + 2 WHERE id = 1').run();
    other.prepare('UPDATE items SET stock = stock + 1 WHERE id = 1').run();
    other.close();
    B.db.prepare('UPDATE items SET stock = stock + 10 WHERE id = 1').run();
    syncStream(A, B);
    syncStream(B, A);
    expect(cell(A, 'stock')).toBe(17n);
    expect(cell(B, 'stock')).toBe(17n);
    // a REPLACE sets the value: its difference to the sum counts
    A.db.prepare(`INSERT OR REPLACE INTO items (id, stock) VALUES (1, 100)`).run();
    syncStream(A, B);
    expect(cell(B, 'stock')).toBe(100n);
    // delete and re-insert: the new life starts from the re-inserted value
    B.db.prepare('DELETE FROM items WHERE id = 1').run();
    B.db.prepare(`INSERT INTO items (id, stock) VALUES (1, 3)`).run();
    A.db.prepare('UPDATE items SET stock = stock + 1 WHERE id = 1').run(); // in the old life: does not count in the new one
    syncStream(B, A);
    syncStream(A, B);
    expect(cell(A, 'stock')).toBe(3n);
    expect(cell(B, 'stock')).toBe(3n);
    [A, B].forEach(closeReplica);
  });

  it('a non-number written to a counter gets the sum back; NULL at insert stays until a number is written', () => {
    const [A, B] = replicas(2);
    A.db.prepare(`INSERT INTO items (id, stock) VALUES (1, NULL)`).run();
    expect(cell(A, 'stock')).toBe(null);
    A.db.prepare('UPDATE items SET stock = 5 WHERE id = 1').run();
    A.db.prepare(`UPDATE items SET stock = 'many' WHERE id = 1`).run();
    expect(cell(A, 'stock')).toBe(5n);
    syncStream(A, B);
    expect(cell(B, 'stock')).toBe(5n);
    [A, B].forEach(closeReplica);
  });

  it('switching to counter starts from the current value; back to lww keeps the sum', () => {
    const [A, B] = replicas(2, false);
    A.db.prepare(`INSERT INTO items (id, stock) VALUES (1, 7), (2, 1)`).run();
    syncStream(A, B);
    expect([countingTriggers(A), countingTriggers(B)]).toEqual([0, 0]);
    A.engine.history.setPolicy('items', 'stock', 'counter');
    syncStream(A, B);
    expect(B.engine.history.policies().find((p) => p.cid === 'stock')?.policy).toBe('counter');
    expect([countingTriggers(A), countingTriggers(B)]).toEqual([2, 2]);
    A.db.exec('ALTER TABLE items ADD COLUMN extra'); // the table's triggers are rebuilt: still counting
    A.engine.crrTables();
    expect(countingTriggers(A)).toBe(2);
    A.db.prepare('UPDATE items SET stock = stock + 1 WHERE id = 1').run();
    B.db.prepare('UPDATE items SET stock = stock + 2 WHERE id = 1').run();
    syncStream(A, B);
    syncStream(B, A);
    expect(cell(A, 'stock')).toBe(10n);
    expect(cell(B, 'stock')).toBe(10n);
    expect(cell(B, 'stock', 2)).toBe(1n);
    B.engine.history.setPolicy('items', 'stock', 'lww');
    syncStream(B, A);
    expect(cell(A, 'stock')).toBe(10n);
    expect([countingTriggers(A), countingTriggers(B)]).toEqual([0, 0]);
    A.db.prepare('UPDATE items SET stock = 50 WHERE id = 1').run();
    syncStream(A, B);
    expect(cell(B, 'stock')).toBe(50n);
    expect(() => A.engine.history.setPolicy('items', 'descr', 'counter')).toThrow(/not numeric/);
    expect(() => A.engine.history.setPolicy('items', 'stock', 'text')).toThrow(/not a TEXT column/);
    [A, B].forEach(closeReplica);
  });
});

describe('text', () => {
  const para = 'The quick brown fox jumps over the lazy dog.\nSecond line stays.';

  it('two concurrent edits, at the start and at the end of a paragraph, are both kept', () => {
    const [A, B] = replicas(2);
    A.db.prepare(`INSERT INTO items (id, descr) VALUES (1, ?)`).run(para);
    syncStream(A, B);
    A.db.prepare(`UPDATE items SET descr = ? WHERE id = 1`).run(para.replace('The quick', 'A quick'));
    B.db.prepare(`UPDATE items SET descr = ? WHERE id = 1`).run(para + ' And a third sentence.');
    syncStream(A, B);
    syncStream(B, A);
    const want = 'A quick brown fox jumps over the lazy dog.\nSecond line stays. And a third sentence.';
    expect(cell(A, 'descr')).toBe(want);
    expect(cell(B, 'descr')).toBe(want);
    expect(A.engine.history.conflicts()).toEqual([]);
    expect(B.engine.history.unresolvedCount()).toBe(0);
    [A, B].forEach(closeReplica);
  });

  it('an edit by a plain connection is merged character-wise, also when a merge comes before the poll', () => {
    const [A, B] = replicas(2);
    A.db.prepare(`INSERT INTO items (id, descr) VALUES (1, ?)`).run(para);
    syncStream(A, B);
    const other = new Database(A.path);
    other.prepare(`UPDATE items SET descr = replace(descr, 'lazy', 'sleepy') WHERE id = 1`).run();
    other.close();
    B.db.prepare(`UPDATE items SET descr = ? WHERE id = 1`).run('Title\n' + para);
    // A merges B's edit before it polled the outside write
    syncStream(B, A);
    syncStream(A, B);
    const want = 'Title\nThe quick brown fox jumps over the sleepy dog.\nSecond line stays.';
    expect(cell(A, 'descr')).toBe(want);
    expect(cell(B, 'descr')).toBe(want);
    [A, B].forEach(closeReplica);
  });

  it('concurrent insertions at the same place are both kept, in the same order everywhere', () => {
    const [A, B, C] = replicas(3);
    A.db.prepare(`INSERT INTO items (id, descr) VALUES (1, 'ab')`).run();
    syncStream(A, B);
    syncStream(A, C);
    A.db.prepare(`UPDATE items SET descr = 'aXb' WHERE id = 1`).run();
    B.db.prepare(`UPDATE items SET descr = 'aYb' WHERE id = 1`).run();
    C.db.prepare(`UPDATE items SET descr = 'a' WHERE id = 1`).run();
    for (let i = 0; i < 2; i++) for (const [x, y] of [[A, B], [B, C], [C, A], [B, A], [C, B], [A, C]]) syncStream(x, y);
    const v = cell(A, 'descr') as string;
    expect([...v].sort().join('')).toBe('XYa');
    for (const r of [B, C]) expect(cell(r, 'descr')).toBe(v);
    [A, B, C].forEach(closeReplica);
  });

  it('replicas first editing from the same version build the same start (no duplicated text)', () => {
    // the text existed before the policy: each replica's first edit starts from it
    const [A, B] = replicas(2, false);
    A.db.prepare(`INSERT INTO items (id, descr) VALUES (1, ?)`).run(para);
    syncStream(A, B);
    A.engine.history.setPolicy('items', 'descr', 'text');
    syncStream(A, B);
    A.db.prepare(`UPDATE items SET descr = ? WHERE id = 1`).run('>' + para);
    B.db.prepare(`UPDATE items SET descr = ? WHERE id = 1`).run(para + '<');
    syncStream(A, B);
    syncStream(B, A);
    expect(cell(A, 'descr')).toBe('>' + para + '<');
    expect(cell(B, 'descr')).toBe('>' + para + '<');
    [A, B].forEach(closeReplica);
  });

  it('a malformed text state from a peer is refused with its batch (nothing applied)', () => {
    const [A, B] = replicas(2);
    A.db.prepare(`INSERT INTO items (id, descr) VALUES (1, 'hello')`).run();
    const changes = streamChanges(A, 0);
    const bad = changes.map((c) => (c.kind === 'text' ? { ...c, val: Uint8Array.of(0, 255, 3, 9, 9, 9) } : c));
    expect(() => B.engine.applyChanges(bad)).toThrow(/text state/);
    expect(B.db.prepare('SELECT count(*) FROM items').pluck().get()).toBe(0);
    B.engine.applyChanges(changes);
    expect(cell(B, 'descr')).toBe('hello');
    [A, B].forEach(closeReplica);
  });

  it('text states travel in the stream, kind text, and re-delivery changes nothing', () => {
    const [A, B] = replicas(2);
    A.db.prepare(`INSERT INTO items (id, descr) VALUES (1, 'hello')`).run();
    const changes = streamChanges(A, 0);
    const state = changes.find((c) => c.kind === 'text');
    expect(state && state.val instanceof Uint8Array).toBe(true);
    B.engine.applyChanges(changes);
    const v = B.engine.dbVersion();
    B.engine.applyChanges(changes);
    B.engine.applyChanges([state!]);
    expect(B.engine.dbVersion()).toBe(v);
    expect(cell(B, 'descr')).toBe('hello');
    [A, B].forEach(closeReplica);
  });
});

describe('cr-sqlite peers', () => {
  /** what a cr-sqlite peer sees and sends: crsql_changes only */
  const crsqlChanges = (r: Replica, since = 0): Change[] => r.engine.changesSince(since);
  function insertChanges(r: Replica, changes: Change[]): void {
    const ins = r.db.prepare(`INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    r.db.transaction(() => {
      for (const c of changes) ins.run(c.table, Buffer.from(c.pk), c.cid, c.val instanceof Uint8Array ? Buffer.from(c.val) : c.val, c.col_version, c.db_version, Buffer.from(c.site_id), c.cl, c.seq);
    })();
  }

  it('receives the merged values as ordinary cell changes and converges; its writes merged through crsql_changes count', () => {
    const [A, B] = replicas(2);
    // X plays the cr-sqlite peer: lww columns, fed and read through crsql_changes only
    const X = openReplica(file());
    X.db.exec(SCHEMA);
    A.db.prepare(`INSERT INTO items (id, stock, descr) VALUES (1, 10, 'one two')`).run();
    syncStream(A, B);
    A.db.prepare('UPDATE items SET stock = stock + 5 WHERE id = 1').run();
    B.db.prepare('UPDATE items SET stock = stock - 3 WHERE id = 1').run();
    A.db.prepare(`UPDATE items SET descr = 'zero one two' WHERE id = 1`).run();
    B.db.prepare(`UPDATE items SET descr = 'one two three' WHERE id = 1`).run();
    syncStream(A, B);
    syncStream(B, A);
    insertChanges(X, crsqlChanges(A));
    expect(cell(X, 'stock')).toBe(12n);
    expect(cell(X, 'descr')).toBe('zero one two three');
    // X writes (as a cr-sqlite user would); A merges it through crsql_changes: it counts once
    const before = X.engine.dbVersion();
    X.db.prepare('UPDATE items SET stock = stock + 1 WHERE id = 1').run();
    X.db.prepare(`UPDATE items SET descr = 'zero one two three four' WHERE id = 1`).run();
    insertChanges(A, crsqlChanges(X, before));
    expect(cell(A, 'stock')).toBe(13n);
    syncStream(A, B);
    B.db.prepare('UPDATE items SET stock = stock + 1 WHERE id = 1').run();
    B.db.prepare(`UPDATE items SET descr = 'ZERO one two three four' WHERE id = 1`).run();
    syncStream(B, A);
    insertChanges(X, crsqlChanges(A));
    for (const r of [A, B, X]) {
      expect(cell(r, 'stock')).toBe(14n);
      expect(cell(r, 'descr')).toBe('ZERO one two three four');
    }
    [A, B, X].forEach(closeReplica);
  });

  it('a cr-sqlite write only relayed by our sync is put back to the sum (counted where it was merged)', () => {
    const [A, B] = replicas(2);
    A.db.prepare(`INSERT INTO items (id, stock) VALUES (1, 10)`).run();
    syncStream(A, B);
    const cv = A.engine.changesSince(0).find((c) => c.cid === 'stock')!;
    // a version from a site with no history, arriving through applyChanges: not a contribution
    const foreign = { ...cv, val: 99n, col_version: cv.col_version + 5, site_id: new Uint8Array(16).fill(7), db_version: cv.db_version };
    B.engine.applyChanges([foreign]);
    expect(cell(B, 'stock')).toBe(10n);
    [A, B].forEach(closeReplica);
  });
});
