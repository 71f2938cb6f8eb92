// Issue 16.9: fuzz of the sync protocol and of INSERT INTO crsql_changes. Short in CI; the long run:
//   CRR_FUZZ_FRAMES=200000 CRR_FUZZ_ROWS=500000 CRR_FUZZ_SEED=7 npx vitest run main/sync/fuzz.test.ts
// Each prints what it tried and found; crashes and partial applications must be 0. With one fuzzer
// (the default) a seed replays the same frames against the same states; CRR_FUZZ_WORKERS=3 goes
// faster but interleaves them differently each run.
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { packPrimaryKey } from '../crr/index.ts';
import { closeReplica, openReplica, tableSnapshot, tempDir } from '../crr/test-helpers.ts';
import { COLUMNS, pk, random, runSyncFuzz, TABLES, value, version, type Rng } from './protocol-fuzz.ts';

const FRAMES = Number(process.env.CRR_FUZZ_FRAMES ?? 2000);
const ROWS = Number(process.env.CRR_FUZZ_ROWS ?? 5000);
const SEED = Number(process.env.CRR_FUZZ_SEED ?? 1);
const WORKERS = Number(process.env.CRR_FUZZ_WORKERS ?? 1);
const tmp = tempDir('crr-fuzz-sql-');
afterAll(() => tmp.cleanup());

describe('fuzz', () => {
  it(`the sync protocol: ${FRAMES} mutated frames after a valid handshake, each behind a valid row`, async () => {
    const r = await runSyncFuzz({ frames: FRAMES, seed: SEED, workers: WORKERS, log: (l) => console.log(l) });
    console.log(
      `sync fuzz (seed ${SEED}): frames tried ${r.frames} (acked ${r.acked}, refused ${r.refused}, closed the stream ${r.closed}, unanswered ${r.unanswered}; ` +
        `${r.handshakes} handshakes), crashes ${r.crashes}, partial applications ${r.partial}, integrity failures ${r.integrityFailures}, ` +
        `still serves an honest peer: ${r.honestPeerServed ? 'yes' : 'no'} (${r.seconds} s)`,
    );
    expect(r.frames).toBeGreaterThanOrEqual(FRAMES);
    expect(r.crashes).toBe(0);
    expect(r.partial).toBe(0);
    expect(r.integrityFailures).toBe(0);
    expect(r.honestPeerServed).toBe(true);
    // every way a frame can end was exercised
    expect(Math.min(r.acked, r.refused, r.closed)).toBeGreaterThan(0);
  }, 600_000);

  it(`INSERT INTO crsql_changes: ${ROWS} statements of a valid row and a mutated one, refused or applied whole`, () => {
    const rep = openReplica(join(tmp.dir, 'sql.db'));
    rep.db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT, n INTEGER, b BLOB);
      CREATE TABLE u (a INTEGER NOT NULL, b TEXT NOT NULL, v TEXT, PRIMARY KEY (a, b));
      SELECT crsql_as_crr('t'); SELECT crsql_as_crr('u');`);
    const insert = rep.db.prepare(
      `INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const present = rep.db.prepare('SELECT v FROM t WHERE id = ?').pluck();
    const own = Buffer.alloc(16, 0xe1);
    const r: Rng = random(SEED);
    // a column value of any storage class or type better-sqlite3 binds
    const any = (): unknown => {
      const v = r.chance(0.3) ? r.pick([null, 0, -1, 1.5, 2 ** 48 + 1, 2 ** 53, 2n ** 62n, -(2n ** 63n), 'abc', '', Buffer.alloc(3), Buffer.alloc(16, 7)]) : value(r);
      return v instanceof Uint8Array ? Buffer.from(v) : v;
    };
    const field = (good: () => unknown) => (r.chance(0.88) ? good() : any());
    let refused = 0;
    let applied = 0;
    let partial = 0;
    let crashes = 0;
    const health = () => {
      try {
        const v = rep.db.prepare('SELECT crsql_db_version(), typeof(crsql_db_version())').raw().get() as [bigint | number, string];
        if (v[1] !== 'integer' || !Number.isSafeInteger(rep.engine.dbVersion())) throw new Error(`db_version is ${v[1]} ${v[0]}`);
        rep.engine.changesSince(Math.max(0, rep.engine.dbVersion() - 50));
      } catch (err) {
        crashes++;
        console.log(`engine unhealthy: ${(err as Error).message}`);
      }
    };
    for (let i = 0; i < ROWS; i++) {
      const id = 1_000_000 + i;
      const valid = ['t', Buffer.from(packPrimaryKey([BigInt(id)])), 'v', `valid ${id}`, 1, 1, own, 1, 0];
      // each field mostly plausible, so that the engine's own checks decide, sometimes anything
      const small = () => (r.chance(0.8) ? r.int(1, 20) : version(r));
      const mutated = [
        field(() => (r.chance(0.7) ? 't' : r.pick(TABLES))),
        field(() => Buffer.from(r.chance(0.7) ? packPrimaryKey([BigInt(r.int(0, 50))]) : pk(r))),
        field(() => (r.chance(0.8) ? r.pick(['v', 'n', 'b', '-1']) : r.pick(COLUMNS))),
        any(),
        field(small),
        field(small),
        field(() => (r.chance(0.8) ? own : Buffer.from(r.bytes(16)))),
        field(small),
        field(() => (r.chance(0.8) ? r.int(0, 5) : version(r))),
      ];
      const sameRow = mutated[0] === 't' && Buffer.isBuffer(mutated[1]) && (mutated[1] as Buffer).equals(valid[1] as Buffer);
      let threw = false;
      try {
        insert.run(...valid, ...mutated);
        applied++;
      } catch {
        threw = true;
        refused++;
      }
      const has = present.get(id) === valid[3];
      if ((threw && has) || (!threw && !has && !sameRow)) {
        partial++;
        console.log(`partial: statement ${i} ${threw ? 'refused' : 'accepted'} but its valid row is ${has ? 'there' : 'missing'}`);
      }
      if (i % 100 === 0) health();
    }
    health();
    const integrity = rep.db.pragma('integrity_check', { simple: true });
    // the replica still tracks and serves its own writes
    rep.db.prepare(`INSERT INTO t (id, v) VALUES (999999999, 'after the fuzz')`).run();
    const tracked = rep.engine.changesSince(rep.engine.dbVersion() - 1).some((c) => c.table === 't' && c.val === 'after the fuzz');
    console.log(
      `crsql_changes fuzz (seed ${SEED}): statements tried ${ROWS} (applied ${applied}, refused ${refused}), crashes ${crashes}, partial applications ${partial}, ` +
        `integrity ${integrity}, local writes still tracked: ${tracked ? 'yes' : 'no'}`,
    );
    closeReplica(rep);
    expect(crashes).toBe(0);
    expect(partial).toBe(0);
    expect(integrity).toBe('ok');
    expect(tracked).toBe(true);
    expect(Math.min(applied, refused)).toBeGreaterThan(0);
  }, 600_000);

  // Found by the long fuzz run (seed 7, 20000 frames): the victim and an honest copy of it differed
  // in one row. A row this replica has in life 1 gets a peer's sentinel for life 3 (deleted and
  // re-created there, no cell written since): the replica keeps life 1's values, but its changes
  // describe the row of life 3 without them, so a fresh copy of it holds NULLs: the two diverge. An
  // engine merge rule (main/crr), left to its redesign; `.fails` until it is fixed, then drop it.
  it('engine: a sentinel of a later life resets a live row to its defaults, here as in a copy', () => {
    const make = (name: string, seed: boolean) => {
      const rep = openReplica(join(tmp.dir, `${name}.db`));
      rep.db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT, n INTEGER); ${seed ? "INSERT INTO t VALUES (2, 'two', 2);" : ''} SELECT crsql_as_crr('t');`);
      return rep;
    };
    const v = make('life-v', true);
    const h = make('life-h', false);
    v.engine.applyChanges([{ table: 't', pk: packPrimaryKey([2n]), cid: '-1', val: null, col_version: 3, db_version: 1, site_id: new Uint8Array(16).fill(9), cl: 3, seq: 0 }]);
    h.engine.applyChanges(v.engine.changesSince(0));
    const [sv, sh] = [tableSnapshot(v.db, 't'), tableSnapshot(h.db, 't')];
    closeReplica(v);
    closeReplica(h);
    expect(sh).toEqual(sv);
  });
});
