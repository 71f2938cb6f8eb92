import fc from 'fast-check';
import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { packPrimaryKey, unpackPrimaryKey } from './pack-pk.ts';
import { compareValues } from './compare-values.ts';
import { installCrr } from './index.ts';
import { renewSiteId } from './site-id.ts';
import type { CommitEvent } from './types.ts';
import { bytesToHex, type SqlValue } from '../../shared/values.ts';
import { openReplica, closeReplica, tempDir, tableSnapshot, type Replica } from './test-helpers.ts';

const tmp = tempDir('crr-engine-');
afterAll(() => tmp.cleanup());
let n = 0;
const file = () => join(tmp.dir, `db${++n}.db`);
const hex = (b: Uint8Array) => bytesToHex(b);

describe('primary-key packing', () => {
  const cases: [SqlValue[], string][] = [
    [[1n], '010901'],
    [[0n], '0101'],
    [[128n], '010980'],
    [[256n], '01110100'],
    [[65536n], '0119010000'],
    [[2n ** 31n], '012180000000'],
    [[-1n], '0141FFFFFFFFFFFFFFFF'],
    [[65535n], '0111FFFF'],
    [[1.0], '01023FF0000000000000'],
    [['a'], '010B0161'],
    [[new Uint8Array()], '0104'],
    [['ab', 7n], '020B0261620907'],
  ];
  for (const [values, expected] of cases) {
    it(`packs ${JSON.stringify(values, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))} as ${expected}`, () => {
      expect(hex(packPrimaryKey(values))).toBe(expected);
      expect(unpackPrimaryKey(packPrimaryKey(values))).toEqual(values);
    });
  }
  it('packs a 300-byte text with a two-byte length', () => {
    const packed = packPrimaryKey(['x'.repeat(300)]);
    expect(hex(packed.slice(0, 4))).toBe('0113012C');
    expect(packed.length).toBe(4 + 300);
  });
  it('unpacks what it packs: any int64, double, text and blob, in keys of up to 4 columns', () => {
    const value = fc.oneof(
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.integer({ min: 0, max: 48 }).chain((bits) => fc.bigInt({ min: 0n, max: 2n ** BigInt(bits) })),
      fc.double(),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      fc.uint8Array({ maxLength: 70000 }),
    );
    fc.assert(fc.property(fc.array(value, { minLength: 1, maxLength: 4 }), (values) => {
      expect(unpackPrimaryKey(packPrimaryKey(values))).toEqual(values);
    }), { numRuns: 300 });
  });
  it('rejects malformed packed keys clearly', () => {
    expect(() => unpackPrimaryKey(Uint8Array.of(1, 0x49, 0, 0, 0, 0, 0, 0, 0, 0, 1))).toThrow(/wider than 8 bytes/);
    expect(() => unpackPrimaryKey(Uint8Array.of(1, 0x11, 1))).toThrow(/truncated/);
    expect(() => unpackPrimaryKey(Uint8Array.of(1, 0x09, 1, 7))).toThrow(/trailing/);
    expect(() => unpackPrimaryKey(Uint8Array.of(1, 0x07))).toThrow(/unknown type/);
  });
});

describe('tie-break ranking', () => {
  it('ranks INTEGER > REAL > TEXT > BLOB > NULL, then by value', () => {
    const ordered: SqlValue[] = [null, Uint8Array.of(0), Uint8Array.of(1), Uint8Array.of(1, 0), '', 'a', 'b', 'é', -5.5, 9.5, -3n, 1n];
    for (let i = 0; i < ordered.length; i++) {
      for (let j = 0; j < ordered.length; j++) {
        expect(Math.sign(compareValues(ordered[i], ordered[j])), `${String(ordered[i])} vs ${String(ordered[j])}`).toBe(Math.sign(i - j));
      }
    }
    expect(compareValues(1n, 9.5)).toBeGreaterThan(0);
    expect(compareValues('a', Uint8Array.of(255))).toBeGreaterThan(0);
  });
  it('the merge trigger applies the same ranking on equal col_version', () => {
    const values: SqlValue[] = [null, Uint8Array.of(9), 'z', 9.5, 1n];
    for (const a of values) {
      for (const b of values) {
        const A = openReplica(file());
        const B = openReplica(file());
        for (const r of [A, B]) r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); SELECT crsql_as_crr('t');`);
        A.db.prepare('INSERT INTO t VALUES (1, ?)').run(a instanceof Uint8Array ? Buffer.from(a) : a);
        B.db.prepare('INSERT INTO t VALUES (1, ?)').run(b instanceof Uint8Array ? Buffer.from(b) : b);
        A.engine.applyChanges(B.engine.changesSince(0));
        B.engine.applyChanges(A.engine.changesSince(0));
        const winner = compareValues(a, b) >= 0 ? a : b;
        const got = A.db.prepare('SELECT b FROM t').safeIntegers(true).pluck().get() as SqlValue;
        expect(got instanceof Uint8Array ? new Uint8Array(got) : got).toEqual(winner);
        expect(tableSnapshot(A.db, 't')).toEqual(tableSnapshot(B.db, 't'));
        closeReplica(A);
        closeReplica(B);
      }
    }
  });
});

describe('crsql_changes rows', () => {
  const CHANGES = `SELECT "table", hex(pk), cid, quote(val), col_version, db_version, hex(site_id), cl, seq FROM crsql_changes ORDER BY db_version, seq`;
  it('after insert, update, delete and re-insert (crr-semantics.md example)', () => {
    const site = Uint8Array.from({ length: 16 }, () => 0xab);
    const s = 'AB'.repeat(16);
    const r = openReplica(file(), { siteId: site });
    r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); SELECT crsql_as_crr('t');`);
    const rows = () => r.db.prepare(CHANGES).raw().all();
    r.db.prepare('INSERT INTO t VALUES (65535, 1)').run();
    expect(rows()).toEqual([['t', '0111FFFF', 'b', '1', 1, 1, s, 1, 0]]);
    r.db.prepare('UPDATE t SET b = 1 WHERE a = 65535').run();
    expect(rows()).toEqual([['t', '0111FFFF', 'b', '1', 1, 1, s, 1, 0]]);
    r.db.prepare(`UPDATE t SET b = 'x' WHERE a = 65535`).run();
    expect(rows()).toEqual([['t', '0111FFFF', 'b', `'x'`, 2, 2, s, 1, 0]]);
    r.db.prepare('DELETE FROM t WHERE a = 65535').run();
    expect(rows()).toEqual([['t', '0111FFFF', '-1', 'NULL', 2, 3, s, 2, 0]]);
    r.db.prepare('INSERT INTO t VALUES (65535, 2)').run();
    expect(rows()).toEqual([
      ['t', '0111FFFF', '-1', 'NULL', 3, 4, s, 3, 0],
      ['t', '0111FFFF', 'b', '2', 1, 4, s, 3, 1],
    ]);
    expect(r.db.prepare('SELECT crsql_db_version()').pluck().get()).toBe(4);
    expect(r.db.prepare('SELECT crsql_next_db_version()').pluck().get()).toBe(5);
    expect(hex(r.db.prepare('SELECT crsql_site_id()').pluck().get() as Buffer)).toBe(s);
    closeReplica(r);
  });

  it('refuses UPDATE and DELETE on crsql_changes, and unknown tables, changing nothing', () => {
    const r = openReplica(file());
    r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); SELECT crsql_as_crr('t'); INSERT INTO t VALUES (1, 1);`);
    expect(() => r.db.exec(`UPDATE crsql_changes SET val = 2`)).toThrow(/only supports INSERT and SELECT/);
    expect(() => r.db.exec(`DELETE FROM crsql_changes`)).toThrow(/only supports INSERT and SELECT/);
    expect(() =>
      r.db
        .prepare(`INSERT INTO crsql_changes VALUES ('bar', x'010901', 'b', 1, 1, 1, zeroblob(16), 1, 0)`)
        .run(),
    ).toThrow(/could not find the schema information/);
    const good = r.engine.changesSince(0)[0];
    expect(() => r.engine.applyChanges([{ ...good, col_version: 9, val: 7n }, { ...good, table: 'bar' }])).toThrow(/table "bar"/);
    expect(() => r.engine.applyChanges([{ ...good, cid: 'nope' }])).toThrow(/no column "nope"/);
    expect(() => r.engine.applyChanges([{ ...good, pk: Uint8Array.of(1, 0x11) }])).toThrow(/truncated/);
    expect(tableSnapshot(r.db, 't')).toEqual([['1', '1']]);
    closeReplica(r);
  });

  it('merges INSERT INTO crsql_changes row by row inside one exec script: its next statement reads the merged row; a ROLLBACK in it keeps nothing', () => {
    const A = openReplica(file());
    const B = openReplica(file());
    for (const r of [A, B]) r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); SELECT crsql_as_crr('t'); CREATE TABLE seen (a, b);`);
    A.db.exec(`INSERT INTO t VALUES (1, 'one'), (2, 'two')`);
    const sql = (c: ReturnType<typeof A.engine.changesSince>[number]) =>
      `INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq)
       VALUES ('t', X'${hex(c.pk)}', '${c.cid}', '${String(c.val)}', ${c.col_version}, ${c.db_version}, X'${hex(c.site_id)}', ${c.cl}, ${c.seq});`;
    const [one, two] = A.engine.changesSince(0);
    B.db.exec(`${sql(one)} INSERT INTO seen SELECT a, b FROM t; BEGIN; ${sql(two)} ROLLBACK;`);
    expect(B.db.prepare('SELECT a, b FROM seen').raw().all()).toEqual([[1, 'one']]);
    expect(tableSnapshot(B.db, 't')).toEqual([['1', "'one'"]]);
    // the row-by-row trigger exists only during such a script (its mere presence slows every INSERT)
    expect(B.db.prepare(`SELECT count(*) FROM sqlite_temp_schema WHERE name = 'crsql_changes_merge_now'`).pluck().get()).toBe(0);
    B.db.exec(sql(two));
    expect(tableSnapshot(B.db, 't')).toEqual(tableSnapshot(A.db, 't'));
    // (db_version is each replica's own: B merged the two in two transactions)
    const cells = (r: Replica) => r.engine.changesSince(0).map(({ db_version: _, ...c }) => c);
    expect(cells(B)).toEqual(cells(A));
    // an edit of a row B has merges by the general program, row by row too: the next statement sees it
    A.db.exec(`UPDATE t SET b = 'uno' WHERE a = 1`);
    const edit = A.engine.changesSince(A.engine.dbVersion() - 1).find((c) => c.cid === 'b')!;
    B.db.exec(`${sql(edit)} INSERT INTO seen SELECT a, b FROM t WHERE a = 1;`);
    expect(B.db.prepare('SELECT b FROM seen WHERE a = 1').pluck().all()).toEqual(['one', 'uno']);
    expect(cells(B)).toEqual(cells(A));
    closeReplica(A);
    closeReplica(B);
  });

  it('keeps storage classes exact through changesSince and applyChanges', () => {
    const A = openReplica(file());
    const B = openReplica(file());
    for (const r of [A, B]) r.db.exec(`CREATE TABLE v (id INTEGER PRIMARY KEY NOT NULL, x); SELECT crsql_as_crr('v');`);
    A.db.exec(`INSERT INTO v VALUES (1, 5), (2, 5.0), (3, '5'), (4, x'05'), (5, NULL), (6, 9223372036854775807), (7, -9007199254740993)`);
    const vals = A.engine.changesSince(0).map((c) => c.val);
    expect(vals).toEqual([5n, 5, '5', Uint8Array.of(5), null, 9223372036854775807n, -9007199254740993n]);
    B.engine.applyChanges(A.engine.changesSince(0));
    expect(tableSnapshot(B.db, 'v')).toEqual(tableSnapshot(A.db, 'v'));
    expect(B.db.prepare('SELECT typeof(x) FROM v ORDER BY id').pluck().all()).toEqual(['integer', 'real', 'text', 'blob', 'null', 'integer', 'integer']);
    closeReplica(A);
    closeReplica(B);
  });

  it('reads changes through an index, not a scan of every clock', () => {
    const r = openReplica(file());
    r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); SELECT crsql_as_crr('t');`);
    const plan = r.db
      .prepare(`EXPLAIN QUERY PLAN SELECT * FROM crsql_changes WHERE db_version > ? AND site_id IS NOT ?`)
      .all(0, null) as { detail: string }[];
    const scans = plan.map((p) => p.detail).filter((d) => /__crr_(cells|rows)/.test(d));
    expect(scans.length).toBeGreaterThan(0);
    for (const d of scans.filter((d) => /^(SCAN|SEARCH) c\b|^(SCAN|SEARCH) r\b/.test(d))) expect(d).not.toMatch(/^SCAN/);
    closeReplica(r);
  });
});

describe('crsql_as_crr', () => {
  const refusals: [string, RegExp][] = [
    ['CREATE TABLE x (a, b)', /"x".*no primary key/],
    ['CREATE TABLE x (a INTEGER PRIMARY KEY, b)', /"x".*may be NULL/],
    ['CREATE TABLE x (a INTEGER PRIMARY KEY NOT NULL, b UNIQUE)', /"x".*unique index/],
    ['CREATE TABLE y (id INTEGER PRIMARY KEY NOT NULL); CREATE TABLE x (a INTEGER PRIMARY KEY NOT NULL, b REFERENCES y(id))', /"x".*foreign key/],
    ['CREATE TABLE x (a INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, b)', /"x".*AUTOINCREMENT/],
    ['CREATE TABLE x (a INTEGER PRIMARY KEY NOT NULL, b NOT NULL)', /"x".*NOT NULL without a DEFAULT/],
    ['CREATE TABLE x (a INTEGER PRIMARY KEY NOT NULL, b); CREATE UNIQUE INDEX xb ON x(b)', /"x".*unique index "xb"/],
  ];
  for (const [schema, reason] of refusals) {
    it(`refuses ${schema}`, () => {
      const r = openReplica(file());
      r.db.exec(schema);
      expect(() => r.db.prepare(`SELECT crsql_as_crr('x')`).get()).toThrow(reason);
      expect(r.engine.isCrr('x')).toBe(false);
      expect(r.db.prepare(`SELECT count(*) FROM sqlite_schema WHERE name LIKE 'x__crr%'`).pluck().get()).toBe(0);
      closeReplica(r);
    });
  }

  it('is idempotent, survives reopening, and crsql_as_table downgrades', () => {
    const path = file();
    let r = openReplica(path);
    r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); INSERT INTO t VALUES (1, 'x');`);
    r.db.prepare(`SELECT crsql_as_crr('t')`).get();
    r.db.prepare(`SELECT crsql_as_crr('t')`).get();
    expect(installCrr(r.db)).toBe(r.engine);
    r.db.exec(`UPDATE t SET b = 'y'`);
    const site = hex(r.engine.siteId);
    const version = r.engine.dbVersion();
    closeReplica(r);
    r = openReplica(path);
    expect(hex(r.engine.siteId)).toBe(site);
    expect(r.engine.dbVersion()).toBe(version);
    expect(r.engine.crrTables()).toEqual(['t']);
    r.db.exec(`INSERT INTO t VALUES (2, 'z')`);
    expect(r.engine.changesSince(version).map((c) => c.val)).toEqual(['z']);
    r.db.prepare(`SELECT crsql_as_table('t')`).get();
    expect(r.engine.isCrr('t')).toBe(false);
    r.db.exec(`INSERT INTO t VALUES (3, 'w')`);
    expect(r.db.prepare(`SELECT count(*) FROM sqlite_schema WHERE name LIKE 't\\_\\_crr%' ESCAPE '\\'`).pluck().get()).toBe(0);
    closeReplica(r);
  });
});

describe('writes from other programs', () => {
  it('a plain connection without the engine can write CRR tables, and its writes sync', async () => {
    const path = file();
    const A = openReplica(path, { pollMs: 50 });
    const B = openReplica(file());
    for (const r of [A, B]) r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); SELECT crsql_as_crr('t');`);
    const events: CommitEvent[] = [];
    A.engine.onCommit((e) => events.push(e));
    const plain = new Database(path);
    plain.exec(`INSERT INTO t VALUES (1, 'outside'), (2, 'second')`);
    plain.exec(`UPDATE t SET b = 'edited' WHERE a = 2`);
    plain.close();
    const deadline = Date.now() + 1000;
    while (events.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(events[0]).toMatchObject({ origin: 'outside', tables: ['t'] });
    B.engine.applyChanges(A.engine.changesSince(0));
    expect(tableSnapshot(B.db, 't')).toEqual([['1', `'outside'`], ['2', `'edited'`]]);
    closeReplica(A);
    closeReplica(B);
  });

  it('deleting a row whose key has no clock row (written while untracked) is tracked, and syncs', () => {
    const path = file();
    const A = openReplica(path);
    const B = openReplica(file());
    for (const r of [A, B]) r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); SELECT crsql_as_crr('t');`);
    A.db.exec(`INSERT INTO t VALUES (1, 'kept'), (2, 'untracked')`);
    B.engine.applyChanges(A.engine.changesSince(0));
    const plain = new Database(path);
    plain.exec(`DELETE FROM "t__crr_rows" WHERE a = 2`);
    plain.close();
    const since = A.engine.dbVersion();
    A.db.exec(`DELETE FROM t WHERE a = 2`);
    const deletes = A.db.prepare(`SELECT cid, cl FROM crsql_changes WHERE db_version > ?`).raw().all(since);
    expect(deletes).toEqual([['-1', 2]]);
    B.engine.applyChanges(A.engine.changesSince(since));
    expect(tableSnapshot(B.db, 't')).toEqual([['1', `'kept'`]]);
    closeReplica(A);
    closeReplica(B);
  });

  it('an ALTER without begin/commit_alter is repaired before the next write is tracked', () => {
    const A = openReplica(file());
    const B = openReplica(file());
    for (const r of [A, B]) r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); SELECT crsql_as_crr('t'); INSERT INTO t VALUES (${r === A ? 1 : 2}, 'x');`);
    for (const r of [A, B]) r.db.exec(`ALTER TABLE t ADD COLUMN c TEXT DEFAULT 'd'`);
    A.db.exec(`UPDATE t SET c = 'new' WHERE a = 1`);
    B.db.exec(`ALTER TABLE t RENAME COLUMN b TO bee`);
    expect(A.engine.changesSince(0).map((c) => c.cid)).toContain('c');
    B.db.exec(`ALTER TABLE t RENAME COLUMN bee TO b`);
    B.engine.applyChanges(A.engine.changesSince(0));
    A.engine.applyChanges(B.engine.changesSince(0));
    expect(tableSnapshot(A.db, 't')).toEqual([['1', `'x'`, `'new'`], ['2', `'x'`, `'d'`]]);
    expect(tableSnapshot(B.db, 't')).toEqual(tableSnapshot(A.db, 't'));
    closeReplica(A);
    closeReplica(B);
  });

  it('dropping a column keeps the other cells at their versions and positions in seq', () => {
    // on the engine's connection as it is (the engine moves its triggers and views aside), and
    // between crsql_begin_alter and crsql_commit_alter
    for (const alter of [(r: Replica) => r.db.exec(`ALTER TABLE t DROP COLUMN c`), (r: Replica) => {
      r.db.prepare(`SELECT crsql_begin_alter('t')`).get();
      r.db.exec(`ALTER TABLE t DROP COLUMN c`);
      r.db.prepare(`SELECT crsql_commit_alter('t')`).get();
    }]) {
      const r = openReplica(file());
      r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b, c, d); SELECT crsql_as_crr('t');`);
      r.db.exec(`INSERT INTO t VALUES (1, 'b', 'c', 'd'), (2, 'b2', 'c2', 'd2')`);
      const keep = (cs: ReturnType<typeof r.engine.changesSince>) => cs.filter((c) => c.cid !== 'c');
      const before = keep(r.engine.changesSince(0));
      alter(r);
      r.db.exec(`UPDATE t SET d = 'D' WHERE a = 2`);
      const after = r.engine.changesSince(0);
      expect(after.filter((c) => c.db_version === before[0].db_version)).toEqual(before.filter((c) => !(c.pk[2] === 2 && c.cid === 'd')));
      expect(after.map((c) => c.cid)).not.toContain('c');
      closeReplica(r);
    }
  });

  it('crsql_begin_alter / crsql_commit_alter keep unchanged data at its versions', () => {
    const r = openReplica(file());
    r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); SELECT crsql_as_crr('t'); INSERT INTO t VALUES (1, 'x');`);
    const before = r.engine.changesSince(0);
    r.db.prepare(`SELECT crsql_begin_alter('t')`).get();
    r.db.exec(`ALTER TABLE t ADD COLUMN c`);
    r.db.prepare(`SELECT crsql_commit_alter('t')`).get();
    expect(r.engine.changesSince(0)).toEqual(before);
    closeReplica(r);
  });

  it('a copied file gets its own site id from renewSiteId, keeping the original attribution', () => {
    const r = openReplica(file());
    r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); SELECT crsql_as_crr('t'); INSERT INTO t VALUES (1, 'x');`);
    const original = hex(r.engine.siteId);
    closeReplica(r);
    const db = new Database(r.path);
    const fresh = renewSiteId(db);
    db.close();
    const copy = openReplica(r.path);
    expect(hex(copy.engine.siteId)).toBe(hex(fresh));
    expect(hex(copy.engine.siteId)).not.toBe(original);
    expect(copy.engine.changesSince(0).map((c) => hex(c.site_id))).toEqual([original]);
    closeReplica(copy);
  });
});

describe('onCommit', () => {
  it('reports local commits and merges with their tables, versions and sites', () => {
    const A = openReplica(file());
    const B = openReplica(file());
    for (const r of [A, B]) r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); SELECT crsql_as_crr('t');`);
    const ea: CommitEvent[] = [];
    const eb: CommitEvent[] = [];
    A.engine.onCommit((e) => ea.push(e));
    B.engine.onCommit((e) => eb.push(e));
    A.db.transaction(() => {
      A.db.prepare('INSERT INTO t VALUES (1, 1)').run();
      A.db.prepare('INSERT INTO t VALUES (2, 2)').run();
    })();
    A.db.prepare('UPDATE t SET b = 3 WHERE a = 1').run();
    A.db.prepare('UPDATE t SET b = 3 WHERE a = 1').run(); // no change: no event
    expect(ea.map((e) => [e.origin, e.tables, e.fromDbVersion, e.toDbVersion])).toEqual([
      ['local', ['t'], 1, 1],
      ['local', ['t'], 2, 2],
    ]);
    expect(B.engine.applyChanges(A.engine.changesSince(0))).toBe(2);
    expect(B.engine.applyChanges(A.engine.changesSince(0))).toBe(0);
    expect(eb).toHaveLength(1);
    expect(eb[0].origin).toBe('merge');
    expect(eb[0].sites.map(hex)).toEqual([hex(A.engine.siteId)]);
    closeReplica(A);
    closeReplica(B);
  });

  it('reports a delete, local and merged (a pk-only table too)', () => {
    const A = openReplica(file());
    const B = openReplica(file());
    for (const r of [A, B]) r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); CREATE TABLE k (a INTEGER PRIMARY KEY NOT NULL); SELECT crsql_as_crr('t'); SELECT crsql_as_crr('k');`);
    A.db.exec(`INSERT INTO t VALUES (1, 1), (2, 2); INSERT INTO k VALUES (1)`);
    B.engine.applyChanges(A.engine.changesSince(0));
    const since = A.engine.dbVersion();
    const ea: CommitEvent[] = [];
    const eb: CommitEvent[] = [];
    A.engine.onCommit((e) => ea.push(e));
    B.engine.onCommit((e) => eb.push(e));
    A.db.exec(`DELETE FROM t WHERE a = 1`);
    A.db.exec(`DELETE FROM k`);
    expect(ea.map((e) => [e.origin, e.tables])).toEqual([
      ['local', ['t']],
      ['local', ['k']],
    ]);
    expect(B.engine.applyChanges(A.engine.changesSince(since))).toBe(2);
    expect(eb.map((e) => [e.origin, [...e.tables].sort(), e.sites.map(hex)])).toEqual([['merge', ['k', 't'], [hex(A.engine.siteId)]]]);
    closeReplica(A);
    closeReplica(B);
  });

  it('a failing statement changes nothing and advances nothing', () => {
    const r = openReplica(file());
    r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b); SELECT crsql_as_crr('t'); INSERT INTO t VALUES (1, 1);`);
    const v = r.engine.dbVersion();
    expect(() => r.db.exec(`INSERT INTO t VALUES (2, 2); INSERT INTO t VALUES (1, 1);`)).toThrow(/UNIQUE/);
    expect(() => r.db.transaction(() => {
      r.db.prepare('INSERT INTO t VALUES (3, 3)').run();
      throw new Error('abort');
    })()).toThrow('abort');
    expect(r.engine.dbVersion()).toBe(v);
    r.db.exec(`INSERT INTO t VALUES (4, 4)`);
    expect(r.engine.changesSince(v).map((c) => [c.val, c.db_version])).toEqual([[4n, v + 1]]);
    closeReplica(r);
  });
});


describe('a rolled-back transaction', () => {
  it('leaves no schema change queued by crsql_as_crr to run later', () => {
    const r = openReplica(file());
    r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b)`);
    expect(() =>
      r.db.transaction(() => {
        r.db.prepare(`SELECT crsql_as_crr('t')`).get();
        throw new Error('changed my mind');
      })(),
    ).toThrow(/changed my mind/);
    r.db.prepare(`INSERT INTO t VALUES (1, 'x')`).run();
    expect(r.engine.isCrr('t')).toBe(false);
    closeReplica(r);
  });
});

describe('conflict clauses of the writing statement', () => {
  // SQLite applies an outer OR REPLACE / OR IGNORE to the statements of the triggers it fires:
  // the clock rows must not be replaced (a transaction's seq numbers restarting, say)
  it('OR REPLACE, OR IGNORE and OR FAIL writes in one transaction are tracked like plain ones', () => {
    const A = openReplica(file());
    const B = openReplica(file());
    for (const r of [A, B]) r.db.exec(`CREATE TABLE t (a INTEGER PRIMARY KEY NOT NULL, b, c); SELECT crsql_as_crr('t');`);
    A.db.exec(`INSERT INTO t VALUES (9, 'nine', 9)`);
    const v = A.engine.dbVersion();
    A.db.transaction(() => {
      A.db.exec(`INSERT INTO t VALUES (1, 'one', 1)`);
      A.db.exec(`INSERT OR REPLACE INTO t VALUES (1, 'uno', 1)`);
      A.db.exec(`INSERT OR REPLACE INTO t VALUES (2, 'two', 2)`);
      A.db.exec(`INSERT OR IGNORE INTO t VALUES (2, 'dos', 2)`);
      A.db.exec(`UPDATE OR REPLACE t SET b = 'deux' WHERE a = 2`);
      A.db.exec(`UPDATE OR REPLACE t SET a = 3 WHERE a = 2`);
      A.db.exec(`INSERT OR FAIL INTO t VALUES (4, 'four', 4)`);
      A.db.exec(`DELETE FROM t WHERE a = 9`);
      A.db.exec(`INSERT OR REPLACE INTO t VALUES (9, 'again', 9)`);
    })();
    expect(A.engine.dbVersion()).toBe(v + 1);
    const rows = A.db.prepare(`SELECT db_version, seq FROM crsql_changes WHERE db_version > ?`).all(v) as { db_version: number; seq: number }[];
    expect(rows.length).toBeGreaterThan(5);
    expect(new Set(rows.map((r) => r.db_version))).toEqual(new Set([v + 1]));
    expect(new Set(rows.map((r) => r.seq)).size).toBe(rows.length);
    B.engine.applyChanges(A.engine.changesSince(0));
    expect(tableSnapshot(B.db, 't')).toEqual(tableSnapshot(A.db, 't'));
    expect(A.db.prepare('SELECT a, b FROM t ORDER BY a').raw().all()).toEqual([[1, 'uno'], [3, 'deux'], [4, 'four'], [9, 'again']]);
    closeReplica(A);
    closeReplica(B);
  });
});
