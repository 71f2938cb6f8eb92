// A prepared INSERT INTO crsql_changes run many times in one transaction keeps most of its rows
// in JS (changes-insert.ts) and stages them when another statement is about to run. What the
// caller sees must be what the trigger alone gives: the same results and errors, rows merged
// before anything reads, nothing of a rolled-back savepoint or transaction, and nothing that
// depends on the caller's buffers after run() returned.
import { describe, it, expect, afterAll } from 'vitest';
import { join } from 'node:path';
import { closeReplica, openReplica, tableSnapshot, tempDir, type Replica } from './test-helpers.ts';
import { packPrimaryKey } from './pack-pk.ts';
import { toChange } from './change-pages.ts';

const tmp = tempDir('crr-insert-');
afterAll(() => tmp.cleanup());

const SCHEMA = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER)';
const CHANGES = `SELECT "table", pk, cid, val, col_version, db_version, site_id, cl, seq FROM crsql_changes`;
const INSERT = `INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

let n = 0;
function replica(): Replica {
  const r = openReplica(join(tmp.dir, `r${n++}.db`));
  r.db.exec(SCHEMA);
  r.engine.asCrr('t');
  return r;
}

/** a source with `rows` rows, then an edit of b in some of them; its crsql_changes rows */
function source(rows: number): { r: Replica; changes: unknown[][] } {
  const r = replica();
  const ins = r.db.prepare('INSERT INTO t VALUES (?, ?, ?)');
  r.db.transaction(() => {
    for (let i = 1; i <= rows; i++) ins.run(i, `a${i}`, i);
  })();
  r.db.prepare('UPDATE t SET b = b * 10 WHERE id % 3 = 0').run();
  return { r, changes: r.db.prepare(CHANGES).raw().all() as unknown[][] };
}

describe('INSERT INTO crsql_changes kept in JS', () => {
  it('a batch ends as the trigger alone ends it: the table, its changes and what run() returns', () => {
    const { r: src, changes } = source(40);
    const viaJs = replica();
    const viaTrigger = replica();
    try {
      const st = viaJs.db.prepare(INSERT);
      const results = viaJs.db.transaction(() => changes.map((c) => st.run(...c)))();
      // one statement per run: every run goes through the trigger
      const given = viaTrigger.db.transaction(() => changes.map((c) => viaTrigger.db.prepare(INSERT + ' ').run(...c)))();
      expect(results).toEqual(given);
      expect(results[0].changes).toBe(0);
      expect(tableSnapshot(viaJs.db, 't')).toEqual(tableSnapshot(src.db, 't'));
      const sorted = (r: Replica) => (r.db.prepare(CHANGES).raw().all() as unknown[][]).map((x) => JSON.stringify(x)).sort();
      expect(sorted(viaJs)).toEqual(sorted(viaTrigger));
      expect(viaJs.db.prepare(`SELECT count(*) FROM crr_history`).pluck().get()).toBe(viaTrigger.db.prepare(`SELECT count(*) FROM crr_history`).pluck().get());
    } finally {
      [src, viaJs, viaTrigger].forEach(closeReplica);
    }
  });

  it('a statement between runs reads the rows merged so far', () => {
    const { r: src, changes } = source(6);
    const dst = replica();
    try {
      const st = dst.db.prepare(INSERT);
      const count = dst.db.prepare('SELECT count(*) FROM t').pluck();
      const seen: unknown[] = [];
      dst.db.transaction(() => {
        for (const [i, c] of changes.entries()) {
          st.run(...c);
          if (i % 5 === 4) seen.push(count.get());
        }
      })();
      // a row shows once its last cell came: each of the first rows' cells come together
      expect(seen[0]).toBeGreaterThan(0);
      expect(count.get()).toBe(6);
    } finally {
      [src, dst].forEach(closeReplica);
    }
  });

  it('ROLLBACK TO a savepoint drops the rows run after it, a failed transaction drops all, and the next batch merges', () => {
    const { r: src, changes } = source(20);
    const dst = replica();
    try {
      const st = dst.db.prepare(INSERT);
      const half = Math.floor(changes.length / 2);
      dst.db.transaction(() => {
        for (const c of changes.slice(0, half)) st.run(...c);
        dst.db.prepare('SAVEPOINT s').run();
        for (const c of changes.slice(half)) st.run(...c);
        dst.db.prepare('ROLLBACK TO s').run();
        dst.db.prepare('RELEASE s').run();
      })();
      const afterFirst = (dst.db.prepare(CHANGES).raw().all() as unknown[][]).length;
      const firstHalf = replica();
      try {
        const one = firstHalf.db.prepare(INSERT);
        firstHalf.db.transaction(() => {
          for (const c of changes.slice(0, half)) one.run(...c);
        })();
        expect(tableSnapshot(dst.db, 't')).toEqual(tableSnapshot(firstHalf.db, 't'));
        expect(afterFirst).toBe((firstHalf.db.prepare(CHANGES).raw().all() as unknown[][]).length);
      } finally {
        closeReplica(firstHalf);
      }
      expect(() =>
        dst.db.transaction(() => {
          for (const c of changes.slice(half)) st.run(...c);
          throw new Error('given up');
        })(),
      ).toThrow('given up');
      expect((dst.db.prepare(CHANGES).raw().all() as unknown[][]).length).toBe(afterFirst);
      dst.db.transaction(() => {
        for (const c of changes) st.run(...c);
      })();
      expect(tableSnapshot(dst.db, 't')).toEqual(tableSnapshot(src.db, 't'));
    } finally {
      [src, dst].forEach(closeReplica);
    }
  });

  it("a bad row after good ones fails with the trigger's error; the good ones merge when the transaction commits", () => {
    const { r: src, changes } = source(8);
    const dst = replica();
    try {
      const st = dst.db.prepare(INSERT);
      const errors: string[] = [];
      dst.db.transaction(() => {
        for (const [i, c] of changes.entries()) {
          st.run(...c);
          if (i === 3) {
            for (const bad of [
              ['t', c[1], 'nope', 1, 1, 1, c[6], 1, 0],
              ['t', c[1], 'a', 1, -1, 1, c[6], 1, 0],
              ['t', c[1], 'a', 1, 1, 1, Buffer.alloc(3), 1, 0],
              ['t', c[1], 'a', 1, 1, 2 ** 40, c[6], 1, 0],
              ['t', Buffer.from([9, 9]), 'a', 1, 1, 1, c[6], 1, 0],
              ['u', c[1], 'a', 1, 1, 1, c[6], 1, 0],
            ]) {
              try {
                st.run(...bad);
              } catch (err) {
                errors.push(String(err));
              }
            }
          }
        }
      })();
      expect(errors).toHaveLength(6);
      expect(errors[0]).toMatch(/unknown column/);
      expect(errors[1]).toMatch(/col_version must be an integer/);
      expect(errors[2]).toMatch(/site_id must be a 16-byte blob/);
      expect(errors[3]).toMatch(/too far ahead/);
      expect(errors[5]).toMatch(/no CRR table by that name/);
      expect(tableSnapshot(dst.db, 't')).toEqual(tableSnapshot(src.db, 't'));
    } finally {
      [src, dst].forEach(closeReplica);
    }
  });

  it("merges the values run() was given, whatever the caller does with its buffers afterwards", () => {
    const { r: src, changes } = source(5);
    const dst = replica();
    try {
      const st = dst.db.prepare(INSERT);
      const blobs = changes.map((c) => c.map((v) => (Buffer.isBuffer(v) ? Buffer.from(v) : v)));
      dst.db.transaction(() => {
        for (const c of blobs) {
          st.run(...c);
          for (const v of c) if (Buffer.isBuffer(v)) v.fill(0);
        }
      })();
      expect(tableSnapshot(dst.db, 't')).toEqual(tableSnapshot(src.db, 't'));
      expect(dst.db.prepare(`SELECT count(*) FROM crr_sites WHERE site_id = zeroblob(16)`).pluck().get()).toBe(0);
    } finally {
      [src, dst].forEach(closeReplica);
    }
  });

  it('two statements run in turn, and a script between them, merge as one', () => {
    const { r: src, changes } = source(12);
    const dst = replica();
    try {
      const [st1, st2] = [dst.db.prepare(INSERT), dst.db.prepare(INSERT.replace('VALUES', ' VALUES'))];
      dst.db.transaction(() => {
        for (const [i, c] of changes.entries()) {
          (i % 2 ? st1 : st2).run(...c);
          if (i === 7) dst.db.exec('SELECT 1');
        }
      })();
      expect(tableSnapshot(dst.db, 't')).toEqual(tableSnapshot(src.db, 't'));
    } finally {
      [src, dst].forEach(closeReplica);
    }
  });

  it("new rows merge alike in a batch and one change at a time: two writers alike but for the site, a REAL 7.0 in an INTEGER column", () => {
    const [A, B] = [Buffer.alloc(16, 1), Buffer.alloc(16, 2)];
    const pk = (id: number) => Buffer.from(packPrimaryKey([BigInt(id)]));
    // (a first row so the others are not their batch's first run, which takes the trigger); a JS
    // number binds as a REAL, which the INTEGER column b stores as an INTEGER: its version row
    // keeps it as it came, so no clock may imply it (its value would be read from the table)
    const rows = [
      ['t', pk(9), 'a', 'x', 1, 5, A, 1, 0],
      ['t', pk(9), 'b', 7, 1, 5, A, 1, 1],
      ['t', pk(1), 'a', 'one', 1, 5, A, 1, 0],
      ['t', pk(1), 'b', 2n, 1, 5, B, 1, 1],
      ['t', pk(5), 'a', 'five', 1, 6, A, 1, 0],
      ['t', pk(5), 'b', 3, 1, 6, A, 1, 1],
      ['t', pk(4), 'a', 'four', 1, 6, A, 1, 2],
      ['t', pk(4), 'b', 4n, 1, 6, A, 1, 3],
    ];
    const changes = rows.map(([table, p, cid, val, col_version, db_version, site_id, cl, seq]) =>
      toChange({ table, pk: p, cid, val, col_version, db_version, site_id, cl, seq } as Parameters<typeof toChange>[0]),
    );
    const [viaJs, oneByOne, batch] = [replica(), replica(), replica()];
    try {
      const st = viaJs.db.prepare(INSERT);
      viaJs.db.transaction(() => {
        for (const r of rows) st.run(...r);
      })();
      for (const c of changes) oneByOne.engine.applyChanges([c]);
      batch.engine.applyChanges(changes);
      const state = (r: Replica) => ({
        changes: (r.db.prepare(`SELECT hex(pk), cid, quote(val), col_version, hex(site_id), cl, seq FROM crsql_changes`).raw().all() as unknown[][]).map((x) => x.join('|')).sort(),
        history: (r.db.prepare(`SELECT hex(pk), cid, cl, col_version, hex(site_id), quote(val), won FROM crr_history`).raw().all() as unknown[][]).map((x) => x.join('|')).sort(),
      });
      expect(state(viaJs)).toEqual(state(oneByOne));
      expect(state(batch)).toEqual(state(oneByOne));
      expect(state(viaJs).changes.filter((c) => c.includes(B.toString('hex').toUpperCase()))).toHaveLength(1);
      expect(state(viaJs).changes.filter((c) => c.includes('|b|7.0|') || c.includes('|b|3.0|'))).toHaveLength(2);
    } finally {
      [viaJs, oneByOne, batch].forEach(closeReplica);
    }
  });
});
