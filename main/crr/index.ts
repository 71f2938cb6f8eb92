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
import { packPart, packPrimaryKey, unpackPrimaryKey } from './pack-pk.ts';
import { type TableInfo } from './table-info.ts';
import { META_SQL, STORAGE_FORMAT, deadTable, rowsTable, versionsTable } from './clock-tables.ts';
import { changesViewSql, MERGE_NOW_END, mergeNowSql } from './changes-view.ts';
import { ensureLocalSiteId } from './site-id.ts';
import { createChangePager, fromSqlite, toChange } from './change-pages.ts';
import { historyViewsSql } from './history-sql.ts';
import { createHistory } from './history.ts';
import { notifyAll } from './notify.ts';
import { DEFAULT_MAX_VERSION_JUMP, validateChange } from './input-limits.ts';
import { createApplier, tableMergeSql } from './apply.ts';
import { createChangesInsert, insertFields } from './changes-insert.ts';
import { createSchemaKeeper } from './schema-repair.ts';
import { migrateFromFormat1, needsFormat1Migration } from './migrate-v1.ts';
import { createSchemaLog, SCHEMA_LOG_SQL } from './schema-log.ts';
import { mayAlter } from './ddl-statements.ts';
import { createPolicyColumns, policyBranches, policyCommitSitesSql } from './policy-columns.ts';

export type {
  Change, ChangePage, ChangePageCursor, CommitEvent, CrrEngine, CrrOptions, CellVersion, Conflict, MergePolicy, PolicyEntry, VersionRef,
  CrrSchemaLog, SchemaEntry, SchemaRecord, SchemaSummary, SchemaChangeKind,
} from './types.ts';
export { CrrRefusal } from './table-info.ts';
export { ChangeRefused, MAX_CLOCK } from './input-limits.ts';
export { packPrimaryKey, unpackPrimaryKey } from './pack-pk.ts';

const engines = new WeakMap<Database.Database, CrrEngine>();

type Statement = Database.Statement;
type Marker = { db_version: number; max_version: number; changed: number };
type AdminTask = () => void;

const TX_CONTROL = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;
/** an INSERT INTO crsql_changes: what it stages waits for the next statement of another kind */
const STAGES = /^\s*INSERT\s+(OR\s+\w+\s+)?INTO\s+(temp\s*\.\s*)?"?crsql_changes"?[\s(]/i;
const COMMIT = /^\s*(COMMIT|END)\b/i;
const ROLLBACK = /^\s*ROLLBACK\s*(TRANSACTION\s*)?;?\s*$/i;
/** a statement that may change the schema: the engine re-derives before its commit (schema-repair.ts) */
const DDL = /\b(CREATE|DROP|ALTER)\b/i;
/** versions stamped since the last prune after which the cells they touched are pruned */
const PRUNE_EVERY = 50_000;

export function installCrr(db: Database.Database, options: CrrOptions = {}): CrrEngine {
  const existing = engines.get(db);
  if (existing) return existing;

  const raw = {
    prepare: db.prepare.bind(db),
    exec: db.exec.bind(db),
    transaction: db.transaction.bind(db),
  };
  raw.transaction(() => {
    const upgrade = needsFormat1Migration(raw);
    raw.exec(META_SQL);
    raw.exec(SCHEMA_LOG_SQL);
    if (upgrade) migrateFromFormat1(raw);
    raw.prepare(`INSERT OR IGNORE INTO crr_state (key, value) VALUES ('storage_format', ?)`).run(STORAGE_FORMAT);
  }).immediate();
  const siteId = ensureLocalSiteId(db, options.siteId);
  // cell history (history.ts): superseded versions are kept when on
  if (options.history !== undefined) raw.prepare(`UPDATE crr_state SET value = ? WHERE key = 'history'`).run(options.history ? 1 : 0);
  const historyOn = Number(raw.prepare(`SELECT value FROM crr_state WHERE key = 'history'`).pluck().get()) === 1;
  if (options.maxVersionJump !== undefined) {
    if (!Number.isSafeInteger(options.maxVersionJump) || options.maxVersionJump < 1) throw new RangeError('maxVersionJump must be a positive integer');
    raw.prepare(`INSERT INTO crr_state (key, value) VALUES ('max_version_jump', ?) ON CONFLICT DO UPDATE SET value = excluded.value`).run(options.maxVersionJump);
  }
  const maxJumpStmt = raw.prepare(`SELECT value FROM crr_state WHERE key = 'max_version_jump'`).pluck().safeIntegers(false);
  const maxJump = () => (maxJumpStmt.get() as number | undefined) ?? DEFAULT_MAX_VERSION_JUMP;
  const listeners = new Set<(e: CommitEvent) => void>();
  let mergeSeen = false;
  let pendingCommits: { marker: Marker; origin: CommitEvent['origin'] }[] = [];
  const admin: AdminTask[] = [];
  let closed = false;

  const q = {
    marker: raw.prepare('SELECT db_version, max_version, changed FROM crr_tx WHERE id = 1').safeIntegers(false),
    publish: raw.prepare(`UPDATE crr_state SET value = ? WHERE key = 'db_version'`),
    publishCurrent: raw.prepare(`UPDATE crr_state SET value = ? WHERE key = 'crsql_db_version'`),
    time: raw.prepare('INSERT OR REPLACE INTO crr_times (db_version, at) VALUES (?, ?)'),
    clearMarker: raw.prepare('DELETE FROM crr_tx'),
    committed: raw.prepare(`SELECT value FROM crr_state WHERE key = 'db_version'`).pluck().safeIntegers(false),
    current: raw.prepare(`SELECT value FROM crr_state WHERE key = 'crsql_db_version'`).pluck().safeIntegers(false),
    dataVersion: raw.prepare('PRAGMA data_version').pluck().safeIntegers(false),
    // IMMEDIATE, like inTx: a write statement wrapped here may read (the marker) before it writes
    begin: raw.prepare('BEGIN IMMEDIATE'),
    commit: raw.prepare('COMMIT'),
    rollback: raw.prepare('ROLLBACK'),
  };
  /** the last db_version stamped (this replica's Lamport clock, what sync pages up to) */
  let committedVersion = q.committed.get() as number;
  /** the last one that changed a current value: crsql_db_version() */
  let currentVersion = q.current.get() as number;
  let lastDataVersion = q.dataVersion.get() as number;
  let changesStmt: Statement | null = null;
  const commitSitesStmts = new Map<string, Statement>();
  /** tables whose crsql_changes INSERTs wait to be merged at the end of the statement */
  const staged = new Set<string>();
  const boundStmt = raw
    .prepare(
      `SELECT (SELECT value FROM crr_state WHERE key = 'db_version') +
         coalesce((SELECT value FROM crr_state WHERE key = 'max_version_jump'), ${DEFAULT_MAX_VERSION_JUMP})`,
    )
    .pluck()
    .safeIntegers(false);
  // prepared INSERT INTO crsql_changes runs, kept in JS and staged as applyChanges stages a page
  const sqlInsert = createChangesInsert({
    tables: () => schema.tables(),
    altering: (t) => schema.altering.has(t),
    bound: () => {
      const b = boundStmt.get();
      return typeof b === 'number' ? b : null;
    },
    stage: (changes, keys) => applier.stageAsSql(changes, keys),
    staged: (t) => staged.add(t),
    inTransaction: () => db.inTransaction,
  });
  /** a rollback: nothing staged, in SQL or in JS, may merge later */
  const dropStaged = () => {
    staged.clear();
    sqlInsert.drop();
    applier.dropStaged();
  };
  /** inside db.exec: crsql_changes INSERTs merge row by row (no statement end is seen in between) */
  let execDepth = 0;
  /** the merge-now trigger that db.exec sets up around SQL inserting into crsql_changes (changes-view.ts) */
  let execMerge: string | null = null;
  let mergeNowOn = false;

  // ---- SQL functions (pure: they never touch the database) ----
  db.function('crsql_site_id', { deterministic: false }, () => Buffer.from(siteId));
  // bigint: SQLite gets an INTEGER, as from cr-sqlite (a JS number would be a REAL)
  db.function('crsql_db_version', { deterministic: false }, () => BigInt(currentVersion));
  db.function('crsql_next_db_version', { deterministic: false }, () => BigInt(committedVersion + 1));
  db.function('crr_pack_pk', { varargs: true, deterministic: true, safeIntegers: true }, (...values: unknown[]) =>
    Buffer.from(packPrimaryKey(values.map(fromSqlite))),
  );
  db.function('crr_pack_part', { deterministic: true, safeIntegers: true }, (value: unknown) => Buffer.from(packPart(fromSqlite(value))));
  // the last key unpacked: a row's cells come one after another, each unpacking the same key
  let lastPk: Buffer | null = null;
  let lastValues: SqlValue[] = [];
  db.function('crr_unpack_pk', { deterministic: true, safeIntegers: true }, (pk: unknown, index: unknown, count: unknown) => {
    if (!(pk instanceof Uint8Array)) throw new TypeError('crsql_changes: pk must be a blob (packed primary key)');
    if (!lastPk || !lastPk.equals(pk)) {
      lastValues = unpackPrimaryKey(pk);
      lastPk = Buffer.isBuffer(pk) ? pk : Buffer.from(pk);
    }
    const values = lastValues;
    if (values.length !== Number(count)) {
      throw new TypeError(`crsql_changes: pk has ${values.length} columns, the table has ${count}`);
    }
    if (values[Number(index)] === null) throw new TypeError('crsql_changes: a primary key value is NULL');
    return toSqlite(values[Number(index)]);
  });
  let mergesWon = 0;
  const grewHistory = new Set<string>();
  db.function('crr_note_merge', { safeIntegers: false }, (won: unknown, added: unknown, table: unknown) => {
    mergeSeen = true;
    mergesWon += Number(won);
    if (Number(added) > 0) grewHistory.add(String(table));
    return null;
  });
  // (inside db.exec the merge-now trigger merges the row at once: the batch merged after it is empty,
  // unless a ROLLBACK in the script took that trigger away)
  db.function('crr_staged', { deterministic: false }, (table: unknown) => {
    staged.add(String(table));
    return null;
  });
  // Schema changes cannot run while a statement executes: queue them for right after it.
  const queueAdmin = (name: string, task: (table: string) => void) =>
    db.function(name, { deterministic: false }, (table: unknown) => {
      if (typeof table !== 'string') throw new TypeError(`${name} expects a table name`);
      admin.push(() => task(table));
      return 'OK';
    });
  queueAdmin('crsql_as_crr', (t) => schema.asCrr(t));
  queueAdmin('crsql_as_table', (t) => schema.asTable(t));
  queueAdmin('crsql_begin_alter', (t) => schema.beginAlter(t));
  queueAdmin('crsql_commit_alter', (t) => schema.commitAlter(t));

  // ---- transactions and sealing ----
  function inTx<T>(fn: () => T): T {
    // IMMEDIATE: a deferred transaction that reads, then writes, fails at once with SQLITE_BUSY
    // (no busy wait) when another program committed in between, which outside writers do
    return raw.transaction(fn).immediate();
  }

  /** Publish the marker's version as committed; runs inside the transaction about to commit. */
  function sealInside(origin: CommitEvent['origin']): void {
    let m = q.marker.get() as Marker | undefined;
    if (!m) return;
    // counter and text columns: their local writes are settled and diffed first (policy-columns.ts)
    if (policy.beforeSeal(m.db_version)) m = q.marker.get() as Marker;
    // bigint: stored as INTEGER
    q.publish.run(BigInt(m.max_version));
    if (m.changed) q.publishCurrent.run(BigInt(m.max_version));
    q.time.run(BigInt(m.max_version), Date.now());
    q.clearMarker.run();
    pendingCommits.push({ marker: m, origin: mergeSeen ? 'merge' : origin });
    mergeSeen = false;
  }

  function describeCommit(m: Marker, origin: CommitEvent['origin']): CommitEvent {
    const changed: string[] = [];
    const sites = new Map<string, Uint8Array>();
    for (const info of schema.tables().values()) {
      let stmt = commitSitesStmts.get(info.name);
      if (!stmt) {
        // (and counter contributions, text states: policy-columns.ts)
        const V = info.columns.length ? `SELECT site FROM ${versionsTable(info.name)} WHERE db_version BETWEEN @a AND @b UNION ${policyCommitSitesSql(info)}` : '';
        stmt = raw
          .prepare(
            `SELECT DISTINCT s.site_id FROM (${V}SELECT s_site AS site FROM ${rowsTable(info.name)} WHERE s_version BETWEEN @a AND @b
               UNION SELECT i_site FROM ${rowsTable(info.name)} WHERE i_version BETWEEN @a AND @b
               UNION SELECT site FROM ${deadTable(info.name)} WHERE db_version BETWEEN @a AND @b) x
             JOIN crr_sites s ON s.ord = x.site`,
          )
          .pluck();
        commitSitesStmts.set(info.name, stmt);
      }
      const siteRows = stmt.all({ a: m.db_version, b: m.max_version }) as Buffer[];
      if (siteRows.length) changed.push(info.name);
      for (const s of siteRows) sites.set(s.toString('hex'), new Uint8Array(s));
    }
    return { tables: changed, fromDbVersion: m.db_version, toDbVersion: m.max_version, sites: [...sites.values()], origin };
  }

  let flushing = false;
  /** After a commit: publish its version and tell the listeners (described only if someone listens). */
  function flushEvents(): void {
    if (db.inTransaction || flushing) return;
    flushing = true;
    try {
      if (grewHistory.size) history.noteChanged([...grewHistory]);
      grewHistory.clear();
      const commits = pendingCommits;
      pendingCommits = [];
      for (const c of commits) {
        committedVersion = Math.max(committedVersion, c.marker.max_version);
        if (c.marker.changed) currentVersion = Math.max(currentVersion, c.marker.max_version);
      }
      // history listeners after the version is published: sync sends a policy change only after
      // the changes committed with it (a counter's switch counts every row: policy-columns.ts)
      history.flush();
      // the schema log's listeners before onCommit: sync sends a peer schema entries before the changes that need them
      schemaLog.flush();
      if (commits.length === 0) return;
      maybePrune();
      if (listeners.size === 0) return;
      for (const e of commits.map((c) => describeCommit(c.marker, c.origin))) {
        if (e.tables.length) notifyAll(listeners, e, 'onCommit');
      }
    } finally {
      flushing = false;
      // what the listeners above changed in the log (a retried entry applied) is told too
      schemaLog.flush();
    }
  }

  // ---- retention as the history grows: prune the cells touched since the last prune ----
  // Versions are counted as their commits come (each commit counts only its own versions: counting
  // everything since the last prune made every small commit cost more, up to 0.5 ms each)
  let prunedThrough = committedVersion;
  let countedThrough = committedVersion;
  let addedSincePrune = 0;
  const versionsIn = new Map<string, Statement>();
  function maybePrune(): void {
    if (!historyOn || committedVersion <= countedThrough) return;
    for (const info of schema.tables().values()) {
      if (!info.columns.length) continue;
      let s = versionsIn.get(info.name);
      if (!s) versionsIn.set(info.name, (s = raw.prepare(`SELECT count(*) FROM ${versionsTable(info.name)} WHERE db_version > ? AND db_version <= ?`).pluck()));
      addedSincePrune += s.get(countedThrough, committedVersion) as number;
    }
    countedThrough = committedVersion;
    if (addedSincePrune < PRUNE_EVERY) return;
    const since = prunedThrough;
    prunedThrough = committedVersion;
    addedSincePrune = 0;
    history.prune(history.retention(), since);
  }

  function runAdmin(): void {
    while (admin.length) admin.shift()!();
  }

  /** Merges what INSERT INTO crsql_changes staged during the statement that just ended. */
  function mergeStaged(): void {
    sqlInsert.end();
    if (staged.size === 0) return;
    const tables = [...staged];
    staged.clear();
    // counter and text cells: local edits first, then what the merge left counts here (policy-columns.ts)
    const merge = () => {
      policy.beforeMerge();
      const cells = policy.stagedCells(tables);
      applier.mergeStaged(tables);
      policy.adopt(cells);
    };
    if (db.inTransaction) merge();
    else inTx(merge);
  }

  /**
   * Runs `fn` (one statement) so that, if it commits on its own, the seal commits with it.
   * Changes staged by INSERT INTO crsql_changes statements are merged as one batch before the
   * next statement that is not one (it might read the tables), or before the commit.
   */
  function runStatement<T>(readonly: boolean, sql: string, fn: () => T, stagedInJs = false): T {
    if (closed) return fn();
    // (a statement that is not one of those kept in JS ends their batch: changes-insert.ts)
    if (!stagedInJs) sqlInsert.end();
    const staging = STAGES.test(sql);
    // (a ROLLBACK drops what was staged with the rest)
    if (!staging && !ROLLBACK.test(sql)) mergeStaged();
    if (!readonly && !db.inTransaction && !TX_CONTROL.test(sql)) {
      schema.ensureCurrent();
      q.begin.run();
      let result: T;
      try {
        result = fn();
        mergeStaged();
        runAdmin();
        if (DDL.test(sql)) schema.ensureCurrent(); // a schema change is re-derived before it commits
        sealInside('local');
        q.commit.run();
      } catch (err) {
        admin.length = 0;
        dropStaged();
        if (db.inTransaction) q.rollback.run();
        pendingCommits = [];
        mergeSeen = false;
        afterRollback();
        throw err;
      }
      flushEvents();
      return result;
    }
    if (db.inTransaction && COMMIT.test(sql)) {
      schema.ensureCurrent(); // a schema change is re-derived before it commits
      sealInside('local');
    }
    let result: T;
    try {
      result = fn();
      if (!db.inTransaction) mergeStaged();
    } catch (err) {
      if (!db.inTransaction) dropStaged();
      throw err;
    }
    if (!db.inTransaction) {
      dropStaged();
      runAdmin();
      if (!readonly) {
        schema.ensureCurrent();
        sealOutside('local');
      }
      flushEvents();
    }
    return result;
  }

  /** The engine's tables may be those of a rolled-back schema change: back to the file's. */
  function afterRollback(): void {
    try {
      if (!db.inTransaction) schema.ensureCurrent();
    } catch {
      // busy: the next statement, read or poll checks again
    }
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
    // ALTER TABLE on a CRR table: tracking re-derived within the statement (schema-repair.ts guardAlter)
    const alters = !readonly && mayAlter(sql);
    const s = stmt as unknown as Record<string, (...a: unknown[]) => unknown>;
    const ownRun = s.run.bind(stmt);
    for (const m of ['run', 'get', 'all'] as const) {
      const orig = s[m].bind(stmt);
      s[m] = alters
        ? (...args: unknown[]) => runStatement(readonly, sql, () => schema.guardAlter(sql, () => orig(...args)))
        : (...args: unknown[]) => runStatement(readonly, sql, () => orig(...args));
    }
    const fields = insertFields(sql);
    if (fields) {
      const kept = sqlInsert.wrap(fields, ownRun);
      s.run = (...args: unknown[]) => {
        if (!closed) {
          const r = kept.take(args);
          if (r !== undefined) return r;
        }
        return runStatement(false, sql, () => kept.run(args), true);
      };
    }
    const iterate = s.iterate.bind(stmt);
    s.iterate = function* (...args: unknown[]) {
      mergeStaged();
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
    runStatement(false, /\b(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i.test(sql) ? 'BEGIN' : sql, () => {
      const mergeNow = execDepth === 0 && execMerge !== null && /crsql_changes/i.test(sql);
      if (mergeNow) {
        raw.exec(execMerge!);
        mergeNowOn = true;
      }
      execDepth++;
      try {
        schema.execGuarded(sql, raw.exec); // its ALTER TABLEs on CRR tables one by one (schema-repair.ts)
      } finally {
        execDepth--;
        if (mergeNow) {
          mergeNowOn = false;
          try {
            raw.exec(MERGE_NOW_END);
          } catch {
            // (a failed script's error is the one to see; a trigger left behind only merges row by row)
          }
        }
      }
    });
    return db;
  }) as typeof db.exec;
  db.transaction = ((fn: (...a: unknown[]) => unknown) => {
    const wrapped = raw.transaction(function (this: unknown, ...args: unknown[]) {
      const outer = !nested;
      nested = true;
      try {
        if (outer) schema.ensureCurrent();
        const r = fn.apply(this, args);
        if (outer) {
          mergeStaged();
          runAdmin();
          schema.ensureCurrent(); // a schema change is re-derived before it commits
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
            // rolled back: nothing it queued or staged may run later
            pendingCommits = [];
            mergeSeen = false;
            dropStaged();
            admin.length = 0;
            afterRollback();
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
  function rebuildTemp(tables: Map<string, TableInfo>): void {
    // a table between crsql_begin_alter and crsql_commit_alter is left out until it is re-derived
    const current = [...tables.values()].filter((t) => !schema.altering.has(t.name));
    raw.exec(changesViewSql(current));
    execMerge = mergeNowSql(current, current.flatMap((t) => tableMergeSql(t, historyOn)));
    // (re-derived inside a db.exec that inserts into crsql_changes: it goes on merging row by row)
    if (mergeNowOn && execMerge) raw.exec(execMerge);
    // the history views live in the file (for any SQLite tool): rewrite them only when they change
    for (const create of historyViewsSql(current)) {
      const name = /^CREATE VIEW (\w+)/.exec(create)![1];
      if (raw.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'view' AND name = ?`).pluck().get(name) === create) continue;
      try {
        // in one transaction: another engine on the file (another process) may rewrite it at the same moment
        inTx(() => {
          if (raw.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'view' AND name = ?`).pluck().get(name) !== create) raw.exec(`DROP VIEW IF EXISTS ${name}; ${create}`);
        });
      } catch (err) {
        if (!/readonly|read-only|locked|busy/i.test(String(err))) throw err;
      }
    }
    changesStmt = null;
    commitSitesStmts.clear();
    versionsIn.clear();
    applier.reset();
  }

  const schema = createSchemaKeeper({
    db,
    prepare: raw.prepare,
    exec: (sql) => raw.exec(sql),
    inTx,
    history: historyOn,
    version: () => Math.max(committedVersion, q.committed.get() as number),
    seal: () => sealInside('local'),
    changed: (tables) => rebuildTemp(tables),
    record: (events) => schemaLog.record(events),
    flush: () => {
      schemaLog.schemaChanged();
      flushEvents();
    },
  });

  const schemaLog = createSchemaLog({
    db,
    prepare: raw.prepare,
    transaction: (fn) => db.transaction(fn)(),
    inTx,
    siteId,
    tables: () => schema.tables(),
    ensureCurrent: () => schema.ensureCurrent(),
    apply: schema.peerApply,
    version: () => Math.max(committedVersion, q.committed.get() as number),
  });

  const applier = createApplier({ prepare: raw.prepare, tables: () => schema.tables(), history: () => historyOn });
  const policy = createPolicyColumns({ prepare: raw.prepare, tables: () => schema.tables(), siteId, history: historyOn });

  // ---- reading and merging changes ----
  function readChanges(dbVersion: number, opts: ChangesSinceOptions): Change[] {
    mergeStaged();
    schema.ensureCurrent();
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

  const pager = createChangePager(raw.prepare, policyBranches);
  function readPage(cursor: ChangePageCursor, limit: number, exclude?: Uint8Array): ChangePage {
    mergeStaged();
    schema.ensureCurrent();
    sealOutside('outside');
    return pager.page(schema.tables(), cursor, limit, exclude);
  }

  function applyChanges(changes: Change[]): number {
    if (!Array.isArray(changes)) throw new TypeError('applyChanges expects an array of changes');
    schema.ensureCurrent();
    mergeStaged();
    const local = Math.max(committedVersion, q.committed.get() as number);
    const decoded = new Map<Uint8Array, SqlValue[]>();
    // read once per batch: a statement per change cost 3 µs a change, a third of a merge's time
    const tables = schema.tables();
    const jump = maxJump();
    const pks = changes.map((c, i) => validateChange(c, i, tables, local, jump, schema.altering, decoded));
    // counter contributions and text states are merged apart from cell versions (policy-columns.ts)
    const extra: { change: Change; pk: SqlValue[] }[] = [];
    const plain: { change: Change; pk: SqlValue[] }[] = [];
    changes.forEach((c, i) => {
      if (policy.isExtra(c)) policy.validate(c, i);
      (policy.isExtra(c) ? extra : plain).push({ change: c, pk: pks[i] });
    });
    const before = mergesWon;
    db.transaction(() => {
      policy.beforeMerge();
      applier.apply(plain.map((x) => x.change), plain.map((x) => x.pk));
      policy.merge(extra, plain);
    })();
    return mergesWon - before;
  }

  // ---- outside writers ----
  function noticeChanges(): void {
    if (!closed && !db.open) stop();
    if (closed || db.inTransaction) return;
    try {
      schema.ensureCurrent();
      const dv = q.dataVersion.get() as number;
      if (dv !== lastDataVersion) {
        lastDataVersion = dv;
        sealOutside('outside');
        committedVersion = q.committed.get() as number;
        currentVersion = q.current.get() as number;
      }
    } catch (err) {
      // SQLITE_BUSY while another program writes: try again on the next tick
      if (!/busy|locked/i.test(String(err))) throw err;
    }
  }

  const history = createHistory({
    prepare: raw.prepare,
    transaction: (fn) => db.transaction(fn)(),
    tables: () => schema.tables(),
    siteId,
    policy,
    route: (t, c) => schemaLog.api.route(t, c),
    refresh: () => {
      mergeStaged();
      if (db.inTransaction) return;
      schema.ensureCurrent();
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

  schema.load();
  rebuildTemp(schema.tables());
  schema.repair();
  sealOutside('outside');

  const engine: CrrEngine = {
    siteId,
    dbVersion: () => {
      noticeChanges();
      return committedVersion;
    },
    asCrr: (t, o) => {
      if (o?.fromPeer) schema.peerApply.asCrr(t);
      else schema.asCrr(t);
      flushEvents();
    },
    asTable: (t) => schema.asTable(t),
    isCrr: (t) => schema.tables().has(t),
    crrTables: () => [...schema.tables().keys()],
    changesSince: (v, o = {}) => readChanges(v, o),
    changesPage: (c, limit, o = {}) => readPage(c, limit, o.excludeSite),
    applyChanges,
    history: history.api,
    schemaLog: schemaLog.api,
    onCommit: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    noticeChanges,
    close: stop,
  };
  engines.set(db, engine);
  return engine;
}

function toSqlite(v: SqlValue): unknown {
  return v instanceof Uint8Array ? Buffer.from(v) : v;
}
