// Property: the readers of changes (the crsql_changes view and the paged sync stream) return
// exactly the changes of a REFERENCE computed another way, on random histories over 2–3
// replicas (inserts, REPLACE, updates, deletes, re-inserts, pk moves, merges by stream and by
// INSERT INTO crsql_changes, ties that lose, Keep, prune, a column added later, a counter
// column). The reference is the readers' logic as of commit 405df57, before they were made
// faster, written as plain per-cell SQL over the clock tables with the key packed in JS: it is
// slow and obviously correct, and it must not be "optimised" along with the readers.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { join } from 'node:path';
import type { SqlValue } from '../../shared/values.ts';
import type { Change } from './types.ts';
import { closeReplica, openReplica, streamChanges, tempDir, type Replica } from './test-helpers.ts';
import { readTableInfo, quoteId, type TableInfo } from './table-info.ts';
import { parseShape, withSlots } from './slots.ts';
import { packPrimaryKey, packPrimaryKeySql, unpackPrimaryKey } from './pack-pk.ts';

const RUNS = Number(process.env.CRR_READ_RUNS ?? 40);
const tmp = tempDir('crr-read-');
afterAll(() => tmp.cleanup());

const SCHEMA = `
CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, a, b INTEGER, c REAL, d BLOB, n INTEGER DEFAULT 0);
CREATE TABLE k (x INTEGER NOT NULL, y TEXT NOT NULL, v, PRIMARY KEY (x, y));
CREATE TABLE p (id INTEGER PRIMARY KEY NOT NULL);
SELECT crsql_as_crr('t'); SELECT crsql_as_crr('k'); SELECT crsql_as_crr('p');`;
const COLS = ['a', 'b', 'c', 'd'];

// ---- the reference (405df57's readers, per cell) ----------------------------------------

function infoOf(r: Replica, table: string): TableInfo {
  const base = readTableInfo(r.db, table);
  const shape = r.db.prepare('SELECT columns FROM crr_tables WHERE name = ?').pluck().get(table) as string;
  return withSlots(base, parseShape(shape, base.pks.length));
}

type Row = Record<string, unknown>;
const q = quoteId;

/** Every version the stream must carry (history included), policy rows aside. */
function referenceStream(r: Replica, info: TableInfo): Change[] {
  const T = (s: string) => q(`${info.name}__crr_${s}`);
  const keys = (a: string) => info.pks.map((p, i) => `${a}.${q(p)} AS k${i}`).join(', ');
  const same = (a: string, b: string) => info.pks.map((p) => `${a}.${q(p)} = ${b}.${q(p)}`).join(' AND ');
  const all = (sql: string, ...args: unknown[]) => r.db.prepare(sql).safeIntegers(true).all(...args) as Row[];
  const sites = new Map((all('SELECT ord, site_id FROM crr_sites') as Row[]).map((s) => [Number(s.ord), new Uint8Array(s.site_id as Buffer)]));
  const site = (o: unknown) => (o === null ? null : sites.get(Number(o))!);
  const pkOf = (row: Row) => packPrimaryKey(info.pks.map((_, i) => value(row[`k${i}`])));
  const timeOf = (v: unknown) => {
    const at = r.db.prepare('SELECT at FROM crr_times WHERE db_version >= ? ORDER BY db_version LIMIT 1').pluck().get(v);
    return at === undefined ? null : Number(at);
  };
  const out: Change[] = [];
  const sentinel = (row: Row, version: unknown, s: unknown, seq: unknown) =>
    out.push({ table: info.name, pk: pkOf(row), cid: '-1', val: null, col_version: Number(row.cl), db_version: Number(version),
      site_id: site(s)!, cl: Number(row.cl), seq: Number(seq) });
  for (const row of all(`SELECT ${keys('r')}, r.* FROM ${T('rows')} r WHERE r.s_version IS NOT NULL AND r.cl % 2 = 1`)) sentinel(row, row.s_version, row.s_site, row.s_seq);
  for (const row of all(`SELECT ${keys('d')}, d.* FROM ${T('dead')} d`)) sentinel(row, row.db_version, row.site, row.seq);
  if (!info.columns.length) return out;
  const nameOf = new Map(info.slots.map((s, i) => [s, info.columns[i]]));
  for (const v of all(`SELECT ${keys('v')}, v.* FROM ${T('v')} v`)) {
    const cid = nameOf.get(Number(v.slot));
    if (cid === undefined) continue;
    out.push({
      table: info.name, pk: pkOf(v), cid, val: value(v.val), col_version: Number(v.col_version), db_version: Number(v.db_version),
      site_id: site(v.site)!, cl: Number(v.cl), seq: Number(v.seq),
      parent: v.parent_cv === null ? null : { site_id: site(v.parent_site), col_version: Number(v.parent_cv) },
      written_at: v.written_at !== null ? Number(v.written_at) : Number(v.site) === 0 ? timeOf(v.db_version) : null,
      resolves: v.res_cv === null ? null : { site_id: site(v.res_site), col_version: Number(v.res_cv), versions: Number(v.res_members) },
    });
  }
  // implied first versions: per cell, displaced (value kept by the update that overwrote it),
  // written out or superseded (skipped), or still implied (the row's value, or its deleted life's)
  for (const row of all(`SELECT ${keys('r')}, r.*, d.rowid AS did FROM ${T('rows')} r LEFT JOIN ${T('dead')} d ON ${same('d', 'r')} AND d.cl = r.cl
      WHERE r.i_version IS NOT NULL`)) {
    const keyWhere = info.pks.map((p, i) => `${q(p)} = @k${i}`).join(' AND ');
    const key = Object.fromEntries(info.pks.map((_, i) => [`k${i}`, row[`k${i}`]]));
    const base = row.cl === row.i_cl ? all(`SELECT * FROM ${q(info.name)} WHERE ${keyWhere}`, key)[0] : undefined;
    const dead = row.did !== null ? all(`SELECT * FROM ${T('dead')} WHERE did = ?`, row.did)[0] : undefined;
    info.columns.forEach((cid, i) => {
      const slot = info.slots[i];
      if (info.since[i] > Number(row.i_version)) return;
      const facts = all(`SELECT max(coalesce(has_first, 0)) AS state, (SELECT first_val FROM ${T('v')} WHERE ${keyWhere} AND slot = @slot AND cl = @cl AND has_first = 1) AS first
        FROM ${T('v')} WHERE ${keyWhere} AND slot = @slot AND cl = @cl AND (lost = 0 OR has_first = 1)`, { ...key, slot, cl: row.i_cl })[0];
      if (facts.state === 0n) return;
      const val = facts.state === 1n ? facts.first : base ? base[cid] : dead ? dead[`crr_v${slot}`] : null;
      out.push({
        table: info.name, pk: pkOf(row), cid, val: value(val), col_version: 1, db_version: Number(row.i_version), site_id: site(row.i_site)!,
        cl: Number(row.i_cl), seq: Number(row.i_seq) + slot, parent: { site_id: null, col_version: 0 },
        written_at: row.i_written !== null ? Number(row.i_written) : Number(row.i_site) === 0 ? timeOf(row.i_version) : null, resolves: null,
      });
    });
  }
  return out;
}

/** The current version of every cell (crsql_changes): the newest non-lost version of the row's live life, else its implied one. */
function referenceView(r: Replica, info: TableInfo): Change[] {
  const T = (s: string) => q(`${info.name}__crr_${s}`);
  const cl = (pk: Uint8Array) => r.db.prepare(`SELECT cl FROM ${T('rows')} WHERE ${info.pks.map((p) => `${q(p)} IS ?`).join(' AND ')}`)
    .safeIntegers(true).pluck().get(...packedKey(pk)) as bigint;
  const stream = referenceStream(r, info);
  const out = stream.filter((c) => c.cid === '-1');
  const cells = new Map<string, Change>();
  for (const c of stream) {
    if (c.cid === '-1' || BigInt(c.cl) !== cl(c.pk) || c.cl % 2 === 0) continue;
    // lost versions are the ones that lost a tie: the same life and col_version, another value won
    if (c.parent !== undefined && isLost(r, info, c)) continue;
    const k = `${Buffer.from(c.pk).toString('hex')}|${c.cid}`;
    const had = cells.get(k);
    if (!had || c.col_version > had.col_version) cells.set(k, c);
  }
  for (const c of cells.values()) out.push({ ...c, parent: undefined, written_at: undefined, resolves: undefined });
  return out.map(({ parent, written_at, resolves, ...c }) => c);
}

function isLost(r: Replica, info: TableInfo, c: Change): boolean {
  const slot = info.slots[info.columns.indexOf(c.cid)];
  const site = r.db.prepare('SELECT ord FROM crr_sites WHERE site_id = ?').pluck().get(Buffer.from(c.site_id));
  return r.db.prepare(`SELECT lost FROM ${q(`${info.name}__crr_v`)} WHERE ${info.pks.map((p) => `${q(p)} IS ?`).join(' AND ')}
    AND slot = ? AND cl = ? AND col_version = ? AND site = ? AND db_version = ?`).pluck().all(...packedKey(c.pk), slot, c.cl, c.col_version, site, c.db_version)
    .some((l) => Number(l) === 1);
}

const packedKey = (pk: Uint8Array) => unpackPrimaryKey(pk).map((v) => (v instanceof Uint8Array ? Buffer.from(v) : v));
const value = (v: unknown): SqlValue => (v instanceof Uint8Array ? new Uint8Array(v) : (v as SqlValue));

/** A change as one comparable string (every field, storage classes kept). */
function text(c: Change): string {
  const seen = (v: unknown): unknown =>
    v instanceof Uint8Array ? `x'${Buffer.from(v).toString('hex')}'` : typeof v === 'bigint' ? `${v}n` : typeof v === 'number' ? `${v}r` : v;
  return JSON.stringify(Object.keys(c).sort().filter((k) => (c as unknown as Row)[k] !== undefined)
    .map((k) => [k, JSON.parse(JSON.stringify((c as unknown as Row)[k], (_, v) => seen(v)) ?? 'null')]));
}
const texts = (cs: Change[]) => cs.map(text).sort();

// ---- random histories -------------------------------------------------------------------

const val: fc.Arbitrary<SqlValue> = fc.oneof(
  fc.constant(null), fc.bigInt({ min: -2n, max: 2n }), fc.constantFrom(2n ** 62n, 0.5, -2.25, '', 'a', 'é'),
  fc.constantFrom(new Uint8Array(), Uint8Array.of(1, 2)),
);
const at = fc.nat({ max: 2 });
const id = fc.constantFrom('a', 'b', 'c', 'é', '');
type Op =
  | { kind: 'insert'; at: number; id: string; values: SqlValue[]; replace: boolean }
  | { kind: 'update'; at: number; id: string; col: number; value: SqlValue }
  | { kind: 'updateAll'; at: number; id: string; value: SqlValue }
  | { kind: 'delete'; at: number; id: string }
  | { kind: 'move'; at: number; id: string; to: string }
  | { kind: 'k'; at: number; x: number; y: string; value: SqlValue; del: boolean }
  | { kind: 'p'; at: number; id: number; del: boolean }
  | { kind: 'count'; at: number; id: string; delta: number }
  | { kind: 'sync'; from: number; to: number; sql: boolean; cut: number }
  | { kind: 'alter' }
  | { kind: 'keep'; at: number; pick: number }
  | { kind: 'prune'; at: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, id, values: fc.array(val, { minLength: 4, maxLength: 4 }), replace: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('update' as const), at, id, col: fc.nat({ max: 3 }), value: val }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('updateAll' as const), at, id, value: val }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at, id }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('move' as const), at, id, to: id }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('k' as const), at, x: fc.integer({ min: -1, max: 1 }), y: fc.constantFrom('p', 'q'), value: val, del: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('p' as const), at, id: fc.integer({ min: 1, max: 3 }), del: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('count' as const), at, id, delta: fc.integer({ min: -3, max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('sync' as const), from: at, to: at, sql: fc.boolean(), cut: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('alter' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('keep' as const), at, pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('prune' as const), at }) },
);

const bind = (v: SqlValue) => (v instanceof Uint8Array ? Buffer.from(v) : v);

function run(rs: Replica[], o: Op, altered: { done: boolean }): void {
  const r = 'at' in o ? rs[o.at % rs.length] : rs[0];
  switch (o.kind) {
    case 'insert':
      r.db.prepare(`INSERT OR ${o.replace ? 'REPLACE' : 'IGNORE'} INTO t (id, a, b, c, d) VALUES (?, ?, ?, ?, ?)`).run(o.id, ...o.values.map(bind));
      break;
    case 'update':
      r.db.prepare(`UPDATE t SET ${COLS[o.col]} = ? WHERE id = ?`).run(bind(o.value), o.id);
      break;
    case 'updateAll':
      r.db.prepare(`UPDATE t SET a = ?, b = ?, c = ?, d = ?${altered.done ? ', e = ?' : ''} WHERE id = ?`).run(...Array(altered.done ? 5 : 4).fill(bind(o.value)), o.id);
      break;
    case 'delete':
      r.db.prepare('DELETE FROM t WHERE id = ?').run(o.id);
      break;
    case 'move':
      r.db.prepare('UPDATE OR IGNORE t SET id = ? WHERE id = ?').run(o.to, o.id);
      break;
    case 'k':
      if (o.del) r.db.prepare('DELETE FROM k WHERE x = ? AND y = ?').run(o.x, o.y);
      else r.db.prepare('INSERT OR REPLACE INTO k VALUES (?, ?, ?)').run(o.x, o.y, bind(o.value));
      break;
    case 'p':
      r.db.prepare(o.del ? 'DELETE FROM p WHERE id = ?' : 'INSERT OR IGNORE INTO p VALUES (?)').run(o.id);
      break;
    case 'count':
      r.db.prepare('UPDATE t SET n = n + ? WHERE id = ?').run(o.delta, o.id);
      break;
    case 'sync': {
      const from = rs[o.from % rs.length];
      const to = rs[o.to % rs.length];
      if (from === to) break;
      if (o.sql) {
        // as a cr-sqlite peer merges: current versions only, through SQL
        const rows = from.db.prepare('SELECT "table", pk, cid, val, col_version, db_version, site_id, cl, seq FROM crsql_changes').raw().all() as unknown[][];
        const ins = to.db.prepare('INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
        to.db.transaction(() => rows.forEach((row) => ins.run(...row)))();
      } else {
        const changes = streamChanges(from, 0, to.engine.siteId, 50);
        to.engine.applyChanges(o.cut % 3 === 0 ? changes.slice(0, o.cut % (changes.length + 1)) : changes);
      }
      break;
    }
    case 'alter':
      if (altered.done) break;
      altered.done = true;
      for (const x of rs) x.db.exec(`ALTER TABLE t ADD COLUMN e TEXT DEFAULT 'e0'`);
      break;
    case 'keep': {
      const conflicts = r.engine.history.conflicts().filter((c) => c.versions.length > 1 && c.table === 't');
      if (!conflicts.length) break;
      const c = conflicts[o.pick % conflicts.length];
      try {
        r.engine.history.resolve(c, c.versions[o.pick % c.versions.length].site_id);
      } catch (err) {
        if (!/deleted or re-created/.test(String(err))) throw err;
      }
      break;
    }
    case 'prune':
      r.engine.history.prune(1);
      break;
  }
}

describe('reading changes equals the reference (fast-check)', () => {
  it(`${RUNS} random histories: crsql_changes, changesSince and every page of the stream`, () => {
    let n = 0;
    // how often the histories reached each state the readers treat apart
    const reached = { displaced: 0, lost: 0, deadLives: 0, impliedOfDeadLife: 0, writtenOut: 0, since: 0, sentinels: 0, policyRows: 0 };
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 3 }), fc.array(op, { minLength: 10, maxLength: 40, size: 'max' }), fc.nat(), (count, ops, salt) => {
        n++;
        const rs = Array.from({ length: count }, (_, i) => {
          const r = openReplica(join(tmp.dir, `r${n}-${i}.db`));
          r.db.exec(SCHEMA);
          r.engine.history.setPolicy('t', 'n', 'counter');
          return r;
        });
        const altered = { done: false };
        try {
          for (const o of ops) {
            try {
              run(rs, o, altered);
            } catch (err) {
              if (!/constraint/i.test(String(err))) throw err;
            }
          }
          for (const r of rs) {
            const infos = ['k', 'p', 't'].map((t) => infoOf(r, t));
            // crsql_changes (as SQL rows) and changesSince
            const view = (r.db.prepare('SELECT "table", pk, cid, val, col_version, db_version, site_id, cl, seq FROM crsql_changes')
              .safeIntegers(true).all() as Row[]).map((x) => ({
              table: x.table as string, pk: value(x.pk) as Uint8Array, cid: x.cid as string, val: value(x.val), col_version: Number(x.col_version),
              db_version: Number(x.db_version), site_id: value(x.site_id) as Uint8Array, cl: Number(x.cl), seq: Number(x.seq),
            }));
            const wantView = texts(infos.flatMap((i) => referenceView(r, i)));
            expect(texts(view)).toEqual(wantView);
            expect(texts(r.engine.changesSince(0))).toEqual(wantView);
            // the whole stream in small pages, and a later range that skips another replica's changes
            const full = infos.flatMap((i) => referenceStream(r, i));
            const count = (sql: string) => Number(r.db.prepare(sql).pluck().get());
            reached.displaced += count('SELECT count(*) FROM t__crr_v WHERE has_first = 1');
            reached.lost += count('SELECT count(*) FROM t__crr_v WHERE lost = 1');
            reached.deadLives += count('SELECT count(*) FROM t__crr_dead');
            reached.impliedOfDeadLife += count('SELECT count(*) FROM t__crr_rows WHERE i_cl IS NOT NULL AND i_cl <> cl');
            reached.writtenOut += count('SELECT count(*) FROM t__crr_v WHERE col_version = 1 AND parent_cv = 0');
            reached.since += count(`SELECT count(*) FROM crr_tables WHERE name = 't' AND columns LIKE '%["e",%' AND columns NOT LIKE '%["e",_,0]%'`);
            reached.sentinels += count('SELECT count(*) FROM t__crr_rows WHERE s_version IS NOT NULL');
            const plain = (cs: Change[]) => cs.filter((c) => c.kind === undefined);
            expect(texts(plain(streamChanges(r, 0, undefined, 1 + (salt % 9))))).toEqual(texts(full));
            const since = salt % (r.engine.dbVersion() + 1);
            const other = rs[(rs.indexOf(r) + 1) % rs.length].engine.siteId;
            const otherHex = Buffer.from(other).toString('hex');
            expect(texts(plain(streamChanges(r, since, other, 2 + (salt % 5)))))
              .toEqual(texts(full.filter((c) => c.db_version > since && Buffer.from(c.site_id).toString('hex') !== otherHex)));
            // policy rows (their own branches) are paged alike however small the pages
            const extra = (size: number) => texts(streamChanges(r, 0, undefined, size).filter((c) => c.kind !== undefined));
            expect(extra(1)).toEqual(extra(100_000));
            reached.policyRows += extra(100_000).length;
          }
        } finally {
          rs.forEach(closeReplica);
        }
      }),
      { numRuns: RUNS, seed: Number(process.env.CRR_READ_SEED ?? 20260301), endOnFailure: process.env.CRR_SHRINK !== '1' },
    );
    // the histories must reach the interesting states for the comparison to mean anything
    if (process.env.CRR_READ_VERBOSE) console.log(reached);
    for (const [state, times] of Object.entries(reached)) expect(times, state).toBeGreaterThan(0);
  }, 60_000 + RUNS * 1000);
});

describe('primary-key packing (fast-check)', () => {
  it('JS and SQL pack alike and unpacking gives the key back, storage classes kept', () => {
    const r = openReplica(join(tmp.dir, 'pack.db'));
    try {
      const part = fc.oneof(
        fc.constant(null), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: 0n, max: 70_000n }), fc.double({ noNaN: true }),
        fc.string({ maxLength: 300 }), fc.uint8Array({ maxLength: 300 }), fc.constant('x'.repeat(70_000)),
      );
      const sql = (n: number) => r.db.prepare(`SELECT ${packPrimaryKeySql(Array.from({ length: n }, (_, i) => `@p${i}`), 'crr_pack_part')}`).pluck();
      fc.assert(
        fc.property(fc.array(part, { minLength: 1, maxLength: 4 }), (key) => {
          const packed = packPrimaryKey(key);
          expect(unpackPrimaryKey(packed)).toEqual(key);
          expect(Buffer.from(sql(key.length).get(Object.fromEntries(key.map((v, i) => [`p${i}`, bind(v)]))) as Buffer).toString('hex')).toBe(Buffer.from(packed).toString('hex'));
        }),
        { numRuns: 2000, seed: 7 },
      );
    } finally {
      closeReplica(r);
    }
  });
});
