// Commits: sealing a transaction's marker, publishing its version, and telling the listeners.
//
// Local-write triggers stamp every change with the db_version of a marker row (crr_tx) that the
// first tracked write of a transaction opens. Sealing publishes the marker's version as committed
// and removes it, inside the transaction right before it commits whenever the engine sees the
// commit coming (statement-bracket.ts), or afterwards in a transaction of its own for commits it
// did not see (another program, db.exec). After the commit, flush() publishes the version to this
// process (crsql_db_version, what sync pages up to), tells the history's, schema log's and
// onCommit listeners, and prunes history every PRUNE_EVERY versions.
import type Database from 'better-sqlite3';
import type { CommitEvent } from './types.ts';
import type { TableInfo } from './table-info.ts';
import { deadTable, rowsTable, versionsTable } from './clock-tables.ts';
import { notifyAll } from './notify.ts';
import { policyCommitSitesSql } from './policy-columns.ts';
import { CLOCK_SQL, CURRENT_VERSION_SQL } from './clock-sql.ts';

type Statement = Database.Statement;
type Marker = { db_version: number; max_version: number; changed: number };

/** versions stamped since the last prune after which the cells they touched are pruned */
const PRUNE_EVERY = 50_000;

export interface CommitsContext {
  db: Database.Database;
  prepare: (sql: string) => Statement;
  inTx: <T>(fn: () => T) => T;
  historyOn: boolean;
  tables: () => Map<string, TableInfo>;
  /** counter and text columns: settles their local writes; whether the marker moved (policy-columns.ts) */
  beforeSeal: (dbVersion: number) => boolean;
  history: () => { noteChanged(tables: string[]): void; flush(): void; prune(keep: number, since: number): unknown; retention(): number };
  schemaLog: () => { flush(): void };
}

export function createCommits(ctx: CommitsContext) {
  const { db, prepare } = ctx;
  const q = {
    marker: prepare('SELECT db_version, max_version, changed FROM crr_tx WHERE id = 1').safeIntegers(false),
    // the version's time row is also the clock (CLOCK_SQL) and, unless quiet, crsql_db_version
    publish: prepare('INSERT OR REPLACE INTO crr_times (db_version, at, quiet) VALUES (?, ?, ?)'),
    clearMarker: prepare('DELETE FROM crr_tx'),
    committed: prepare(`SELECT ${CLOCK_SQL}`).pluck().safeIntegers(false),
    current: prepare(CURRENT_VERSION_SQL).pluck().safeIntegers(false),
  };
  const listeners = new Set<(e: CommitEvent) => void>();
  /** the last db_version stamped (this replica's Lamport clock, what sync pages up to) */
  let committedVersion = q.committed.get() as number;
  /** the last one that changed a current value: crsql_db_version() */
  let currentVersion = q.current.get() as number;
  let pending: { marker: Marker; origin: CommitEvent['origin']; versions: number }[] = [];
  let mergeSeen = false;
  let mergesWon = 0;
  const grewHistory = new Set<string>();
  const commitSitesStmts = new Map<string, Statement>();

  /** Publish the marker's version as committed; runs inside the transaction about to commit. */
  function sealInside(origin: CommitEvent['origin']): void {
    let m = q.marker.get() as Marker | undefined;
    if (!m) return;
    // counter and text columns: their local writes are settled and diffed first (policy-columns.ts)
    if (ctx.beforeSeal(m.db_version)) m = q.marker.get() as Marker;
    q.publish.run(BigInt(m.max_version), Date.now(), m.changed ? null : 1);
    q.clearMarker.run();
    pending.push({ marker: m, origin: mergeSeen ? 'merge' : origin, versions: countVersions(m) });
    mergeSeen = false;
  }

  /** Seal a marker left by a commit the engine did not see coming (another program, exec). */
  function sealOutside(origin: CommitEvent['origin']): void {
    if (db.inTransaction || !q.marker.get()) return;
    ctx.inTx(() => sealInside(origin));
    flush();
  }

  function describe(m: Marker, origin: CommitEvent['origin']): CommitEvent {
    const changed: string[] = [];
    const sites = new Map<string, Uint8Array>();
    for (const info of ctx.tables().values()) {
      let stmt = commitSitesStmts.get(info.name);
      if (!stmt) {
        // (and counter contributions, text states: policy-columns.ts)
        const V = info.columns.length ? `SELECT site FROM ${versionsTable(info.name)} WHERE db_version BETWEEN @a AND @b UNION ${policyCommitSitesSql(info)}` : '';
        stmt = prepare(
          `SELECT DISTINCT s.site_id FROM (${V}SELECT s_site AS site FROM ${rowsTable(info.name)} WHERE s_version BETWEEN @a AND @b
             UNION SELECT i_site FROM ${rowsTable(info.name)} WHERE i_version BETWEEN @a AND @b
             UNION SELECT site FROM ${deadTable(info.name)} WHERE db_version BETWEEN @a AND @b) x
           JOIN crr_sites s ON s.ord = x.site`,
        ).pluck();
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
  function flush(): void {
    if (db.inTransaction || flushing) return;
    flushing = true;
    const history = ctx.history();
    const schemaLog = ctx.schemaLog();
    try {
      if (grewHistory.size) history.noteChanged([...grewHistory]);
      grewHistory.clear();
      const commits = pending;
      pending = [];
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
      maybePrune(commits.reduce((n, c) => n + c.versions, 0));
      if (listeners.size === 0) return;
      for (const e of commits.map((c) => describe(c.marker, c.origin))) {
        if (e.tables.length) notifyAll(listeners, e, 'onCommit');
      }
    } finally {
      flushing = false;
      // what the listeners above changed in the log (a retried entry applied) is told too
      schemaLog.flush();
    }
  }

  // ---- retention as the history grows: prune the cells touched since the last prune ----
  // Each commit's versions are counted as it seals, inside its transaction: counting everything
  // since the last prune made every small commit cost more (up to 0.5 ms each), and counting after
  // the commit cost a read transaction of its own (about 3 µs a commit)
  let prunedThrough = committedVersion;
  let addedSincePrune = 0;
  const versionsIn = new Map<string, Statement>();
  function countVersions(m: Marker): number {
    if (!ctx.historyOn) return 0;
    let n = 0;
    for (const info of ctx.tables().values()) {
      if (!info.columns.length) continue;
      let s = versionsIn.get(info.name);
      if (!s) versionsIn.set(info.name, (s = prepare(`SELECT count(*) FROM ${versionsTable(info.name)} WHERE db_version BETWEEN ? AND ?`).pluck()));
      n += s.get(m.db_version, m.max_version) as number;
    }
    return n;
  }
  function maybePrune(added: number): void {
    addedSincePrune += added;
    if (addedSincePrune < PRUNE_EVERY) return;
    const since = prunedThrough;
    prunedThrough = committedVersion;
    addedSincePrune = 0;
    const history = ctx.history();
    history.prune(history.retention(), since);
  }

  return {
    listeners,
    sealInside,
    sealOutside,
    flush,
    /** the last db_version stamped, as this process knows it */
    committed: () => committedVersion,
    /** crsql_db_version() */
    current: () => currentVersion,
    /** the last db_version stamped, also by a commit not yet flushed or made by another program */
    latest: () => Math.max(committedVersion, q.committed.get() as number),
    /** another program committed: the versions as the file has them */
    reload(): void {
      committedVersion = q.committed.get() as number;
      currentVersion = q.current.get() as number;
    },
    /** the merge program's note (crr_note_merge): the transaction merged, `won` values won */
    noteMerge(won: number, added: number, table: string): void {
      mergeSeen = true;
      mergesWon += won;
      if (added > 0) grewHistory.add(table);
    },
    /** current values merges have won so far */
    mergesWon: () => mergesWon,
    /** the transaction rolled back: what it sealed is not committed */
    rolledBack(): void {
      pending = [];
      mergeSeen = false;
    },
    /** statements depend on the tables' shapes: forget them after a schema change */
    reset(): void {
      commitSitesStmts.clear();
      versionsIn.clear();
    },
  };
}

export type Commits = ReturnType<typeof createCommits>;
