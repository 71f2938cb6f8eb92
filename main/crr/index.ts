// installCrr: cr-sqlite's SQL surface on a better-sqlite3 connection.
//
// Versions: local-write triggers (pure SQL, in the file) stamp every change with the db_version
// of a marker row (crr_tx) that the first tracked write of a transaction opens. The engine
// "seals" the marker, i.e. publishes its version as committed and removes it, inside the
// transaction right before it commits whenever it can see the commit coming (db.transaction,
// an explicit COMMIT, or a single write statement, which it wraps in BEGIN/COMMIT), and on
// its data_version poll for commits made by other programs. See README.md.
import type Database from 'better-sqlite3';
import type { Change, ChangePage, ChangePageCursor, ChangesSinceOptions, CommitEvent, CrrEngine, CrrOptions } from './types.ts';
import type { SqlValue } from '../../shared/values.ts';
import { packPrimaryKey, unpackPrimaryKey } from './pack-pk.ts';
import { checkCrrRules, readTableInfo, quoteId, quoteText, type TableInfo } from './table-info.ts';
import { META_SQL, createClockTablesSql, dropClockTablesSql, cellsTable, rowsTable } from './clock-tables.ts';
import { localTriggersSql, dropLocalTriggersSql } from './local-triggers.ts';
import { changesViewSql } from './changes-view.ts';
import { backfillSql } from './backfill.ts';
import { incomingTable, mergeProgram } from './merge.ts';
import { ensureLocalSiteId } from './site-id.ts';
import { createChangePager, fromSqlite, toChange } from './change-pages.ts';
import { createHistoryTableSql, dropHistoryTableSql, histTable, historyViewsSql } from './history-sql.ts';
import { createHistory } from './history.ts';
import { notifyAll } from './notify.ts';
import { DEFAULT_MAX_VERSION_JUMP, validateChange } from './input-limits.ts';

export type {
  Change, ChangePage, ChangePageCursor, CommitEvent, CrrEngine, CrrOptions, CellVersion, Conflict, HistoryEntry, MergePolicy, PolicyEntry, VersionRef,
} from './types.ts';
export { CrrRefusal } from './table-info.ts';
export { ChangeRefused, MAX_CLOCK } from './input-limits.ts';
export { packPrimaryKey, unpackPrimaryKey } from './pack-pk.ts';

const engines = new WeakMap<Database.Database, CrrEngine>();

type Statement = Database.Statement;
type Marker = { db_version: number; max_version: number };
type AdminTask = () => void;

const TX_CONTROL = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;
const COMMIT = /^\s*(COMMIT|END)\b/i;

export function installCrr(db: Database.Database, options: CrrOptions = {}): CrrEngine {
  const existing = engines.get(db);
  if (existing) return existing;

  const raw = {
    prepare: db.prepare.bind(db),
    exec: db.exec.bind(db),
    transaction: db.transaction.bind(db),
  };
  raw.exec(META_SQL);
  const siteId = ensureLocalSiteId(db, options.siteId);
  // cell history (history.ts): recorded by the triggers and the merge program when on
  if (options.history !== undefined) raw.prepare(`UPDATE crr_state SET value = ? WHERE key = 'history'`).run(options.history ? 1 : 0);
  const historyOn = Number(raw.prepare(`SELECT value FROM crr_state WHERE key = 'history'`).pluck().get()) === 1;
  const listeners = new Set<(e: CommitEvent) => void>();
  let tables = new Map<string, TableInfo>();
  let mergeSeen = false;
  let pendingCommits: { marker: Marker; origin: CommitEvent['origin'] }[] = [];
  const admin: AdminTask[] = [];
  const altering = new Set<string>();
  let closed = false;

  if (options.maxVersionJump !== undefined) {
    if (!Number.isSafeInteger(options.maxVersionJump) || options.maxVersionJump < 1) throw new RangeError('maxVersionJump must be a positive integer');
    raw.prepare(`INSERT INTO crr_state (key, value) VALUES ('max_version_jump', ?) ON CONFLICT DO UPDATE SET value = excluded.value`).run(options.maxVersionJump);
  }
  const maxJumpStmt = raw.prepare(`SELECT value FROM crr_state WHERE key = 'max_version_jump'`).pluck().safeIntegers(false);
  const maxJump = () => (maxJumpStmt.get() as number | undefined) ?? DEFAULT_MAX_VERSION_JUMP;
  const q = {
    marker: raw.prepare('SELECT db_version, max_version FROM crr_tx WHERE id = 1').safeIntegers(false),
    publish: raw.prepare(`UPDATE crr_state SET value = ? WHERE key = 'db_version'`),
    clearMarker: raw.prepare('DELETE FROM crr_tx'),
    committed: raw.prepare(`SELECT value FROM crr_state WHERE key = 'db_version'`).pluck().safeIntegers(false),
    dataVersion: raw.prepare('PRAGMA data_version').pluck().safeIntegers(false),
    schemaVersion: raw.prepare('PRAGMA schema_version').pluck().safeIntegers(false),
    // IMMEDIATE, like inTx: a write statement wrapped here may read (the marker) before it writes
    begin: raw.prepare('BEGIN IMMEDIATE'),
    commit: raw.prepare('COMMIT'),
    rollback: raw.prepare('ROLLBACK'),
  };
  let committedVersion = q.committed.get() as number;
  let lastDataVersion = q.dataVersion.get() as number;
  let knownSchemaVersion = -1;
  let changesStmt: Statement | null = null;
  const stageStmts = new Map<string, Statement>();
  const programStmts = new Map<string, Statement[]>();
  const commitSitesStmts = new Map<string, Statement>();

  // ---- SQL functions (pure: they never touch the database) ----
  db.function('crsql_site_id', { deterministic: false }, () => Buffer.from(siteId));
  // bigint: SQLite gets an INTEGER, as from cr-sqlite (a JS number would be a REAL)
  db.function('crsql_db_version', { deterministic: false }, () => BigInt(committedVersion));
  db.function('crsql_next_db_version', { deterministic: false }, () => BigInt(committedVersion + 1));
  db.function('crr_pack_pk', { varargs: true, deterministic: true, safeIntegers: true }, (...values: unknown[]) =>
    Buffer.from(packPrimaryKey(values.map(fromSqlite))),
  );
  db.function('crr_unpack_pk', { deterministic: true, safeIntegers: true }, (pk: unknown, index: unknown, count: unknown) => {
    if (!(pk instanceof Uint8Array)) throw new TypeError('crsql_changes: pk must be a blob (packed primary key)');
    const values = unpackPrimaryKey(pk);
    if (values.length !== Number(count)) {
      throw new TypeError(`crsql_changes: pk has ${values.length} columns, the table has ${count}`);
    }
    if (values[Number(index)] === null) throw new TypeError('crsql_changes: a primary key value is NULL');
    return toSqlite(values[Number(index)]);
  });
  let mergesWon = 0;
  db.function('crr_note_merge', { safeIntegers: false }, (won: unknown) => {
    mergeSeen = true;
    mergesWon += Number(won);
    return null;
  });
  // Schema changes cannot run while a statement executes: queue them for right after it.
  const queueAdmin = (name: string, task: (table: string) => void) =>
    db.function(name, { deterministic: false }, (table: unknown) => {
      if (typeof table !== 'string') throw new TypeError(`${name} expects a table name`);
      admin.push(() => task(table));
      return 'OK';
    });
  queueAdmin('crsql_as_crr', (t) => asCrr(t));
  queueAdmin('crsql_as_table', (t) => asTable(t));
  queueAdmin('crsql_begin_alter', (t) => beginAlter(t));
  queueAdmin('crsql_commit_alter', (t) => commitAlter(t));

  // ---- transactions and sealing ----
  function inTx<T>(fn: () => T): T {
    // IMMEDIATE: a deferred transaction that reads, then writes, fails at once with SQLITE_BUSY
    // (no busy wait) when another program committed in between, which outside writers do
    return raw.transaction(fn).immediate();
  }

  /** Publish the marker's version as committed; runs inside the transaction about to commit. */
  function sealInside(origin: CommitEvent['origin']): void {
    const m = q.marker.get() as Marker | undefined;
    if (!m) return;
    q.publish.run(BigInt(m.max_version)); // bigint: stored as INTEGER
    q.clearMarker.run();
    pendingCommits.push({ marker: m, origin: mergeSeen ? 'merge' : origin });
    mergeSeen = false;
  }

  function describeCommit(m: Marker, origin: CommitEvent['origin']): CommitEvent {
    const changed: string[] = [];
    const sites = new Map<string, Uint8Array>();
    for (const info of tables.values()) {
      let stmt = commitSitesStmts.get(info.name);
      if (!stmt) {
        stmt = raw
          .prepare(
            `SELECT DISTINCT s.site_id FROM (SELECT site FROM ${cellsTable(info.name)} WHERE db_version BETWEEN ? AND ?
               UNION SELECT s_site FROM ${rowsTable(info.name)} WHERE s_version BETWEEN ? AND ?
               UNION SELECT i_site FROM ${rowsTable(info.name)} WHERE i_version BETWEEN ? AND ?) x
             JOIN crr_sites s ON s.ord = x.site`,
          )
          .pluck();
        commitSitesStmts.set(info.name, stmt);
      }
      const siteRows = stmt.all(m.db_version, m.max_version, m.db_version, m.max_version, m.db_version, m.max_version) as Buffer[];
      if (siteRows.length) changed.push(info.name);
      for (const s of siteRows) sites.set(s.toString('hex'), new Uint8Array(s));
    }
    return { tables: changed, fromDbVersion: m.db_version, toDbVersion: m.max_version, sites: [...sites.values()], origin };
  }

  /** After a commit: publish its version and tell the listeners (described only if someone listens). */
  function flushEvents(): void {
    if (db.inTransaction) return;
    history.flush();
    if (pendingCommits.length === 0) return;
    const commits = pendingCommits;
    pendingCommits = [];
    for (const c of commits) committedVersion = Math.max(committedVersion, c.marker.max_version);
    if (listeners.size === 0) return;
    for (const e of commits.map((c) => describeCommit(c.marker, c.origin))) {
      if (e.tables.length) notifyAll(listeners, e, 'onCommit');
    }
  }

  function runAdmin(): void {
    while (admin.length) admin.shift()!();
  }

  /** Runs `fn` (one statement) so that, if it commits on its own, the seal commits with it. */
  function runStatement<T>(readonly: boolean, sql: string, fn: () => T): T {
    if (closed) return fn();
    if (!readonly && !db.inTransaction && !TX_CONTROL.test(sql)) {
      ensureSchemaCurrent();
      q.begin.run();
      let result: T;
      try {
        result = fn();
        runAdmin();
        sealInside('local');
        q.commit.run();
      } catch (err) {
        admin.length = 0;
        if (db.inTransaction) q.rollback.run();
        pendingCommits = [];
        mergeSeen = false;
        throw err;
      }
      flushEvents();
      return result;
    }
    if (db.inTransaction && COMMIT.test(sql)) sealInside('local');
    const result = fn();
    if (!db.inTransaction) {
      runAdmin();
      if (!readonly) {
        ensureSchemaCurrent();
        sealOutside('local');
      }
      flushEvents();
    }
    return result;
  }

  /** Seal a marker left by a commit the engine did not see coming (another program, exec). */
  function sealOutside(origin: CommitEvent['origin']): void {
    if (db.inTransaction || !q.marker.get()) return;
    inTx(() => sealInside(origin));
    flushEvents();
  }

  // ---- wrap the connection so the engine sees statements end and commits coming ----
  db.prepare = ((sql: string) => wrapStatement(raw.prepare(sql), sql)) as typeof db.prepare;
  function wrapStatement(stmt: Statement, sql: string): Statement {
    const readonly = stmt.readonly;
    const s = stmt as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const m of ['run', 'get', 'all'] as const) {
      const orig = s[m].bind(stmt);
      s[m] = (...args: unknown[]) => runStatement(readonly, sql, () => orig(...args));
    }
    const iterate = s.iterate.bind(stmt);
    s.iterate = function* (...args: unknown[]) {
      try {
        yield* iterate(...args) as Iterable<unknown>;
      } finally {
        if (!db.inTransaction) {
          runAdmin();
          flushEvents();
        }
      }
    } as (...a: unknown[]) => unknown;
    return stmt;
  }
  db.exec = ((sql: string) => {
    runStatement(false, /\b(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i.test(sql) ? 'BEGIN' : sql, () => raw.exec(sql));
    return db;
  }) as typeof db.exec;
  db.transaction = ((fn: (...a: unknown[]) => unknown) => {
    const wrapped = raw.transaction(function (this: unknown, ...args: unknown[]) {
      const outer = !nested;
      nested = true;
      try {
        if (outer) ensureSchemaCurrent();
        const r = fn.apply(this, args);
        if (outer) {
          runAdmin();
          sealInside('local');
        }
        return r;
      } finally {
        if (outer) nested = false;
      }
    });
    const run = (variant: (...a: unknown[]) => unknown) =>
      function (this: unknown, ...args: unknown[]) {
        try {
          return variant.apply(this, args);
        } catch (err) {
          if (!db.inTransaction) {
            pendingCommits = [];
            mergeSeen = false;
          }
          throw err;
        } finally {
          flushEvents();
        }
      };
    // the default is IMMEDIATE for the same reason as inTx (deferred stays available)
    const out = run(wrapped.immediate) as unknown as typeof wrapped;
    for (const v of ['deferred', 'immediate', 'exclusive'] as const) {
      Object.defineProperty(out, v, { value: run(wrapped[v]) });
    }
    Object.defineProperty(out, 'default', { value: out });
    return out;
  }) as typeof db.transaction;
  let nested = false;

  // ---- CRR tables ----
  function loadTables(): void {
    // a CRR table dropped by another program is forgotten by repairSchema()
    const names = raw
      .prepare(`SELECT name FROM crr_tables WHERE name IN (SELECT name FROM sqlite_schema WHERE type = 'table') ORDER BY name`)
      .pluck()
      .all() as string[];
    tables = new Map(names.map((n) => [n, readTableInfo(db, n)]));
  }

  function rebuildTemp(): void {
    // a table between crsql_begin_alter and crsql_commit_alter is left out until it is re-derived
    const current = [...tables.values()].filter((t) => !altering.has(t.name));
    raw.exec(changesViewSql(current, historyOn));
    // the history views live in the file (for any SQLite tool): rewrite them only when they change
    for (const create of historyViewsSql(current)) {
      const name = /^CREATE VIEW (\w+)/.exec(create)![1];
      if (raw.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'view' AND name = ?`).pluck().get(name) === create) continue;
      try {
        raw.exec(`DROP VIEW IF EXISTS ${name}; ${create}`);
      } catch (err) {
        if (!/readonly|read-only|locked|busy/i.test(String(err))) throw err;
      }
    }
    changesStmt = null;
    stageStmts.clear();
    programStmts.clear();
    maxHidStmts.clear();
    commitSitesStmts.clear();
  }

  function installTable(info: TableInfo): void {
    raw.exec(dropLocalTriggersSql(raw, info.name));
    raw.exec(createClockTablesSql(info));
    raw.exec(createHistoryTableSql(info));
    raw.exec(localTriggersSql(info, historyOn));
    raw
      .prepare('INSERT INTO crr_tables (name, columns) VALUES (?, ?) ON CONFLICT DO UPDATE SET columns = excluded.columns')
      .run(info.name, JSON.stringify([...info.pks, ...info.columns]));
  }

  function asCrr(table: string): void {
    inTx(() => {
      const info = checkCrrRules(db, table);
      const already = tables.has(table);
      installTable(info);
      raw.exec(backfillSql(info, historyOn));
      tables.set(table, info);
      if (!already) sealInside('local');
    });
    rebuildTemp();
    knownSchemaVersion = q.schemaVersion.get() as number;
  }

  function asTable(table: string): void {
    inTx(() => {
      raw.exec(dropLocalTriggersSql(raw, table));
      raw.exec(dropClockTablesSql(table) + dropHistoryTableSql(table));
      raw.prepare('DELETE FROM crr_tables WHERE name = ?').run(table);
      tables.delete(table);
    });
    rebuildTemp();
    knownSchemaVersion = q.schemaVersion.get() as number;
  }

  function beginAlter(table: string): void {
    if (!tables.has(table)) throw new Error(`crsql_begin_alter: "${table}" is not a CRR table`);
    inTx(() => raw.exec(dropLocalTriggersSql(raw, table)));
    // until crsql_commit_alter, schema changes are expected: do not repair behind the user's back
    altering.add(table);
    rebuildTemp();
  }

  function commitAlter(table: string): void {
    if (!tables.has(table)) throw new Error(`crsql_commit_alter: "${table}" is not a CRR table`);
    altering.delete(table);
    repairSchema();
  }

  /** Re-derive triggers and clocks for the tables' current shape; unchanged data keeps its versions. */
  function repairSchema(): void {
    inTx(() => {
      const names = raw.prepare('SELECT name FROM crr_tables').pluck().all() as string[];
      const next = new Map<string, TableInfo>();
      for (const name of names) {
        const exists = raw.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(name);
        if (!exists) {
          // dropped behind our back: forget its clocks
          raw.exec(dropClockTablesSql(name) + dropHistoryTableSql(name));
          raw.prepare('DELETE FROM crr_tables WHERE name = ?').run(name);
          continue;
        }
        const info = readTableInfo(db, name);
        const stored = JSON.parse(raw.prepare('SELECT columns FROM crr_tables WHERE name = ?').pluck().get(name) as string) as string[];
        const pkChanged = stored.slice(0, info.pks.length).join('\0') !== info.pks.join('\0');
        if (pkChanged) {
          // a new primary key makes old clocks meaningless: start the table's history again
          raw.exec(dropLocalTriggersSql(raw, name) + dropClockTablesSql(name) + dropHistoryTableSql(name));
          installTable(info);
          raw.exec(backfillSql(info, historyOn));
        } else {
          const before = stored.slice(info.pks.length);
          if (before.join('\0') !== info.columns.join('\0')) materializeImplied(name, before, info);
          // same number of columns with a name changed in place: a RENAME COLUMN, clocks follow it
          const renamed = before.length === info.columns.length;
          before.forEach((c, i) => {
            if (info.columns.includes(c)) return;
            if (renamed && !before.includes(info.columns[i])) {
              raw.prepare(`UPDATE ${cellsTable(name)} SET cid = ? WHERE cid = ?`).run(info.columns[i], c);
              raw.prepare(`UPDATE ${histTable(name)} SET cid = ? WHERE cid = ?`).run(info.columns[i], c);
            } else {
              raw.prepare(`DELETE FROM ${cellsTable(name)} WHERE cid = ?`).run(c);
              raw.prepare(`DELETE FROM ${histTable(name)} WHERE cid = ?`).run(c);
            }
          });
          installTable(info);
        }
        next.set(name, info);
      }
      tables = next;
    });
    rebuildTemp();
    knownSchemaVersion = q.schemaVersion.get() as number;
  }

  /**
   * Implied cell clocks are numbered by column position: before the columns change, turn them
   * into explicit clocks (under the old positions and names) so no clock moves or appears.
   */
  function materializeImplied(name: string, oldColumns: string[], info: TableInfo): void {
    if (oldColumns.length === 0) return;
    const pk = info.pks.map(quoteId);
    const slots = oldColumns.map((c, i) => `(${quoteText(c)}, ${i})`).join(', ');
    raw
      .prepare(
        `INSERT INTO ${cellsTable(name)} (${pk.join(', ')}, cid, col_version, db_version, seq, site, cl)
         SELECT ${pk.map((p) => `r.${p}`).join(', ')}, v.column1, 1, r.i_version, r.i_seq + v.column2, r.i_site, r.cl
         FROM ${rowsTable(name)} r CROSS JOIN (VALUES ${slots}) v WHERE r.i_cl = r.cl
         ON CONFLICT DO UPDATE SET col_version = 1, db_version = excluded.db_version, seq = excluded.seq,
           site = excluded.site, cl = excluded.cl WHERE cl <> excluded.cl`,
      )
      .run();
    raw.prepare(`UPDATE ${rowsTable(name)} SET i_cl = NULL, i_version = NULL, i_seq = NULL, i_site = NULL WHERE i_cl IS NOT NULL`).run();
  }

  function ensureSchemaCurrent(): void {
    if (altering.size > 0) return;
    const v = q.schemaVersion.get() as number;
    if (v !== knownSchemaVersion) {
      knownSchemaVersion = v;
      if (tables.size > 0 || (raw.prepare('SELECT count(*) FROM crr_tables').pluck().get() as number) > 0) repairSchema();
    }
  }

  // ---- reading and merging changes ----
  function readChanges(dbVersion: number, opts: ChangesSinceOptions): Change[] {
    ensureSchemaCurrent();
    sealOutside('outside');
    changesStmt ??= raw
      .prepare(
        `SELECT "table", pk, cid, val, col_version, db_version, site_id, cl, seq FROM crsql_changes
         WHERE db_version > ? AND site_id IS NOT ? ORDER BY db_version, seq, cid <> '-1' LIMIT ?`,
      )
      .safeIntegers(true);
    const rows = changesStmt.all(BigInt(dbVersion), opts.excludeSite ? Buffer.from(opts.excludeSite) : null, BigInt(opts.limit ?? -1));
    return (rows as Parameters<typeof toChange>[0][]).map(toChange);
  }

  const pager = createChangePager(raw.prepare);
  function readPage(cursor: ChangePageCursor, limit: number, exclude?: Uint8Array): ChangePage {
    ensureSchemaCurrent();
    sealOutside('outside');
    return pager.page(tables, cursor, limit, exclude);
  }

  function applyChanges(changes: Change[]): number {
    if (!Array.isArray(changes)) throw new TypeError('applyChanges expects an array of changes');
    ensureSchemaCurrent();
    const local = Math.max(committedVersion, q.committed.get() as number);
    const pks = changes.map((c, i) => validateChange(c, i, tables, local, maxJump(), altering));
    const before = mergesWon;
    const touched = new Set<string>();
    const hidBefore = new Map<string, number>();
    db.transaction(() => {
      changes.forEach((c, i) => {
        const table = tables.get(c.table)!;
        let stage = stageStmts.get(c.table);
        if (!stage) {
          const cols = table.pks.length + 7;
          stage = raw.prepare(`INSERT INTO ${incomingTable(c.table)} VALUES (${Array(cols).fill('?').join(', ')})`);
          stageStmts.set(c.table, stage);
        }
        stage.run(...pks[i].map(toSqlite), c.cid, toSqlite(c.val), c.col_version, c.db_version, Buffer.from(c.site_id), c.cl, c.seq);
        if (historyOn && !touched.has(c.table)) hidBefore.set(c.table, maxHid(c.table));
        touched.add(c.table);
      });
      for (const name of touched) {
        let program = programStmts.get(name);
        if (!program) {
          program = mergeProgram(tables.get(name)!, historyOn).map((sql) => raw.prepare(sql));
          programStmts.set(name, program);
        }
        for (const stmt of program) {
          if (stmt.reader) stmt.all();
          else stmt.run();
        }
      }
      // merged versions that changed nothing are still history (a conflict's losers)
      if (historyOn) history.noteChanged([...touched].filter((t) => maxHid(t) !== hidBefore.get(t)));
    })();
    return mergesWon - before;
  }

  const maxHidStmts = new Map<string, Statement>();
  function maxHid(table: string): number {
    let stmt = maxHidStmts.get(table);
    if (!stmt) {
      stmt = raw.prepare(`SELECT coalesce(max(hid), 0) FROM ${histTable(table)}`).pluck();
      maxHidStmts.set(table, stmt);
    }
    return stmt.get() as number;
  }

  // ---- outside writers ----
  function noticeChanges(): void {
    if (!closed && !db.open) stop();
    if (closed || db.inTransaction) return;
    try {
      ensureSchemaCurrent();
      const dv = q.dataVersion.get() as number;
      if (dv !== lastDataVersion) {
        lastDataVersion = dv;
        sealOutside('outside');
        committedVersion = q.committed.get() as number;
      }
    } catch (err) {
      // SQLITE_BUSY while another program writes: try again on the next tick
      if (!/busy|locked/i.test(String(err))) throw err;
    }
  }

  const history = createHistory({
    prepare: raw.prepare,
    transaction: (fn) => db.transaction(fn)(),
    tables: () => tables,
    siteId,
    refresh: () => {
      if (db.inTransaction) return;
      ensureSchemaCurrent();
      sealOutside('outside');
    },
  });

  /** the engine's end, also when the program closed the connection without engine.close() */
  function stop(): void {
    closed = true;
    if (timer) clearInterval(timer);
    listeners.clear();
    engines.delete(db);
  }

  const pollMs = options.pollMs ?? 250;
  const timer = pollMs > 0 ? setInterval(noticeChanges, pollMs) : null;
  timer?.unref();

  loadTables();
  rebuildTemp();
  repairSchema();
  sealOutside('outside');

  const engine: CrrEngine = {
    siteId,
    dbVersion: () => {
      noticeChanges();
      return committedVersion;
    },
    asCrr: (t) => {
      asCrr(t);
      flushEvents();
    },
    asTable,
    isCrr: (t) => tables.has(t),
    crrTables: () => [...tables.keys()],
    changesSince: (v, o = {}) => readChanges(v, o),
    changesPage: (c, limit, o = {}) => readPage(c, limit, o.excludeSite),
    applyChanges,
    history: history.api,
    onCommit: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    noticeChanges,
    compactClocks: () => {
      let removed = 0;
      inTx(() => {
        for (const info of tables.values()) {
          const pk = info.pks.map(quoteId);
          const match = pk.map((p) => `r.${p} = c.${p}`).join(' AND ');
          removed += raw
            .prepare(
              `DELETE FROM ${cellsTable(info.name)} AS c WHERE NOT EXISTS
                 (SELECT 1 FROM ${rowsTable(info.name)} r WHERE ${match} AND r.cl = c.cl)`,
            )
            .run().changes;
        }
      });
      return removed;
    },
    close: stop,
  };
  engines.set(db, engine);
  return engine;
}

function toSqlite(v: SqlValue): unknown {
  return v instanceof Uint8Array ? Buffer.from(v) : v;
}

