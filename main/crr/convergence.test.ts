// Property: replicas that have seen the same changes hold identical tables (contents and
// storage classes), whatever the operations, delivery order, duplicates and partial syncs; and
// after a full sync (the sync stream carries history) the same cell history and conflicts, as sets.
// t5.n is a counter column and t5.body a text column (merge policies counter and text): every
// counter equals the sum of all the deltas written to its row in the row's current life.
// Longer local soak: CRR_SOAK_RUNS=5000 npx vitest run main/crr/convergence.test.ts
import { describe, it, expect, afterAll } from 'vitest';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { SqlValue } from '../../shared/values.ts';
import type { Change } from './types.ts';
import { openReplica, closeReplica, tempDir, tableSnapshot, streamChanges, type Replica } from './test-helpers.ts';

const RUNS = Number(process.env.CRR_SOAK_RUNS ?? 300);
const SEED = Number(process.env.CRR_SOAK_SEED ?? 20261124);
const tmp = tempDir('crr-converge-');
afterAll(() => tmp.cleanup());

const SCHEMA = `
CREATE TABLE t5 (id INTEGER PRIMARY KEY NOT NULL, c1, c2 TEXT, c3 INTEGER DEFAULT 0, c4 REAL, c5 BLOB, n INTEGER DEFAULT 0, body TEXT);
CREATE TABLE tags (a INTEGER NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b));
SELECT crsql_as_crr('t5');
SELECT crsql_as_crr('tags');`;
const COLS = ['c1', 'c2', 'c3', 'c4', 'c5'];

const value: fc.Arbitrary<SqlValue> = fc.oneof(
  fc.constant(null),
  fc.bigInt({ min: -3n, max: 3n }),
  fc.constantFrom(2n ** 62n, -(2n ** 63n)),
  fc.constantFrom(0.5, 1.0, 3.0, -2.25, 1e300),
  fc.constantFrom('', 'a', 'b', 'é', '3'),
  fc.constantFrom(new Uint8Array(), Uint8Array.of(0), Uint8Array.of(1, 2)),
);
const id = fc.integer({ min: 1, max: 5 });
const replicaIx = fc.nat({ max: 4 });

type Op =
  | { kind: 'insert'; at: number; id: number; values: SqlValue[]; n: bigint; body: string | null }
  | { kind: 'add'; at: number; id: number; delta: bigint }
  | { kind: 'edit'; at: number; id: number; pos: number; del: number; ins: string }
  | { kind: 'update'; at: number; id: number; col: number; value: SqlValue }
  | { kind: 'delete'; at: number; id: number }
  | { kind: 'move'; at: number; id: number; to: number }
  | { kind: 'tag'; at: number; a: number; b: string; add: boolean }
  | { kind: 'pair'; at: number; first: Op; second: Op }
  // the same write by another program: a plain connection to the file (the triggers in the file track it)
  | { kind: 'outside'; at: number; write: Op }
  | { kind: 'policy'; at: number; col: number; review: boolean }
  | { kind: 'keep'; at: number; pick: number }
  | { kind: 'sync'; from: number; to: number; mode: 'full' | 'delta' | 'shuffled' | 'twice' | 'partial'; salt: number };

const write: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.oneof(
      fc.record({
        kind: fc.constant('insert' as const), at: replicaIx, id, values: fc.array(value, { minLength: 5, maxLength: 5 }),
        n: fc.bigInt({ min: -5n, max: 9n }), body: fc.constantFrom(null, '', 'abc', 'line one\nline two'),
      }),
      fc.record({ kind: fc.constant('update' as const), at: replicaIx, id, col: fc.nat({ max: 4 }), value }),
      fc.record({ kind: fc.constant('delete' as const), at: replicaIx, id }),
      fc.record({ kind: fc.constant('move' as const), at: replicaIx, id, to: id }),
      fc.record({ kind: fc.constant('tag' as const), at: replicaIx, a: fc.integer({ min: 1, max: 3 }), b: fc.constantFrom('x', 'y'), add: fc.boolean() }),
    ),
  },
  {
    // the counter and the text column
    weight: 2,
    arbitrary: fc.oneof(
      fc.record({ kind: fc.constant('add' as const), at: replicaIx, id, delta: fc.bigInt({ min: -4n, max: 4n }) }),
      fc.record({ kind: fc.constant('edit' as const), at: replicaIx, id, pos: fc.nat({ max: 12 }), del: fc.nat({ max: 3 }), ins: fc.constantFrom('', 'x', 'yz', '\n', 'é') }),
    ),
  },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: write },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pair' as const), at: replicaIx, first: write, second: write }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('outside' as const), at: replicaIx, write }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('policy' as const), at: replicaIx, col: fc.nat({ max: 4 }), review: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('keep' as const), at: replicaIx, pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('sync' as const),
      from: replicaIx,
      to: replicaIx,
      mode: fc.constantFrom('full' as const, 'delta' as const, 'shuffled' as const, 'twice' as const, 'partial' as const),
      salt: fc.nat(),
    }),
  },
);

/** every delta written to a counter: [row id, the row's life it was written in, delta] */
type Deltas = [number, number, bigint][];

function lifeOf(db: Database.Database, id: number): number | null {
  const cl = db.prepare('SELECT cl FROM t5__crr_rows WHERE id = ?').safeIntegers(false).pluck().get(id) as number | undefined;
  return cl !== undefined && cl % 2 === 1 ? cl : null;
}
const counterOf = (db: Database.Database, id: number) => db.prepare('SELECT n FROM t5 WHERE id = ?').safeIntegers(true).pluck().get(id) as bigint | undefined;

function runWrite(r: Replica, o: Op, deltas: Deltas): void {
  const bind = (v: SqlValue) => (v instanceof Uint8Array ? Buffer.from(v) : v);
  switch (o.kind) {
    case 'insert': {
      // a REPLACE over a live row sets the sum (its difference counts); otherwise a new life starts from the value
      const lifeBefore = lifeOf(r.db, o.id);
      const before = counterOf(r.db, o.id);
      r.db.prepare('INSERT OR REPLACE INTO t5 (id, c1, c2, c3, c4, c5, n, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(o.id, ...o.values.map(bind), o.n, o.body);
      const life = lifeOf(r.db, o.id)!;
      deltas.push([o.id, life, life === lifeBefore ? o.n - (before ?? 0n) : o.n]);
      break;
    }
    case 'add':
      if (r.db.prepare('UPDATE t5 SET n = n + ? WHERE id = ?').run(o.delta, o.id).changes) deltas.push([o.id, lifeOf(r.db, o.id)!, o.delta]);
      break;
    case 'edit': {
      const body = r.db.prepare('SELECT body FROM t5 WHERE id = ?').pluck().get(o.id) as string | null | undefined;
      if (body === undefined) break;
      const text = body ?? '';
      const at = Math.min(o.pos, text.length);
      r.db.prepare('UPDATE t5 SET body = ? WHERE id = ?').run(text.slice(0, at) + o.ins + text.slice(at + o.del), o.id);
      break;
    }
    case 'update':
      r.db.prepare(`UPDATE t5 SET ${COLS[o.col]} = ? WHERE id = ?`).run(bind(o.value), o.id);
      break;
    case 'delete':
      r.db.prepare('DELETE FROM t5 WHERE id = ?').run(o.id);
      break;
    case 'move': {
      const value = counterOf(r.db, o.id);
      // the row's new life at its new key starts from its value
      if (r.db.prepare('UPDATE OR IGNORE t5 SET id = ? WHERE id = ?').run(o.to, o.id).changes && o.to !== o.id) deltas.push([o.to, lifeOf(r.db, o.to)!, value ?? 0n]);
      break;
    }
    case 'tag':
      if (o.add) r.db.prepare('INSERT OR IGNORE INTO tags VALUES (?, ?)').run(o.a, o.b);
      else r.db.prepare('DELETE FROM tags WHERE a = ? AND b = ?').run(o.a, o.b);
      break;
    case 'outside': {
      const other = new Database(r.path);
      try {
        runWrite({ ...r, db: other }, o.write, deltas);
      } finally {
        other.close();
      }
      break;
    }
    case 'pair':
      r.db.transaction(() => {
        runWrite(r, o.first, deltas);
        runWrite(r, o.second, deltas);
      })();
      break;
    case 'policy':
      r.engine.history.setPolicy('t5', COLS[o.col], o.review ? 'review' : 'lww');
      break;
    case 'keep': {
      // "Keep this value" on one of the replica's conflicts, resolved or not
      const conflicts = r.engine.history.conflicts().filter((c) => c.versions.length > 1);
      if (!conflicts.length) break;
      const c = conflicts[o.pick % conflicts.length];
      try {
        r.engine.history.resolve(c, c.versions[Math.floor(o.pick / conflicts.length) % c.versions.length].site_id);
      } catch (err) {
        if (!/deleted or re-created/.test(String(err))) throw err;
      }
      break;
    }
  }
}

function shuffle<T>(items: T[], salt: number): T[] {
  const out = [...items];
  let s = salt || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('convergence (fast-check)', () => {
  it(`${RUNS} random scripts over 2–5 replicas converge to identical tables`, () => {
    let run = 0;
    let conflictsSeen = 0;
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), fc.array(op, { minLength: 1, maxLength: 40 }), (n, ops) => {
        run++;
        const replicas = Array.from({ length: n }, (_, i) => {
          const r = openReplica(join(tmp.dir, `r${run}-${i}.db`));
          r.db.exec(SCHEMA);
          r.engine.history.setPolicy('t5', 'n', 'counter');
          r.engine.history.setPolicy('t5', 'body', 'text');
          return r;
        });
        const deltas: Deltas = [];
        // seen[to][from]: from's db_version when `to` last pulled from it (delta sync)
        const seen = replicas.map(() => replicas.map(() => 0));
        const sync = (from: number, to: number, mode: string, salt: number) => {
          if (from === to) return;
          const since = mode === 'delta' ? seen[to][from] : 0;
          const top = replicas[from].engine.dbVersion();
          // the sync stream: changes with their history, in pages
          let changes: Change[] = streamChanges(replicas[from], since, replicas[to].engine.siteId, 1 + (salt % 7));
          if (mode === 'shuffled') changes = shuffle(changes, salt);
          if (mode === 'twice') changes = [...changes, ...shuffle(changes, salt)];
          if (mode === 'partial') {
            // a dropped connection: only a prefix arrives, so nothing counts as seen
            replicas[to].engine.applyChanges(changes.slice(0, salt % (changes.length + 1)));
            return;
          }
          replicas[to].engine.applyChanges(changes);
          replicas[to].engine.history.applyPolicies(replicas[from].engine.history.policies());
          seen[to][from] = Math.max(seen[to][from], top);
        };
        try {
          for (const o of ops) {
            if (o.kind === 'sync') sync(o.from % n, o.to % n, o.mode, o.salt);
            else {
              try {
                const mark = deltas.length;
                try {
                  runWrite(replicas[o.at % n], o, deltas);
                } catch (err) {
                  deltas.length = mark; // a write that failed (a constraint) rolled back
                  throw err;
                }
              } catch (err) {
                if (!/constraint/i.test(String(err))) throw err;
              }
            }
          }
          // full syncs until nothing moves (settling counter and text cells writes local versions, which travel too)
          for (let round = 0, moved = true; moved; round++) {
            expect(round, 'replicas keep changing after full syncs').toBeLessThan(8);
            const heads = replicas.map((r) => r.engine.dbVersion());
            for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) sync(a, b, 'full', 0);
            moved = round < 1 || replicas.some((r, i) => r.engine.dbVersion() !== heads[i]);
          }
          for (const table of ['t5', 'tags']) {
            const first = tableSnapshot(replicas[0].db, table);
            for (let i = 1; i < n; i++) expect(tableSnapshot(replicas[i].db, table), `${table} on replica ${i}`).toEqual(first);
          }
          // every counter is the sum of the deltas written in its row's current life
          for (const [id, value] of replicas[0].db.prepare('SELECT id, n FROM t5').safeIntegers(true).raw().all() as [bigint, bigint][]) {
            const life = lifeOf(replicas[0].db, Number(id));
            const want = deltas.filter(([k, cl]) => k === Number(id) && cl === life).reduce((s, [, , d]) => s + d, 0n);
            expect(value, `counter of row ${id} (life ${life})`).toBe(want);
          }
          // and every replica holds the same clocks for every cell and deleted row (a live row's
          // sentinel is shown or not depending on how the row arrived, as in cr-sqlite)
          const clocks = (r: Replica) =>
            r.engine
              .changesSince(0)
              .filter((c) => c.cid !== '-1' || c.cl % 2 === 0)
              .map((c) => [c.table, Buffer.from(c.pk).toString('hex'), c.cid, c.col_version, c.cl].join('|'))
              .sort();
          for (let i = 1; i < n; i++) expect(clocks(replicas[i])).toEqual(clocks(replicas[0]));
          // and the same versions in its sync stream, each with its writer's seq (local stamps aside)
          const versions = (r: Replica) =>
            streamChanges(r, 0)
              .filter((c) => !c.kind && (c.cid !== '-1' || c.cl % 2 === 0))
              .map((c) => [c.table, Buffer.from(c.pk).toString('hex'), c.cid, c.cl, c.col_version, Buffer.from(c.site_id).toString('hex'), c.seq].join('|'))
              .sort();
          for (let i = 1; i < n; i++) expect(versions(replicas[i]), `stream of replica ${i}`).toEqual(versions(replicas[0]));
          // history and conflicts, as sets (local times aside)
          const history = (r: Replica) =>
            (r.db.prepare(`SELECT "table", pk, cid, cl, col_version, hex(site_id), quote(val), hex(parent_site_id), parent_col_version,
                hex(resolves_parent_site_id), resolves_parent_col_version, won FROM crr_history`).raw().all() as unknown[][])
              .map((x) => x.join('|'))
              .sort();
          const conflicts = (r: Replica) =>
            r.engine.history
              .conflicts()
              .map((c) => [c.table, c.pk.map(String).join(','), c.cid, c.cl, c.parent.col_version, c.policy, c.resolved,
                c.versions.map((v) => `${Buffer.from(v.site_id).toString('hex')}=${String(v.val)}`).join(',')].join('|'))
              .sort();
          for (let i = 1; i < n; i++) {
            expect(history(replicas[i]), `history on replica ${i}`).toEqual(history(replicas[0]));
            expect(conflicts(replicas[i]), `conflicts on replica ${i}`).toEqual(conflicts(replicas[0]));
          }
          conflictsSeen += conflicts(replicas[0]).length;
        } finally {
          replicas.forEach(closeReplica);
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: process.env.CRR_SHRINK !== "1" },
    );
    // the scripts must actually produce conflicts for the history half to mean anything (counter
    // and text writes, two sevenths of the writes, never conflict)
    expect(conflictsSeen).toBeGreaterThan(RUNS / 20);
  }, 30_000 + RUNS * 1500);
});
