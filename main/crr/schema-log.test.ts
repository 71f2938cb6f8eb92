// The replicated schema log (schema-log.ts) between replicas synced by hand as sync does it: the
// entries a replica lacks (by version vector) first, in one transaction, then the change stream.
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { closeReplica, openReplica, streamChanges, tableSnapshot, tempDir, type Replica } from './test-helpers.ts';
import type { Change } from './types.ts';

const t = tempDir('crr-schema-log-');
afterAll(() => t.cleanup());
let n = 0;
const file = () => join(t.dir, `r${n++}.db`);

/** `to` takes the schema entries it lacks from `from` (one transaction), as a sync session sends them first. */
function pullSchema(from: Replica, to: Replica): number {
  const entries = from.engine.schemaLog.missing(to.engine.schemaLog.vector());
  return to.db.transaction(() => to.engine.schemaLog.receive(entries))();
}

/** What sync does with a peer's stream: names routed through renames, dropped columns kept readable. */
function pull(from: Replica, to: Replica): void {
  pullSchema(from, to);
  const log = to.engine.schemaLog;
  const merge: Change[] = [];
  const dropped: Change[] = [];
  for (const c of streamChanges(from, 0, to.engine.siteId)) {
    const r = log.route(c.table, c.cid);
    if (r.conflict) continue;
    (r.dropped ? dropped : merge).push({ ...c, table: r.table, cid: r.cid });
  }
  to.db.transaction(() => {
    log.keepDropped(dropped);
    to.engine.applyChanges(merge);
  })();
  to.engine.history.applyPolicies(from.engine.history.policies());
}

const kinds = (r: Replica) => r.engine.schemaLog.list().map((e) => `${e.kind} ${e.table}${e.column ? `.${e.column}` : ''}${e.to ? ` -> ${e.to}` : ''}${e.index ? ` ${e.index}` : ''}`);
const columns = (r: Replica, table: string) => (r.db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[]).sort();

function shared(): [Replica, Replica] {
  const A = openReplica(file());
  A.db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, b TEXT); SELECT crsql_as_crr('t'); INSERT INTO t VALUES (1, 'one'), (2, 'two');`);
  const B = openReplica(file());
  pull(A, B);
  return [A, B];
}

describe('the schema log', () => {
  it('records schema changes made on the engine connection and by other programs, without moving db_version', () => {
    const A = openReplica(file());
    A.db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, b TEXT); CREATE INDEX t_b ON t (b)`);
    A.engine.asCrr('t');
    A.db.exec(`INSERT INTO t VALUES (1, 'one')`);
    const [v, cv] = [A.engine.dbVersion(), A.db.prepare('SELECT crsql_db_version()').pluck().get()];
    A.db.exec(`ALTER TABLE t ADD COLUMN c INTEGER NOT NULL DEFAULT 7`);
    // another program, while the engine has the file open
    const other = new Database(A.path);
    other.exec(`ALTER TABLE t RENAME COLUMN b TO bee; CREATE INDEX t_bee ON t (bee); DROP INDEX t_b`);
    other.close();
    A.engine.noticeChanges();
    A.db.exec(`ALTER TABLE t DROP COLUMN c`);
    expect(kinds(A)).toEqual(['share-table t', 'create-index t t_b', 'add-column t.c', 'rename-column t.b -> bee', 'create-index t t_bee', 'drop-index t t_b', 'drop-column t.c']);
    // renames rewrite the statements of the indexes that name them: still the same indexes, nothing logged
    A.db.exec(`ALTER TABLE t RENAME COLUMN bee TO b2; ALTER TABLE t RENAME TO t2`);
    expect(kinds(A).slice(7)).toEqual(['rename-column t.bee -> b2', 'rename-table t -> t2']);
    expect(A.engine.schemaLog.list()[2]).toMatchObject({ type: 'INTEGER', notNull: true, default: '7', state: 'applied' });
    expect([A.engine.dbVersion(), A.db.prepare('SELECT crsql_db_version()').pluck().get()]).toEqual([v, cv]);
    expect(A.engine.schemaLog.summary()).toMatchObject({ version: 9, waiting: 0 });
    closeReplica(A);
  });

  it('a column another program adds and writes in one script: its writes are tracked once the engine notices', () => {
    const A = openReplica(file());
    A.db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, b TEXT); SELECT crsql_as_crr('t'); INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three');`);
    const v = A.engine.dbVersion();
    const other = new Database(A.path);
    other.exec(`ALTER TABLE t ADD COLUMN n INTEGER DEFAULT 0; UPDATE t SET n = 9007199254740993 WHERE id = 1; INSERT INTO t VALUES (4, 'four', 4);`);
    other.close();
    A.engine.noticeChanges();
    const changes = A.engine.changesSince(v).filter((c) => c.cid === 'n').map((c) => [c.pk[2], c.val]);
    expect(changes).toEqual(expect.arrayContaining([[1, 9007199254740993n], [4, 4n]]));
    expect(changes).toHaveLength(2);
    closeReplica(A);
  });

  it('a rolled-back schema change leaves no entry, and the engine follows the file back', () => {
    const A = openReplica(file());
    A.db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, b TEXT); SELECT crsql_as_crr('t');`);
    expect(() =>
      A.db.transaction(() => {
        A.db.exec(`ALTER TABLE t ADD COLUMN c TEXT`);
        A.db.prepare(`UPDATE t SET c = 'x'`).run();
        throw new Error('no');
      })(),
    ).toThrow('no');
    expect(kinds(A)).toEqual(['share-table t']);
    A.db.exec(`INSERT INTO t VALUES (1, 'one')`);
    expect(A.engine.changesSince(0).map((c) => c.cid).sort()).toEqual(['b']);
    closeReplica(A);
  });

  it('a column added on one replica reaches the other with its default and values; a new shared table too', () => {
    const [A, B] = shared();
    A.db.exec(`ALTER TABLE t ADD COLUMN c TEXT DEFAULT 'd'; UPDATE t SET c = 'new' WHERE id = 1;`);
    A.db.exec(`CREATE TABLE later (k TEXT PRIMARY KEY NOT NULL, v); CREATE INDEX later_v ON later (v); INSERT INTO later VALUES ('a', 1)`);
    A.engine.asCrr('later');
    pull(A, B);
    expect(tableSnapshot(B.db, 't')).toEqual([['1', "'one'", "'new'"], ['2', "'two'", "'d'"]]);
    expect(tableSnapshot(B.db, 'later')).toEqual([["'a'", '1']]);
    expect(B.db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'later' AND sql IS NOT NULL`).pluck().all()).toEqual(['later_v']);
    // applied, not logged again: B's log is A's
    expect(kinds(B)).toEqual(kinds(A));
    expect(B.engine.schemaLog.summary()).toEqual(A.engine.schemaLog.summary());
    // and B's writes to the new column travel back
    B.db.exec(`UPDATE t SET c = 'from b' WHERE id = 2`);
    pull(B, A);
    expect(tableSnapshot(A.db, 't')).toEqual(tableSnapshot(B.db, 't'));
    closeReplica(A);
    closeReplica(B);
  });

  it('two replicas adding different columns concurrently both get both; the same name with another type is a conflict on both', () => {
    const [A, B] = shared();
    A.db.exec(`ALTER TABLE t ADD COLUMN from_a INTEGER; UPDATE t SET from_a = 1 WHERE id = 1;`);
    B.db.exec(`ALTER TABLE t ADD COLUMN from_b TEXT; UPDATE t SET from_b = 'b' WHERE id = 2;`);
    A.db.exec(`ALTER TABLE t ADD COLUMN x INTEGER`);
    B.db.exec(`ALTER TABLE t ADD COLUMN x TEXT`);
    pull(A, B);
    pull(B, A);
    expect(columns(A, 't')).toEqual(['b', 'from_a', 'from_b', 'id', 'x']);
    expect(columns(B, 't')).toEqual(columns(A, 't'));
    const values = (r: Replica) => r.db.prepare('SELECT id, b, from_a, from_b FROM t ORDER BY id').raw().all();
    expect(values(B)).toEqual(values(A));
    expect(values(A)).toEqual([[1n, 'one', 1n, null], [2n, 'two', null, 'b']].map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v))));
    for (const r of [A, B]) {
      const waiting = r.engine.schemaLog.waiting();
      expect(waiting).toHaveLength(1);
      expect(waiting[0]).toMatchObject({ kind: 'add-column', column: 'x', state: 'conflict' });
      expect(waiting[0].reason).toMatch(/schema conflict: column x of t is (INTEGER|TEXT) here and (TEXT|INTEGER) at the peer/);
      expect(r.engine.schemaLog.route('t', 'x').conflict).toMatch(/schema conflict/);
    }
    expect(A.engine.schemaLog.summary().digest).not.toBe(B.engine.schemaLog.summary().digest);
    closeReplica(A);
    closeReplica(B);
  });

  it('a dropped column waits for the receiver to confirm; its unsynced values stay readable on both sides', () => {
    const [A, B] = shared();
    A.db.exec(`ALTER TABLE t ADD COLUMN c TEXT`);
    pull(A, B);
    B.db.exec(`UPDATE t SET c = 'unsynced edit' WHERE id = 1; INSERT INTO t VALUES (3, 'three', 'fresh row')`);
    A.db.exec(`UPDATE t SET c = 'a saw this' WHERE id = 2`);
    A.db.exec(`ALTER TABLE t DROP COLUMN c`);
    // A's own values of c: readable from A's dropped versions
    expect(A.engine.schemaLog.dropped('t', [2]).map((v) => [v.cid, v.val])).toEqual([['c', 'a saw this']]);
    pullSchema(A, B);
    expect(columns(B, 't')).toContain('c');
    const [wait] = B.engine.schemaLog.waiting();
    expect(wait).toMatchObject({ kind: 'drop-column', column: 'c', state: 'confirm', destructive: true, summary: 'drop column c of t' });
    // B keeps syncing the other columns meanwhile
    A.db.exec(`UPDATE t SET b = 'changed in a' WHERE id = 1`);
    pull(A, B);
    expect(tableSnapshot(B.db, 't')).toEqual([['1', "'changed in a'", "'unsynced edit'"], ['2', "'two'", 'NULL'], ['3', "'three'", "'fresh row'"]]);
    // B's edits to c reach A as readable versions, not as changes that wait forever
    expect(A.engine.schemaLog.route('t', 'c')).toMatchObject({ dropped: true });
    pull(B, A);
    expect(A.engine.schemaLog.dropped('t', [1]).map((v) => v.val)).toContain('unsynced edit');
    expect(A.engine.schemaLog.dropped('t', [3]).map((v) => v.val)).toEqual(['fresh row']);
    // confirmed: B drops it, its values stay in its cell history of the dropped column
    B.engine.schemaLog.confirm(wait.site_id, wait.clock);
    expect(columns(B, 't')).not.toContain('c');
    expect(B.engine.schemaLog.waiting()).toEqual([]);
    expect(B.engine.schemaLog.dropped('t', [1]).map((v) => v.val)).toContain('unsynced edit');
    expect(B.engine.schemaLog.dropped('t', [3]).map((v) => v.val)).toEqual(['fresh row']);
    expect(B.engine.schemaLog.summary()).toEqual(A.engine.schemaLog.summary());
    expect(tableSnapshot(B.db, 't')).toEqual(tableSnapshot(A.db, 't'));
    // and nothing of the dropped column travels in the stream any more
    expect(streamChanges(B, 0).some((c) => c.cid === 'c')).toBe(false);
    closeReplica(A);
    closeReplica(B);
  });

  it('a drop undone by a later change on the same peer does not wait: a table unshared and shared again, a column dropped and added again', () => {
    const [A, B] = shared();
    A.db.exec(`ALTER TABLE t ADD COLUMN c TEXT`);
    pull(A, B);
    A.engine.asTable('t');
    A.engine.asCrr('t');
    A.db.exec(`ALTER TABLE t DROP COLUMN c; ALTER TABLE t ADD COLUMN c TEXT;`);
    pullSchema(A, B);
    expect(B.engine.schemaLog.waiting()).toEqual([]);
    expect(B.engine.schemaLog.list().filter((e) => e.destructive).map((e) => [e.kind, e.reason])).toEqual([
      ['stop-sharing', 'undone by a later change'],
      ['drop-column', 'undone by a later change'],
    ]);
    expect([B.engine.isCrr('t'), columns(B, 't')]).toEqual([true, ['b', 'c', 'id']]);
    closeReplica(A);
    closeReplica(B);
  });

  it('the setting "apply schema changes from peers automatically" applies a drop at once', () => {
    const [A, B] = shared();
    B.engine.schemaLog.setAutoApply(true);
    A.db.exec(`ALTER TABLE t DROP COLUMN b`);
    pullSchema(A, B);
    expect(columns(B, 't')).toEqual(['id']);
    expect(B.engine.schemaLog.waiting()).toEqual([]);
    closeReplica(A);
    closeReplica(B);
  });

  it('a renamed table keeps its clocks, history and merge policies, by this connection or another program, and peers follow', () => {
    const [A, B] = shared();
    A.db.exec(`UPDATE t SET b = 'edited' WHERE id = 1`);
    A.engine.history.setPolicy('t', 'b', 'review');
    pull(A, B);
    A.db.exec(`ALTER TABLE t RENAME TO u`);
    expect([A.engine.isCrr('t'), A.engine.isCrr('u')]).toEqual([false, true]);
    expect(A.engine.history.cell('u', [1n], 'b').map((v) => v.val)).toEqual(['edited', 'one']);
    expect(A.engine.history.policies().map((p) => [p.table, p.cid, p.policy])).toEqual([['u', 'b', 'review']]);
    const other = new Database(A.path);
    other.exec(`ALTER TABLE u RENAME TO w`);
    other.close();
    A.engine.noticeChanges();
    expect(A.engine.crrTables()).toEqual(['w']);
    A.db.exec(`UPDATE w SET b = 'after the renames' WHERE id = 2`);
    expect(A.engine.changesSince(0).filter((c) => c.cid === 'b').map((c) => [c.table, c.val])).toContainEqual(['w', 'after the renames']);
    expect(A.engine.history.cell('w', [1n], 'b')).toHaveLength(2);
    expect(kinds(A).slice(-2)).toEqual(['rename-table t -> u', 'rename-table u -> w']);
    // B wrote to t meanwhile: its change is routed to w on A; B renames too
    B.db.exec(`UPDATE t SET b = 'b wrote to t' WHERE id = 1`);
    pull(B, A);
    pull(A, B);
    expect(B.engine.crrTables()).toEqual(['w']);
    expect(tableSnapshot(B.db, 'w')).toEqual(tableSnapshot(A.db, 'w'));
    expect(tableSnapshot(A.db, 'w')[0]).toEqual(['1', "'b wrote to t'"]);
    expect(B.engine.history.cell('w', [1n], 'b')).toHaveLength(3);
    closeReplica(A);
    closeReplica(B);
  });

  it('a renamed column keeps its history here and at the peer; changes written to the old name follow it', () => {
    const [A, B] = shared();
    A.db.exec(`ALTER TABLE t RENAME COLUMN b TO body`);
    B.db.exec(`UPDATE t SET b = 'b wrote b' WHERE id = 2`);
    pull(B, A);
    expect(tableSnapshot(A.db, 't')).toEqual([['1', "'one'"], ['2', "'b wrote b'"]]);
    pull(A, B);
    expect(columns(B, 't')).toEqual(['body', 'id']);
    expect(B.engine.history.cell('t', [2n], 'body').map((v) => v.val)).toEqual(['b wrote b', 'two']);
    closeReplica(A);
    closeReplica(B);
  });

  it('ALTER statements in one exec script are tracked one by one: a write right after a DROP COLUMN is tracked', () => {
    const A = openReplica(file());
    A.db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, b TEXT, c TEXT); SELECT crsql_as_crr('t'); INSERT INTO t VALUES (1, 'one', 'x');`);
    const v = A.engine.dbVersion();
    A.db.exec(`ALTER TABLE t DROP COLUMN c; UPDATE t SET b = 'tracked' WHERE id = 1; ALTER TABLE "t" ADD COLUMN d; UPDATE t SET d = 'also' WHERE id = 1;`);
    expect(A.engine.changesSince(v).map((c) => [c.cid, c.val]).sort()).toEqual([['b', 'tracked'], ['d', 'also']]);
    closeReplica(A);
  });

  it("a peer's statements create only what they name: one CREATE TABLE or plain CREATE INDEX, never engine names", () => {
    const [A, B] = shared();
    const site = new Uint8Array(16).fill(7);
    let clock = 100;
    const entry = (e: Record<string, unknown>) => ({ site_id: site, clock: ++clock, written_at: 0, ...e }) as never;
    B.db.transaction(() =>
      B.engine.schemaLog.receive([
        entry({ kind: 'share-table', table: 'evil', sql: `CREATE TABLE evil (id INTEGER PRIMARY KEY NOT NULL); DROP TABLE t` }),
        entry({ kind: 'share-table', table: 'crr_x', sql: `CREATE TABLE crr_x (id INTEGER PRIMARY KEY NOT NULL)` }),
        entry({ kind: 'share-table', table: 'a', sql: `CREATE TABLE other (id INTEGER PRIMARY KEY NOT NULL)` }),
        entry({ kind: 'create-index', table: 't', index: 'u', sql: `CREATE UNIQUE INDEX u ON t (b)` }),
        entry({ kind: 'create-index', table: 't', index: 'elsewhere', sql: `CREATE INDEX elsewhere ON crr_sites (site_id)` }),
        entry({ kind: 'add-column', table: 't', column: 'd', default: `(SELECT 1)` }),
      ]),
    )();
    const names = B.db.prepare(`SELECT name FROM sqlite_schema WHERE name NOT LIKE '%crr%' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all();
    expect(names).toEqual(['t']);
    expect(columns(B, 't')).toEqual(['b', 'id']);
    const waiting = B.engine.schemaLog.waiting();
    expect(waiting.map((w) => w.state)).toEqual(Array(6).fill('conflict'));
    expect(waiting.map((w) => w.reason).join('\n')).toMatch(/more than one statement[^]*refused to create "crr_x"[^]*did not create a[^]*refused to create index "u"[^]*did not create a plain index elsewhere[^]*DEFAULT \(SELECT 1\) is not a plain value/);
    closeReplica(A);
    closeReplica(B);
  });

  it('refuses an entry whose clock is far ahead, and malformed ones, applying nothing', () => {
    const [A, B] = shared();
    A.db.exec(`ALTER TABLE t ADD COLUMN c`);
    const [entry] = A.engine.schemaLog.missing(B.engine.schemaLog.vector());
    const receive = (e: unknown) => () => B.db.transaction(() => B.engine.schemaLog.receive([e as typeof entry]))();
    expect(receive({ ...entry, clock: 2 ** 40 })).toThrow(/far ahead/);
    expect(receive({ ...entry, kind: 'drop-everything' })).toThrow(/unknown kind/);
    expect(receive({ ...entry, column: undefined })).toThrow(/needs column/);
    expect(receive({ ...entry, type: 'TEXT); DROP TABLE t; --' })).not.toThrow();
    expect(columns(B, 't')).toEqual(['b', 'id']);
    expect(B.engine.schemaLog.waiting()[0].reason).toMatch(/declared type .* is not one this copy adds automatically/);
    closeReplica(A);
    closeReplica(B);
  });

  it('counter and text columns keep their policy, contributions and text state through renames; a dropped one leaves only its versions', () => {
    const [A, B] = [openReplica(file()), openReplica(file())];
    A.db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, stock INTEGER DEFAULT 0, descr TEXT); SELECT crsql_as_crr('t');
      INSERT INTO t VALUES (1, 10, 'middle')`);
    A.engine.history.setPolicy('t', 'stock', 'counter');
    A.engine.history.setPolicy('t', 'descr', 'text');
    pull(A, B);
    const cellOf = (r: Replica, table: string, col: string) => r.db.prepare(`SELECT ${col} FROM ${table} WHERE id = 1`).pluck().get();
    const policiesOf = (r: Replica) => r.engine.history.policies().map((p) => `${p.table}.${p.cid} ${p.policy}`);
    // B's policy entries reach A again before A's renames reach B (they cross)
    A.db.exec(`ALTER TABLE t RENAME COLUMN stock TO qty; ALTER TABLE t RENAME COLUMN descr TO notes`);
    A.engine.history.applyPolicies(B.engine.history.policies());
    expect(policiesOf(A)).toEqual(['t.notes text', 't.qty counter']);
    A.db.exec(`UPDATE t SET qty = qty + 5, notes = 'start ' || notes WHERE id = 1`);
    B.db.exec(`UPDATE t SET stock = stock - 3, descr = descr || ' end' WHERE id = 1`);
    B.engine.history.applyPolicies(A.engine.history.policies());
    pull(B, A);
    pull(A, B);
    for (const r of [A, B]) {
      expect(policiesOf(r)).toEqual(['t.notes text', 't.qty counter']);
      expect([cellOf(r, 't', 'qty'), cellOf(r, 't', 'notes')]).toEqual([12, 'start middle end']);
    }
    // a renamed table takes its counts and text states along
    A.db.exec(`ALTER TABLE t RENAME TO u`);
    pull(A, B);
    B.db.exec(`UPDATE u SET qty = qty + 1, notes = notes || '!' WHERE id = 1`);
    A.db.exec(`UPDATE u SET qty = qty + 1, notes = '>' || notes WHERE id = 1`);
    pull(B, A);
    pull(A, B);
    for (const r of [A, B]) {
      expect([cellOf(r, 'u', 'qty'), cellOf(r, 'u', 'notes')]).toEqual([14, '>start middle end!']);
      expect(r.engine.history.contributions('u', [1n], 'qty').map((c) => c.total).sort()).toHaveLength(2);
      expect(r.db.prepare(`SELECT name FROM sqlite_schema WHERE substr(name, 1, 7) = 't__crr_'`).pluck().all()).toEqual([]);
    }
    // A drops the counter while B, which has not confirmed, goes on counting: A keeps B's versions readable, not its contributions
    A.db.exec(`ALTER TABLE u DROP COLUMN qty`);
    pullSchema(A, B);
    expect(columns(B, 'u')).toEqual(['id', 'notes', 'qty']);
    B.db.exec(`UPDATE u SET qty = qty + 100 WHERE id = 1`);
    pull(B, A);
    const kept = A.engine.schemaLog.dropped('u', [1n]).filter((v) => v.cid === 'qty');
    expect(kept.map((v) => v.val)).toContain(114n);
    // every value kept is one the cell held on B (no contribution sums or text states)
    const onB = new Set(B.engine.history.cell('u', [1n], 'qty').map((v) => v.val));
    expect(kept.filter((v) => !onB.has(v.val)).map((v) => v.val)).toEqual([]);
    expect(A.db.prepare('SELECT count(*) FROM "u__crr_counts"').pluck().get()).toBe(0);
    const waiting = B.engine.schemaLog.waiting();
    expect(waiting.map((e) => e.kind)).toEqual(['drop-column']);
    B.engine.schemaLog.confirm(waiting[0].site_id, waiting[0].clock);
    expect(columns(B, 'u')).toEqual(['id', 'notes']);
    expect(B.db.prepare('SELECT count(*) FROM "u__crr_counts"').pluck().get()).toBe(0);
    B.db.exec(`UPDATE u SET notes = notes || '?' WHERE id = 1`);
    pull(B, A);
    expect(cellOf(A, 'u', 'notes')).toBe('>start middle end!?');
    closeReplica(A);
    closeReplica(B);
  });
});

