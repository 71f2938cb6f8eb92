// Cell history and conflicts (HISTORY.md): concurrent writes on 3 replicas delivered in every
// order give identical conflict records; causally ordered edits give history and no conflict;
// "Keep this value" converges everywhere; the views answer in plain SQL.
import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { openReplica, closeReplica, tempDir, tableSnapshot, syncStream, type Replica } from './test-helpers.ts';
import type { Change, Conflict } from './types.ts';
import type { SqlValue } from '../../shared/values.ts';
import { packPrimaryKey } from './pack-pk.ts';

const tmp = tempDir('crr-history-');
afterAll(() => tmp.cleanup());
let n = 0;

const SCHEMA = `CREATE TABLE items (id INTEGER PRIMARY KEY NOT NULL, name TEXT, qty INTEGER DEFAULT 0);
SELECT crsql_as_crr('items');`;

function replicas(count: number): Replica[] {
  n++;
  return Array.from({ length: count }, (_, i) => {
    const r = openReplica(join(tmp.dir, `h${n}-${i}.db`), { siteId: Uint8Array.from({ length: 16 }, () => i + 1) });
    r.db.exec(SCHEMA);
    return r;
  });
}

/** `from`'s stream (changes with their history) and policies to `to`, as our sync protocol sends them */
export function syncPair(from: Replica, to: Replica): void {
  syncStream(from, to);
}

const fullSync = (rs: Replica[]) => {
  for (let round = 0; round < 2; round++) for (const a of rs) for (const b of rs) if (a !== b) syncPair(a, b);
};

/** conflicts as comparable text: cell, parent, versions (site, value) and resolved */
const conflictSet = (r: Replica) =>
  r.engine.history
    .conflicts()
    .map((c: Conflict) =>
      [c.table, JSON.stringify(c.pk.map(String)), c.cid, c.cl, c.parent.col_version, c.versions.map((v) => `${v.site_id[0]}=${String(v.val)}`).join(','), c.resolved].join('|'),
    )
    .sort();
const historySet = (r: Replica) =>
  (r.db.prepare(`SELECT "table", pk, cid, cl, col_version, hex(site_id), quote(val), hex(parent_site_id), parent_col_version,
      resolves_parent_col_version FROM crr_history`).raw().all() as unknown[][]).map((x) => x.join('|')).sort();

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((x, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('cell history and conflicts', () => {
  it("says a version won when the column's affinity stored its value converted ('5' in an INTEGER column, 7.0 in one, 3 in TEXT)", () => {
    const [a, b] = replicas(2);
    // a peer whose columns have no type (a cr-sqlite peer, another schema) sends values as it holds them
    const site = Uint8Array.from({ length: 16 }, () => 9);
    const pk = packPrimaryKey([1n]);
    const change = (cid: string, val: SqlValue): Change => ({ table: 'items', pk, cid, val, col_version: 1, db_version: 1, site_id: site, cl: 1, seq: 0 });
    for (const r of [a, b]) r.engine.applyChanges([change('name', 3n), change('qty', '5')]);
    b.engine.applyChanges([{ ...change('qty', 7.0), col_version: 2, db_version: 2 }]);
    expect(tableSnapshot(a.db, 'items')).toEqual([['1', `'3'`, '5']]);
    expect(tableSnapshot(b.db, 'items')).toEqual([['1', `'3'`, '7']]);
    expect(a.engine.history.cell('items', [1n], 'qty').map((v) => [v.val, v.won])).toEqual([['5', true]]);
    expect(a.engine.history.cell('items', [1n], 'name').map((v) => [v.val, v.won])).toEqual([[3n, true]]);
    expect(b.engine.history.cell('items', [1n], 'qty').map((v) => [v.val, v.won])).toEqual([[7, true], ['5', false]]);
    for (const r of [a, b]) closeReplica(r);
  });

  it('with history off keeps one version row per cell, its current one, through updates, merges and a new life', () => {
    n++;
    const [a, b] = [0, 1].map((i) => {
      const r = openReplica(join(tmp.dir, `off${n}-${i}.db`), { siteId: Uint8Array.from({ length: 16 }, () => i + 1), history: i === 0 ? false : true });
      r.db.exec(SCHEMA);
      return r;
    });
    /** the version rows of item 1's name cell: col_version and causal length of each */
    const rowsOfName = () => a.db.prepare(`SELECT col_version, cl FROM items__crr_v WHERE id = 1 AND slot = (
        SELECT j.value ->> '$[1]' FROM crr_tables, json_each(columns, '$.cols') j WHERE crr_tables.name = 'items' AND j.value ->> '$[0]' = 'name')
      ORDER BY col_version`).raw().all();
    a.db.exec(`INSERT INTO items VALUES (1, 'one', 1)`);
    expect(rowsOfName()).toEqual([]); // the first version is implied by the row
    a.db.exec(`UPDATE items SET name = 'uno' WHERE id = 1`);
    a.db.exec(`UPDATE items SET name = 'eins' WHERE id = 1`);
    expect(rowsOfName()).toEqual([[3, 1]]);
    syncPair(a, b);
    b.db.exec(`UPDATE items SET name = 'un' WHERE id = 1`);
    syncPair(b, a);
    expect(rowsOfName()).toEqual([[4, 1]]);
    a.db.exec(`UPDATE items SET name = 'ichi' WHERE id = 1`);
    expect(rowsOfName()).toEqual([[5, 1]]);
    // a new life: the old life's version goes with the first update in it
    a.db.exec(`DELETE FROM items WHERE id = 1; INSERT INTO items VALUES (1, 'again', 2); UPDATE items SET name = 'and again' WHERE id = 1`);
    expect(rowsOfName()).toEqual([[2, 3]]);
    expect(tableSnapshot(a.db, 'items')).toEqual([['1', "'and again'", '2']]);
    syncPair(a, b);
    expect(tableSnapshot(b.db, 'items')).toEqual(tableSnapshot(a.db, 'items'));
    closeReplica(a);
    closeReplica(b);
  });

  it('records every local version with its parent, and says which one is the value now', () => {
    const [a] = replicas(1);
    a.db.prepare(`INSERT INTO items VALUES (1, 'apple', 3)`).run();
    a.db.prepare(`UPDATE items SET name = 'apples' WHERE id = 1`).run();
    a.db.prepare(`UPDATE items SET name = 'green apples' WHERE id = 1`).run();
    const h = a.engine.history.cell('items', [1n], 'name');
    expect(h.map((v) => [v.val, v.col_version, v.parent?.col_version, v.won])).toEqual([
      ['green apples', 3, 2, true],
      ['apples', 2, 1, false],
      ['apple', 1, 0, false],
    ]);
    expect(h[0].written_at).toBeGreaterThan(Date.now() - 60_000);
    expect(a.engine.history.conflicts()).toEqual([]);
    closeReplica(a);
  });

  it('concurrent writes of one cell on 3 replicas, delivered in every order, give identical conflict records', () => {
    for (const order of permutations([0, 1, 2])) {
      const rs = replicas(3);
      rs[0].db.prepare(`INSERT INTO items VALUES (1, 'pear', 1)`).run();
      for (const r of rs.slice(1)) syncPair(rs[0], r);
      rs[0].engine.history.setPolicy('items', 'name', 'review');
      for (const r of rs.slice(1)) syncPair(rs[0], r);
      // three writers, none has seen the others' version
      rs.forEach((r, i) => r.db.prepare(`UPDATE items SET name = ? WHERE id = 1`).run(`pear-${i}`));
      // deliver pairwise in this order, then everything
      for (const from of order) for (const to of order) if (from !== to) syncPair(rs[from], rs[to]);
      fullSync(rs);
      const first = conflictSet(rs[0]);
      expect(first).toEqual([`items|["1"]|name|1|1|3=pear-2,2=pear-1,1=pear-0|false`]);
      for (const r of rs) expect(conflictSet(r)).toEqual(first);
      for (const r of rs) expect(historySet(r)).toEqual(historySet(rs[0]));
      expect(rs[1].engine.history.unresolvedCount()).toBe(1);
      rs.forEach(closeReplica);
    }
  });

  it('a replica that only ever received the winning value still learns the losers', () => {
    const [a, b, c] = replicas(3);
    a.db.prepare(`INSERT INTO items VALUES (1, 'fig', 1)`).run();
    syncPair(a, b);
    a.db.prepare(`UPDATE items SET qty = 5 WHERE id = 1`).run();
    b.db.prepare(`UPDATE items SET qty = 9 WHERE id = 1`).run();
    syncPair(a, b); // b now holds both; 9 wins
    syncPair(b, c); // c only ever talks to b: the change route carries only 9
    const conflicts = c.engine.history.conflicts();
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0].versions.map((v) => v.val)).toEqual([9n, 5n]);
    expect(conflicts[0].resolved).toBe(true); // lww: recorded, decided
    expect(conflictSet(c)).toEqual(conflictSet(b));
    [a, b, c].forEach(closeReplica);
  });

  it('causally ordered edits are history, not conflicts', () => {
    const [a, b] = replicas(2);
    a.db.prepare(`INSERT INTO items VALUES (1, 'kiwi', 1)`).run();
    syncPair(a, b);
    b.db.prepare(`UPDATE items SET name = 'kiwi!' WHERE id = 1`).run(); // b saw a's value
    syncPair(b, a);
    a.db.prepare(`UPDATE items SET name = 'kiwis' WHERE id = 1`).run(); // a saw b's
    fullSync([a, b]);
    for (const r of [a, b]) {
      expect(r.engine.history.conflicts()).toEqual([]);
      expect(r.engine.history.cell('items', [1n], 'name').map((v) => v.val)).toEqual(['kiwis', 'kiwi!', 'kiwi']);
    }
    expect(historySet(a)).toEqual(historySet(b));
    [a, b].forEach(closeReplica);
  });

  it('"Keep this value" writes a version that wins everywhere and resolves the conflict on every peer', () => {
    const rs = replicas(3);
    const [a, b, c] = rs;
    a.db.prepare(`INSERT INTO items VALUES (1, 'plum', 1)`).run();
    fullSync(rs);
    a.engine.history.setPolicy('items', 'name', 'review');
    fullSync(rs);
    a.db.prepare(`UPDATE items SET name = 'plum A' WHERE id = 1`).run();
    b.db.prepare(`UPDATE items SET name = 'plum B' WHERE id = 1`).run();
    fullSync(rs);
    expect(a.db.prepare('SELECT name FROM items').pluck().get()).toBe('plum B');
    const [conflict] = c.engine.history.conflicts({ unresolvedOnly: true });
    const keepA = conflict.versions.find((v) => v.val === 'plum A')!;
    c.engine.history.resolve(conflict, keepA.site_id);
    expect(c.engine.history.conflicts({ unresolvedOnly: true })).toEqual([]);
    fullSync(rs);
    for (const r of rs) {
      expect(r.db.prepare('SELECT name FROM items').pluck().get()).toBe('plum A');
      expect(r.engine.history.unresolvedCount()).toBe(0);
      const latest = r.engine.history.cell('items', [1n], 'name')[0];
      expect(latest.resolves?.versions).toBe(2);
      expect(latest.site_id[0]).toBe(3);
    }
    expect(conflictSet(a)).toEqual(conflictSet(b));
    expect(historySet(a)).toEqual(historySet(c));
    // keeping the value that already won still records a resolution
    a.db.prepare(`UPDATE items SET qty = 2 WHERE id = 1`).run();
    a.engine.history.setPolicy('items', 'qty', 'review');
    b.db.prepare(`UPDATE items SET qty = 3 WHERE id = 1`).run();
    fullSync(rs);
    const [q] = a.engine.history.conflicts({ unresolvedOnly: true });
    a.engine.history.resolve(q, q.versions[0].site_id);
    fullSync(rs);
    for (const r of rs) expect(r.engine.history.unresolvedCount()).toBe(0);
    for (const r of rs) expect(tableSnapshot(r.db, 'items')).toEqual(tableSnapshot(a.db, 'items'));
    rs.forEach(closeReplica);
  });

  it('a plain connection without the engine can query crr_history and crr_conflicts', () => {
    const [a, b] = replicas(2);
    a.db.prepare(`INSERT INTO items VALUES (1, 'lime', 1)`).run();
    syncPair(a, b);
    a.db.prepare(`UPDATE items SET name = 'lemon' WHERE id = 1`).run();
    b.db.prepare(`UPDATE items SET name = 'limes' WHERE id = 1`).run();
    fullSync([a, b]);
    const plain = new Database(a.path, { readonly: true });
    expect(plain.prepare(`SELECT count(*) FROM crr_history WHERE cid = 'name'`).pluck().get()).toBe(3);
    const row = plain.prepare(`SELECT "table", pk, cid, versions, resolved, competing FROM crr_conflicts`).get() as Record<string, unknown>;
    expect(row).toMatchObject({ table: 'items', pk: '1', cid: 'name', versions: 2, resolved: 1 });
    expect(JSON.parse(String(row.competing)).map((v: { val: string }) => v.val).sort()).toEqual([`'lemon'`, `'limes'`]);
    plain.close();
    [a, b].forEach(closeReplica);
  });

  it('versions of a life that ended before they met stay history on every replica (equal values, re-insert, delete)', () => {
    // found by the three-process sync test: B and C re-insert a deleted row with the same values
    // at once, then B deletes it before C's version arrives
    const [a, b, c] = replicas(3);
    a.db.prepare(`INSERT INTO items VALUES (1, 'x', 1)`).run();
    fullSync([a, b, c]);
    a.db.prepare(`DELETE FROM items WHERE id = 1`).run();
    fullSync([a, b, c]);
    b.db.prepare(`INSERT INTO items VALUES (1, 'same', 5)`).run();
    c.db.prepare(`INSERT INTO items VALUES (1, 'same', 5)`).run();
    b.db.prepare(`DELETE FROM items WHERE id = 1`).run();
    syncPair(c, a);
    syncPair(b, a);
    fullSync([a, b, c]);
    const h = historySet(a);
    expect(h.filter((x) => x.includes('|3|1|') && x.includes("'same'"))).toHaveLength(2);
    expect(historySet(b)).toEqual(h);
    expect(historySet(c)).toEqual(h);
    [a, b, c].forEach(closeReplica);
  });

  it('rejects a malformed version reference and applies nothing from its batch', () => {
    const [a] = replicas(1);
    const good = { table: 'items', pk: new Uint8Array([1, 9, 1]), cid: 'name', val: 'x', col_version: 2, db_version: 1, site_id: new Uint8Array(16).fill(9), cl: 1, seq: 0 };
    const bad = { ...good, pk: new Uint8Array([1, 9, 2]), parent: { site_id: new Uint8Array(3), col_version: 1 } };
    expect(() => a.engine.applyChanges([good, bad])).toThrow(/parent/);
    expect(a.db.prepare(`SELECT count(*) FROM crr_history`).pluck().get()).toBe(0);
    closeReplica(a);
  });
});

describe('history retention', () => {
  it('keeps the newest versions per cell and never a conflict member', () => {
    const [a, b] = replicas(2);
    a.db.prepare(`INSERT INTO items VALUES (1, 'v0', 1)`).run();
    syncPair(a, b);
    a.db.prepare(`UPDATE items SET qty = 10 WHERE id = 1`).run();
    b.db.prepare(`UPDATE items SET qty = 20 WHERE id = 1`).run();
    fullSync([a, b]);
    for (let i = 1; i <= 30; i++) a.db.prepare(`UPDATE items SET name = ? WHERE id = 1`).run(`v${i}`);
    expect(a.engine.history.cell('items', [1n], 'name')).toHaveLength(31);
    expect(a.engine.history.prune(5)).toBe(26);
    expect(a.engine.history.cell('items', [1n], 'name').map((v) => v.val)).toEqual(['v30', 'v29', 'v28', 'v27', 'v26']);
    // qty has 3 versions; with retention 1 the two concurrent ones stay (they are a conflict)
    a.engine.history.prune(1);
    expect(a.engine.history.cell('items', [1n], 'qty').map((v) => v.val).sort()).toEqual([10n, 20n]);
    expect(a.engine.history.conflicts()).toHaveLength(1);
    [a, b].forEach(closeReplica);
  });

  it('prunes on its own once 50k versions came in, over commits of any size', () => {
    const [a] = replicas(1);
    const ins = a.db.prepare(`INSERT INTO items VALUES (?, 'v', 0)`);
    a.db.transaction(() => {
      for (let i = 0; i < 1000; i++) ins.run(i);
    })();
    const up = a.db.prepare(`UPDATE items SET qty = qty + 1 WHERE id = ?`);
    const most = () => a.db.prepare(`SELECT max(n) FROM (SELECT count(*) AS n FROM items__crr_v GROUP BY id, slot)`).pluck().get() as number;
    // 49 rounds of every row in commits of 500 updates, then single commits: no prune yet
    for (let c = 0; c < 98; c++) {
      a.db.transaction(() => {
        for (let i = (c % 2) * 500; i < (c % 2) * 500 + 500; i++) up.run(i);
      })();
    }
    for (let i = 0; i < 999; i++) up.run(i);
    expect(most()).toBe(50);
    // the 50,000th version's commit prunes every cell to the 20 it keeps
    up.run(999);
    expect(most()).toBe(20);
    expect(a.engine.history.cell('items', [0n], 'qty').map((v) => v.val)[0]).toBe(50n);
    closeReplica(a);
  });

  it('drops the oldest version of a cell that has one more than it keeps, and nothing below that', () => {
    const [a] = replicas(1);
    a.db.prepare(`INSERT INTO items VALUES (1, 'v0', 1)`).run();
    a.db.prepare(`INSERT INTO items VALUES (2, 'w0', 1)`).run();
    // name of row 1: the first version and 5 more (the first kept beside the second: has_first)
    for (let i = 1; i <= 5; i++) a.db.prepare(`UPDATE items SET name = ? WHERE id = 1`).run(`v${i}`);
    // name of row 2: 5 versions, as many as it keeps
    for (let i = 1; i <= 4; i++) a.db.prepare(`UPDATE items SET name = ? WHERE id = 2`).run(`w${i}`);
    expect(a.engine.history.prune(5)).toBe(1);
    expect(a.engine.history.cell('items', [1n], 'name').map((v) => v.val)).toEqual(['v5', 'v4', 'v3', 'v2', 'v1']);
    expect(a.engine.history.cell('items', [2n], 'name')).toHaveLength(5);
    // one more version each: both cells lose their oldest
    a.db.prepare(`UPDATE items SET name = 'v6' WHERE id = 1`).run();
    a.db.prepare(`UPDATE items SET name = 'w5' WHERE id = 2`).run();
    expect(a.engine.history.prune(5)).toBe(2);
    expect(a.engine.history.cell('items', [1n], 'name').map((v) => v.val)).toEqual(['v6', 'v5', 'v4', 'v3', 'v2']);
    expect(a.engine.history.cell('items', [2n], 'name').map((v) => v.val)).toEqual(['w5', 'w4', 'w3', 'w2', 'w1']);
    closeReplica(a);
  });
});
