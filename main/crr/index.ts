// installCrr: cr-sqlite's SQL surface on a better-sqlite3 connection: the engine's parts wired
// together, and its API (CrrEngine).
//
// Versions: local-write triggers (pure SQL, in the file) stamp every change with the db_version
// of a marker row (crr_tx) that the first tracked write of a transaction opens. The engine
// "seals" the marker, i.e. publishes its version as committed and removes it, inside the
// transaction right before it commits whenever it can see the commit coming (db.transaction,
// an explicit COMMIT, or a single write statement, which it wraps in BEGIN/COMMIT:
// statement-bracket.ts), and on its data_version poll for commits made by other programs
// (commits.ts). See README.md.
import type Database from 'better-sqlite3';
import type { Change, ChangePage, ChangePageCursor, ChangesSinceOptions, CrrEngine, CrrOptions } from './types.ts';
import type { SqlValue } from '../../shared/values.ts';
import { type TableInfo } from './table-info.ts';
import { META_SQL, STORAGE_FORMAT } from './clock-tables.ts';
import { changesViewSql, mergeNowSql } from './changes-view.ts';
import { ensureLocalSiteId } from './site-id.ts';
import { createChangePager, toChange } from './change-pages.ts';
import { historyViewsSql } from './history-sql.ts';
import { createHistory } from './history.ts';
import { DEFAULT_MAX_VERSION_JUMP, validateChange } from './input-limits.ts';
import { createApplier, tableMergeSql } from './apply.ts';
import { createChangesInsert } from './changes-insert.ts';
import { createSchemaKeeper } from './schema-repair.ts';
import { migrateFromFormat1, needsFormat1Migration } from './migrate-v1.ts';
import { dropFormat2Clock, migrateFromFormat2, needsFormat2Migration } from './migrate-v2.ts';
import { createSchemaLog, SCHEMA_LOG_SQL } from './schema-log.ts';
import { createPolicyColumns, policyBranches } from './policy-columns.ts';
import { createCommits } from './commits.ts';
import { installStatementBracket } from './statement-bracket.ts';
import { registerSqlFunctions } from './sql-functions.ts';
import { CLOCK_SQL } from './clock-sql.ts';

export type {
  Change, ChangePage, ChangePageCursor, CommitEvent, CrrEngine, CrrOptions, CellVersion, Conflict, MergePolicy, PolicyEntry, VersionRef,
  CrrSchemaLog, SchemaEntry, SchemaRecord, SchemaSummary, SchemaChangeKind,
} from './types.ts';
export { CrrRefusal } from './table-info.ts';
export { ChangeRefused, MAX_CLOCK } from './input-limits.ts';
export { packPrimaryKey, unpackPrimaryKey, sameBytes, sameSite } from './pack-pk.ts';

const engines = new WeakMap<Database.Database, CrrEngine>();

/**
 * A file a later release wrote in a storage format this one does not know would be misread (and
 * written wrongly): refused before anything is changed.
 */
function refuseNewerFormat(raw: { prepare: (sql: string) => Database.Statement }): void {
  if (!raw.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'crr_state'`).get()) return;
  const format = Number(raw.prepare(`SELECT value FROM crr_state WHERE key = 'storage_format'`).pluck().get() ?? 0);
  if (format > STORAGE_FORMAT) {
    throw new Error(
      `this file was written by a newer release of the engine (storage format ${format}; this release reads formats up to ${STORAGE_FORMAT}). Nothing was changed: open it with the newer release.`,
    );
  }
}

type Statement = Database.Statement;

export function installCrr(db: Database.Database, options: CrrOptions = {}): CrrEngine {
  const existing = engines.get(db);
  if (existing) return existing;

  const raw = {
    prepare: db.prepare.bind(db),
    exec: db.exec.bind(db),
    transaction: db.transaction.bind(db),
  };
  raw.transaction(() => {
    refuseNewerFormat(raw);
    const upgrade = needsFormat1Migration(raw);
    const clockInState = upgrade || needsFormat2Migration(raw);
    raw.exec(META_SQL);
    raw.exec(SCHEMA_LOG_SQL);
    if (upgrade) migrateFromFormat1(raw);
    if (clockInState) migrateFromFormat2(raw);
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
  let closed = false;
  const dataVersionStmt = raw.prepare('PRAGMA data_version').pluck().safeIntegers(false);
  let lastDataVersion = dataVersionStmt.get() as number;
  let changesStmt: Statement | null = null;

  function inTx<T>(fn: () => T): T {
    // IMMEDIATE: a deferred transaction that reads, then writes, fails at once with SQLITE_BUSY
    // (no busy wait) when another program committed in between, which outside writers do
    return raw.transaction(fn).immediate();
  }

  // sealing, publishing and telling the listeners (commits.ts)
  const commits = createCommits({
    db,
    prepare: raw.prepare,
    inTx,
    historyOn,
    tables: () => schema.tables(),
    beforeSeal: (v) => policy.beforeSeal(v),
    history: () => history,
    schemaLog: () => schemaLog,
  });

  /** tables whose crsql_changes INSERTs wait to be merged at the end of the statement */
  const staged = new Set<string>();
  const boundStmt = raw
    .prepare(
      `SELECT ${CLOCK_SQL} +
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
  /** the merge-now trigger that db.exec sets up around SQL inserting into crsql_changes (changes-view.ts) */
  let execMerge: string | null = null;

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

  // ---- wrap the connection so the engine sees statements end and commits coming ----
  const bracket = installStatementBracket(db, {
    raw,
    closed: () => closed,
    schema: () => schema,
    commits,
    kept: sqlInsert,
    mergeStaged,
    dropStaged,
    execMerge: () => execMerge,
  });

  registerSqlFunctions(db, {
    siteId,
    currentVersion: commits.current,
    committedVersion: commits.committed,
    noteMerge: commits.noteMerge,
    staged: (t) => staged.add(t),
    queueAdmin: bracket.queueAdmin,
    admin: {
      crsql_as_crr: (t) => schema.asCrr(t),
      crsql_as_table: (t) => schema.asTable(t),
      crsql_begin_alter: (t) => schema.beginAlter(t),
      crsql_commit_alter: (t) => schema.commitAlter(t),
    },
  });

  // ---- CRR tables ----
  function rebuildTemp(tables: Map<string, TableInfo>): void {
    // a table between crsql_begin_alter and crsql_commit_alter is left out until it is re-derived
    const current = [...tables.values()].filter((t) => !schema.altering.has(t.name));
    raw.exec(changesViewSql(current));
    execMerge = mergeNowSql(current, current.flatMap((t) => tableMergeSql(t, historyOn)));
    // (re-derived inside a db.exec that inserts into crsql_changes: it goes on merging row by row)
    if (bracket.mergeNowOn() && execMerge) raw.exec(execMerge);
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
    commits.reset();
    applier.reset();
  }

  const schema = createSchemaKeeper({
    db,
    prepare: raw.prepare,
    exec: (sql) => raw.exec(sql),
    inTx,
    history: historyOn,
    version: () => commits.latest(),
    seal: () => commits.sealInside('local'),
    changed: (tables) => rebuildTemp(tables),
    record: (events) => schemaLog.record(events),
    flush: () => {
      schemaLog.schemaChanged();
      commits.flush();
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
    version: () => commits.latest(),
  });

  const applier = createApplier({ prepare: raw.prepare, tables: () => schema.tables(), history: () => historyOn });
  const policy = createPolicyColumns({ prepare: raw.prepare, tables: () => schema.tables(), siteId, history: historyOn });

  // ---- reading and merging changes ----
  function readChanges(dbVersion: number, opts: ChangesSinceOptions): Change[] {
    mergeStaged();
    schema.ensureCurrent();
    commits.sealOutside('outside');
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
    commits.sealOutside('outside');
    return pager.page(schema.tables(), cursor, limit, exclude);
  }

  function applyChanges(changes: Change[]): number {
    if (!Array.isArray(changes)) throw new TypeError('applyChanges expects an array of changes');
    schema.ensureCurrent();
    mergeStaged();
    const local = commits.latest();
    const decoded = new Map<Uint8Array, SqlValue[]>();
    // read once per batch: a statement per change cost 3 µs a change, a third of a merge's time
    const tables = schema.tables();
    const jump = maxJump();
    const pks = changes.map((c, i) => validateChange(c, i, tables, local, jump, schema.altering, decoded));
    // counter contributions and text states are merged apart from cell versions (policy-columns.ts);
    // a batch without any (most) is passed on as it is: no pair and no copy per change
    const extra: { change: Change; pk: SqlValue[] }[] = [];
    for (let i = 0; i < changes.length; i++) {
      if (!policy.isExtra(changes[i])) continue;
      policy.validate(changes[i], i);
      extra.push({ change: changes[i], pk: pks[i] });
    }
    const plain = extra.length ? changes.filter((c) => !policy.isExtra(c)) : changes;
    const plainPks = extra.length ? pks.filter((_, i) => !policy.isExtra(changes[i])) : pks;
    const before = commits.mergesWon();
    db.transaction(() => {
      policy.beforeMerge();
      applier.apply(plain, plainPks);
      policy.merge(extra, plain, plainPks);
    })();
    return commits.mergesWon() - before;
  }

  // ---- outside writers ----
  function noticeChanges(): void {
    if (!closed && !db.open) stop();
    if (closed || db.inTransaction) return;
    try {
      schema.ensureCurrent();
      const dv = dataVersionStmt.get() as number;
      if (dv !== lastDataVersion) {
        lastDataVersion = dv;
        commits.sealOutside('outside');
        commits.reload();
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
      commits.sealOutside('outside');
    },
  });

  /** the engine's end, also when the program closed the connection without engine.close() */
  function stop(): void {
    closed = true;
    if (timer) clearInterval(timer);
    commits.listeners.clear();
    engines.delete(db);
  }

  const pollMs = options.pollMs ?? 250;
  const timer = pollMs > 0 ? setInterval(noticeChanges, pollMs) : null;
  timer?.unref();

  schema.load();
  rebuildTemp(schema.tables());
  schema.repair();
  // (the triggers re-created: none in the file reads format 2's clock any more)
  dropFormat2Clock(raw);
  commits.sealOutside('outside');

  const engine: CrrEngine = {
    siteId,
    dbVersion: () => {
      noticeChanges();
      return commits.committed();
    },
    asCrr: (t, o) => {
      if (o?.fromPeer) schema.peerApply.asCrr(t);
      else schema.asCrr(t);
      commits.flush();
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
      commits.listeners.add(l);
      return () => commits.listeners.delete(l);
    },
    noticeChanges,
    close: stop,
  };
  engines.set(db, engine);
  return engine;
}
