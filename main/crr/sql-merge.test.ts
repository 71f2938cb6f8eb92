// Merging what cr-sqlite peers send (their crsql_changes rows: current versions only) through
// INSERT INTO crsql_changes in one transaction must give what applyChanges gives for the same
// rows in any page split: the same table, the same clocks, the same history. Both paths share the
// merge program, but stage differently (the SQL path's first row of a batch in a trigger, the
// rest kept in JS and grouped by row: changes-insert.ts; applyChanges in page-sized runs), so this
// holds the staging paths to one result.
import { describe, it, expect, afterAll } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import { closeReplica, openReplica, streamChanges, tableSnapshot, tempDir, type Replica } from './test-helpers.ts';
import { toChange } from './change-pages.ts';

const tmp = tempDir('crr-sqlmerge-');
afterAll(() => tmp.cleanup());

const SCHEMA = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER, c BLOB)';
const CHANGES = `SELECT "table", pk, cid, val, col_version, db_version, site_id, cl, seq FROM crsql_changes`;

const op = fc.record({
  at: fc.nat(2),
  kind: fc.constantFrom('insert', 'insert', 'update', 'delete'),
  id: fc.integer({ min: 1, max: 6 }),
  col: fc.constantFrom('a', 'b', 'c'),
  v: fc.oneof(fc.constant(null), fc.integer({ min: -3, max: 3 }), fc.string({ maxLength: 3 }), fc.uint8Array({ maxLength: 2 })),
});

function write(r: Replica, o: { kind: string; id: number; col: string; v: unknown }): void {
  const v = o.v instanceof Uint8Array ? Buffer.from(o.v) : o.v;
  try {
    if (o.kind === 'insert') r.db.prepare('INSERT INTO t (id, a, b, c) VALUES (?, ?, ?, ?)').run(o.id, typeof v === 'string' ? v : null, typeof v === 'number' ? v : null, v instanceof Buffer ? v : null);
    else if (o.kind === 'update') r.db.prepare(`UPDATE t SET ${o.col} = ? WHERE id = ?`).run(v, o.id);
    else r.db.prepare('DELETE FROM t WHERE id = ?').run(o.id);
  } catch (err) {
    if (!/constraint/i.test(String(err))) throw err;
  }
}

function state(r: Replica) {
  return {
    table: tableSnapshot(r.db, 't'),
    clocks: r.engine
      .changesSince(0)
      // (which writer's clock a cell keeps when equal values tie depends on arrival: cr-sqlite's rule)
      .map((c) => [Buffer.from(c.pk).toString('hex'), c.cid, c.col_version, c.cl].join('|'))
      .sort(),
    // every version with its writer's seq (a live row's sentinel shows or not by how it came)
    versions: streamChanges(r, 0)
      .filter((c) => c.cid !== '-1' || c.cl % 2 === 0)
      .map((c) => [Buffer.from(c.pk).toString('hex'), c.cid, c.cl, c.col_version, Buffer.from(c.site_id).toString('hex'), c.seq].join('|'))
      .sort(),
    history: (r.db.prepare(`SELECT pk, cid, cl, col_version, hex(site_id), quote(val), won FROM crr_history`).raw().all() as unknown[][])
      .map((x) => x.join('|'))
      .sort(),
  };
}

describe('INSERT INTO crsql_changes and applyChanges', () => {
  it('merge cr-sqlite-shaped changes (shuffled, delivered twice) to the same table, clocks and history', () => {
    let run = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 9 }), fc.nat(), (ops, page, salt) => {
        run++;
        const open = (name: string) => {
          const r = openReplica(join(tmp.dir, `${run}-${name}.db`));
          r.db.exec(SCHEMA);
          r.engine.asCrr('t');
          return r;
        };
        const sources = [open('s0'), open('s1'), open('s2')];
        const bySql = open('sql');
        const byApply = open('apply');
        try {
          for (const o of ops) write(sources[o.at], o);
          const rows = sources.flatMap((s) => s.db.prepare(CHANGES).raw().safeIntegers(true).all() as unknown[][]);
          // delivered twice, in a shuffled order (a peer resending after a reconnect)
          const twice = [...rows, ...rows].map((r, i) => ({ r, k: (i * 2654435761 + salt) % 1000003 })).sort((x, y) => x.k - y.k).map((x) => x.r);
          const ins = bySql.db.prepare(`INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
          bySql.db.transaction(() => { for (const r of twice) ins.run(...r); })();
          const changes = (sources.flatMap((s) => s.db.prepare(CHANGES).safeIntegers(true).all()) as Parameters<typeof toChange>[0][]).map(toChange);
          for (let i = 0; i < changes.length; i += page) byApply.engine.applyChanges(changes.slice(i, i + page));
          expect(state(bySql)).toEqual(state(byApply));
        } finally {
          [...sources, bySql, byApply].forEach(closeReplica);
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('new rows merged in one batch (the fast paths) end as the same changes merged one by one (the general program)', () => {
    let run = 0;
    // mostly inserts of new keys, then edits of their cells: rows that arrive whole, and rows
    // that arrive fresh (every column, some at later versions or from another writer)
    const newRowOp = fc.record({
      at: fc.nat(1),
      kind: fc.constantFrom('insert', 'insert', 'insert', 'update', 'update', 'delete'),
      id: fc.integer({ min: 1, max: 12 }),
      col: fc.constantFrom('a', 'b', 'c'),
      v: op.map((o) => o.v),
    }).map((o) => o as { at: number; kind: string; id: number; col: string; v: unknown });
    fc.assert(
      fc.property(fc.array(newRowOp, { minLength: 1, maxLength: 40 }), fc.nat(), fc.boolean(), (ops, salt, relay) => {
        run++;
        const open = (name: string) => {
          const r = openReplica(join(tmp.dir, `new-${run}-${name}.db`));
          r.db.exec(SCHEMA);
          r.engine.asCrr('t');
          return r;
        };
        const sources = [open('s0'), open('s1')];
        const bySql = open('sql');
        const oneByOne = open('one');
        try {
          for (const o of ops) write(sources[o.at], o);
          // relayed: the second source merged the first's rows and is the only one heard, so new
          // rows come with cells of both writers (the same key inserted on both: winners of each)
          if (relay) sources[1].engine.applyChanges(sources[0].engine.changesSince(0));
          const heard = relay ? [sources[1]] : sources;
          const rows = heard.flatMap((s) => s.db.prepare(CHANGES).raw().safeIntegers(true).all() as unknown[][]);
          const ins = bySql.db.prepare(`INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
          bySql.db.transaction(() => { for (const r of rows) ins.run(...r); })();
          const changes = (heard.flatMap((s) => s.db.prepare(CHANGES).safeIntegers(true).all()) as Parameters<typeof toChange>[0][]).map(toChange);
          const shuffled = changes.map((c, i) => ({ c, k: (i * 2654435761 + salt) % 1000003 })).sort((x, y) => x.k - y.k).map((x) => x.c);
          for (const c of shuffled) oneByOne.engine.applyChanges([c]);
          expect(state(bySql)).toEqual(state(oneByOne));
        } finally {
          [...sources, bySql, oneByOne].forEach(closeReplica);
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);
});
