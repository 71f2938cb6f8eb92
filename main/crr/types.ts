// The engine's public contract, used by sync and the app service.
// Implemented by installCrr() in ./index.ts.
import type { SqlValue } from '../../shared/values.ts';

/** One row of crsql_changes, in cr-sqlite's format. Versions are JS numbers (always < 2^53). */
export interface Change {
  table: string;
  /** cr-sqlite packed primary key (see crr-semantics.md). */
  pk: Uint8Array;
  /** column name, or '-1' for the row sentinel */
  cid: string;
  val: SqlValue;
  col_version: number;
  db_version: number;
  /** 16-byte site id of the origin of this version */
  site_id: Uint8Array;
  cl: number;
  seq: number;
  /**
   * Ours only (never in crsql_changes): the history of this version, as the sync stream carries
   * it. The version its writer's cell held (col_version 0: none); absent or null: not known.
   */
  parent?: VersionRef | null;
  /** ms since 1970 on the writer's clock, when known */
  written_at?: number | null;
  /** written by "Keep this value": the fork it resolves and how many versions it saw */
  resolves?: (VersionRef & { versions: number }) | null;
  /**
   * Ours only: not a cell version but a counter column's contribution ('counter') or a text
   * column's CRDT state ('text'), as the sync stream carries them (policy-columns.ts).
   */
  kind?: 'counter' | 'text';
}

export interface CommitEvent {
  /** CRR tables that changed in the commit(s) */
  tables: string[];
  /** db_version range covered, inclusive */
  fromDbVersion: number;
  toDbVersion: number;
  /** origin sites of the changes (16 bytes each); the local site for local and outside writes */
  sites: Uint8Array[];
  /** 'local': this connection; 'outside': another program wrote the file; 'merge': applyChanges / INSERT INTO crsql_changes */
  origin: 'local' | 'outside' | 'merge';
}

export interface ChangesSinceOptions {
  /** skip changes whose origin is this site (typically the requesting peer) */
  excludeSite?: Uint8Array;
  limit?: number;
}

/**
 * Where a paged read of the changes with from < db_version <= to stands. Start with
 * { from, to: engine.dbVersion() }; the engine fills in the rest. Plain data (JSON with wire values).
 */
export interface ChangePageCursor {
  from: number;
  to: number;
  table?: string;
  arm?: number;
  key?: SqlValue[];
}

export interface ChangePage {
  changes: Change[];
  /** null when the range is done */
  next: ChangePageCursor | null;
}

/** A version of a cell, named by its writer's site and col_version (within one life `cl` of the row). */
export interface VersionRef {
  /** null for "no version": the cell had none in that life */
  site_id: Uint8Array | null;
  col_version: number;
}

/** One version of a cell that this database has seen. */
export interface CellVersion {
  table: string;
  pk: SqlValue[];
  cid: string;
  cl: number;
  col_version: number;
  site_id: Uint8Array;
  val: SqlValue;
  /** the version its writer's cell held when it wrote (col_version 0: none); null while not known */
  parent: VersionRef | null;
  /** ms since 1970 on the writer's clock, when known */
  written_at: number | null;
  /** ms since 1970 when this database first saw it */
  seen_at: number;
  /** the db_version this replica recorded it at (versions written together share one) */
  db_version: number;
  /** it is the cell's value now */
  won: boolean;
  /** written by "Keep this value": the fork it resolves and how many versions it saw there */
  resolves: (VersionRef & { versions: number }) | null;
}

/** lww and review pick a version; counter sums contributions, text merges characters (policy-columns.ts) */
export type MergePolicy = 'lww' | 'review' | 'counter' | 'text';
export const MERGE_POLICIES: readonly MergePolicy[] = ['lww', 'review', 'counter', 'text'];

/** One site's contribution to a counter cell in its row's current life. */
export interface CounterContribution {
  site_id: Uint8Array;
  /** how many of its writes counted */
  writes: number;
  /** their sum */
  total: SqlValue;
}

/** Versions of one cell written over the same parent version: each writer had not seen the others'. */
export interface Conflict {
  table: string;
  pk: SqlValue[];
  cid: string;
  cl: number;
  parent: VersionRef;
  /** the competing versions, the one cr-sqlite's rules pick first */
  versions: CellVersion[];
  policy: MergePolicy;
  resolved: boolean;
  /** when this database last saw one of its versions */
  seen_at: number;
}

export interface PolicyEntry {
  table: string;
  cid: string;
  policy: MergePolicy;
  /** Lamport clock of the setting; ties go to the larger site id */
  clock: number;
  site_id: Uint8Array;
}

export interface CrrHistory {
  /** whether new versions are being recorded (crr_state 'history') */
  enabled(): boolean;
  /** every retained version of one cell, newest first */
  cell(table: string, pk: SqlValue[], cid: string): CellVersion[];
  /** the table's most recently seen versions, newest first */
  activity(table: string, limit?: number): CellVersion[];
  /** how many versions one write recorded (its db_version and writer): e.g. a backfill of every row */
  writeSize(table: string, dbVersion: number, site: Uint8Array): { cells: number; rows: number; columns: number };
  conflicts(options?: { table?: string; unresolvedOnly?: boolean; limit?: number }): Conflict[];
  unresolvedCount(): number;
  /**
   * "Keep this value": writes the kept version's value as a new local version of the cell (it
   * beats every version of the conflict on every peer) that records the fork it resolves.
   */
  resolve(conflict: { table: string; pk: SqlValue[]; cid: string; cl: number; parent: VersionRef }, keep: Uint8Array): void;
  /** counter needs a numeric column, text a TEXT one (and cell history); conflicts are not raised for either */
  setPolicy(table: string, cid: string, policy: MergePolicy): void;
  /** who contributed what to a counter cell in its row's current life */
  contributions(table: string, pk: SqlValue[], cid: string): CounterContribution[];
  policies(): PolicyEntry[];
  /** merges policy settings from a peer; returns how many changed */
  applyPolicies(entries: PolicyEntry[]): number;
  /**
   * deletes versions beyond the retention per cell (never the current one, a conflict's member or
   * a resolution); returns how many. The engine also prunes the cells it touched as history grows.
   */
  prune(retention?: number): number;
  /** called after a merge added history (versions that lost, or older ones), and after Keep or a policy change */
  onChange(listener: (tables: string[]) => void): () => void;
}

export interface CrrOptions {
  /** record cell history (default: the file's setting, on for new files) */
  history?: boolean;
  /** how often (ms) to check PRAGMA data_version for writes by other programs; 0 disables polling. Default 250. */
  pollMs?: number;
  /** site id to give a file that has none yet (tests, tools); default: 16 random bytes */
  siteId?: Uint8Array;
  /**
   * refuse a change whose db_version is more than this ahead of this replica's (kept in the file;
   * default 2^32): a hostile peer cannot spend the version space (input-limits.ts)
   */
  maxVersionJump?: number;
}

export interface CrrEngine {
  readonly siteId: Uint8Array;
  /**
   * last committed db_version: this replica's Lamport clock, what sync pages changes up to. It
   * also counts merges that only brought history (losing versions); crsql_db_version() is the
   * last version that changed a current value, as in cr-sqlite.
   */
  dbVersion(): number;
  /** upgrade / downgrade a table (same as SELECT crsql_as_crr / crsql_as_table) */
  asCrr(table: string): void;
  asTable(table: string): void;
  isCrr(table: string): boolean;
  crrTables(): string[];
  /** changes with db_version > dbVersion, ordered by db_version, seq */
  changesSince(dbVersion: number, options?: ChangesSinceOptions): Change[];
  /**
   * About `limit` changes of a range, in index order (not db_version order), with bounded memory;
   * for sync. Skips changes from `excludeSite`.
   */
  changesPage(cursor: ChangePageCursor, limit: number, options?: { excludeSite?: Uint8Array }): ChangePage;
  /** merge a batch in one transaction; returns how many changes changed something */
  applyChanges(changes: Change[]): number;
  /** called after every commit that changed CRR data (local, outside or merged) */
  onCommit(listener: (event: CommitEvent) => void): () => void;
  /** cell history, conflicts and merge policies */
  readonly history: CrrHistory;
  /** check for outside writes and schema changes now (the poller calls this) */
  noticeChanges(): void;
  /** stop polling and release the engine's resources; does not close the Database */
  close(): void;
}
