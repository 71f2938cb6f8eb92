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

export interface CrrOptions {
  /** how often (ms) to check PRAGMA data_version for writes by other programs; 0 disables polling. Default 250. */
  pollMs?: number;
  /** site id to give a file that has none yet (tests, tools); default: 16 random bytes */
  siteId?: Uint8Array;
}

export interface CrrEngine {
  readonly siteId: Uint8Array;
  /** last committed db_version (crsql_db_version()) */
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
  /** delete cell clocks left behind by deleted or re-created rows; returns how many */
  compactClocks(): number;
  /** check for outside writes and schema changes now (the poller calls this) */
  noticeChanges(): void;
  /** stop polling and release the engine's resources; does not close the Database */
  close(): void;
}
