// The one typed contract between the main core and the renderer, carried by Electron IPC
// or by the browser-mode WebSocket. Values cross as WireValue (see values.ts) so storage
// classes survive JSON. Errors cross as ApiError (see errors.ts).
import type { WireValue } from './values.ts';

export interface DatabaseInfo {
  path: string;
  name: string;
  /** hex site id of this replica ('' until a table is a CRR... always present once installed) */
  siteId: string;
  /** stable id shared by every replica of this database (hex), used by sharing */
  databaseId: string;
  readOnly: boolean;
}

export interface TableInfo {
  name: string;
  /** cheap estimate (no count(*)): good for a scrollbar before the exact count arrives */
  rowEstimate: number;
  isCrr: boolean;
}

export interface ColumnInfo {
  name: string;
  /** declared type as written ('' when none) */
  type: string;
  notNull: boolean;
  /** default expression as SQL text, or null */
  defaultSql: string | null;
  /** 1-based position in the primary key, 0 when not part of it */
  pk: number;
}

export interface TableSchema {
  name: string;
  sql: string;
  columns: ColumnInfo[];
  /** columns that identify a row, in order: the pk columns, or ['rowid'] for tables without one */
  keyColumns: string[];
  isCrr: boolean;
  /** why the engine would refuse to make this table a CRR, or null when it can */
  crrRefusal: string | null;
  indexes: { name: string; sql: string | null; unique: boolean }[];
}

export type FilterOp = 'contains' | '=' | '<' | '>' | 'is null' | 'is not null';
export interface ColumnFilter {
  column: string;
  op: FilterOp;
  value?: WireValue;
}
export interface SortSpec {
  column: string;
  dir: 'asc' | 'desc';
}

export interface RowQuery {
  table: string;
  sort?: SortSpec;
  filters?: ColumnFilter[];
}

export interface RowWindowRequest extends RowQuery {
  /** position of the first row wanted in the sorted, filtered order */
  offset: number;
  limit: number;
}

export interface Row {
  /** values of the schema's keyColumns: how edits address this row */
  key: WireValue[];
  /** one value per column, in schema order */
  values: WireValue[];
}

export interface RowWindow {
  columns: string[];
  offset: number;
  rows: Row[];
  /** true when rows ran out before limit: offset + rows.length is the exact total */
  atEnd: boolean;
}

export interface CellRef {
  table: string;
  key: WireValue[];
  column: string;
}

export interface QueryResult {
  columns: string[];
  rows: WireValue[][];
  /** true when more rows follow this window */
  truncated: boolean;
}

/** A window of a read-only statement's results, optionally sorted by a result column's position. */
export interface QueryWindowRequest {
  sql: string;
  offset?: number;
  limit?: number;
  sort?: { index: number; dir: 'asc' | 'desc' };
}

export interface CsvImportRequest {
  table: string;
  /** create the table (all columns TEXT-affinity-free, first column as given) if it does not exist */
  create: boolean;
  csv: string;
  /** first CSV line holds column names */
  header: boolean;
}

export interface PeerInfo {
  peerId: string;
  name: string;
  /** colour used to flash cells this peer changed (css colour) */
  color: string;
  addresses: string[];
  discovered: boolean;
  connected: boolean;
  authorised: boolean;
  /** per database: how many changes we still have to send it / receive from it */
  behind: number;
  ahead: number;
  lastSyncAt: number | null;
  lastError: string | null;
  /** schema mismatch shown in the peer list, or null */
  schemaMismatch: string | null;
  /** changes from this peer held here because this copy's schema cannot take them yet */
  heldChanges: number;
  /** why they wait (a missing table or column, a primary key of another width, a constraint), or null */
  heldReason: string | null;
  /** why this peer's changes were refused (not applied, e.g. a version far out of range), or null */
  refused: string | null;
}

export interface SyncStatus {
  state: 'off' | 'idle' | 'syncing' | 'error';
  /** the user paused sync (work offline) */
  paused?: boolean;
  shared: boolean;
  connectedPeers: number;
  /** changes received but held because this replica lacks their table or column */
  heldChanges: number;
  lastError: string | null;
}

/** How a column merges concurrent writes: `lww` decides silently (the conflict is recorded as
 * resolved); `review` applies the same winner and keeps the conflict open until someone keeps a value. */
export type MergePolicy = 'lww' | 'review';

/** One version of a cell (main/crr/HISTORY.md). */
export interface CellVersion {
  value: WireValue;
  /** hex site id of its writer */
  site: string;
  /** the writer's name when known ("You" for this replica), else a short site id */
  peerName: string;
  local: boolean;
  colVersion: number;
  /** the row's life it belongs to (causal length) */
  cl: number;
  /** col_version of the version its writer replaced (0: none), null while unknown */
  parentColVersion: number | null;
  writtenAt: number | null;
  seenAt: number;
  /** the cell holds this value now */
  won: boolean;
  /** written by "Keep this value" */
  resolvesConflict: boolean;
}

/** Versions of one cell written concurrently (over the same earlier version). */
export interface Conflict {
  /** opaque, for resolveConflict */
  id: string;
  table: string;
  key: WireValue[];
  column: string;
  policy: MergePolicy;
  resolved: boolean;
  seenAt: number;
  /** the competing versions, the one the merge rules pick first */
  versions: CellVersion[];
}

export interface ActivityEntry {
  key: WireValue[];
  column: string;
  version: CellVersion;
}

/** Every call main answers. Each method takes one params object and returns a promise of its result. */
export interface Api {
  openDatabase(p: { path: string; create?: boolean }): Promise<DatabaseInfo>;
  currentDatabase(p: Record<string, never>): Promise<DatabaseInfo | null>;
  /** files opened lately, newest first (those that still exist) */
  recentFiles(p: Record<string, never>): Promise<string[]>;
  listTables(p: Record<string, never>): Promise<TableInfo[]>;
  tableSchema(p: { table: string }): Promise<TableSchema>;
  readRows(p: RowWindowRequest): Promise<RowWindow>;
  /** exact count, for after the first paint; may be slow on huge tables */
  countRows(p: RowQuery): Promise<number>;
  /** where a row stands in the sorted, filtered view (0-based), or null when the view leaves it out */
  rowPosition(p: RowQuery & { key: WireValue[] }): Promise<number | null>;
  /** `expected`: refuse (code 'changed') unless the cell still holds it (undo never reverts a peer's edit) */
  updateCell(p: CellRef & { value: WireValue; expected?: WireValue }): Promise<Row>;
  /** several cells of one table in one transaction (paste); returns how many */
  updateCells(p: { table: string; cells: { key: WireValue[]; column: string; value: WireValue; expected?: WireValue }[] }): Promise<number>;
  insertRow(p: { table: string; values: Record<string, WireValue> }): Promise<Row>;
  /** `expected`: per key, column values the row must still hold (undoing an insert) */
  deleteRows(p: { table: string; keys: WireValue[][]; expected?: Record<string, WireValue>[] }): Promise<number>;
  runQuery(p: QueryWindowRequest): Promise<QueryResult>;
  /** how many rows a read-only statement returns */
  countQuery(p: { sql: string }): Promise<number>;
  enableCrr(p: { table: string }): Promise<TableInfo>;
  disableCrr(p: { table: string }): Promise<TableInfo>;
  importCsv(p: CsvImportRequest): Promise<{ inserted: number }>;
  exportCsv(p: RowQuery): Promise<string>;

  // LAN sync (issue: LAN sync)
  shareDatabase(p: Record<string, never>): Promise<{ invite: string }>;
  joinDatabase(p: { invite: string; path: string }): Promise<DatabaseInfo>;
  rotateShareKey(p: Record<string, never>): Promise<{ invite: string }>;
  listPeers(p: Record<string, never>): Promise<PeerInfo[]>;
  syncStatus(p: Record<string, never>): Promise<SyncStatus>;
  dialPeer(p: { address: string }): Promise<void>;

  /** stop syncing (work offline) or resume */
  setSyncPaused(p: { paused: boolean }): Promise<SyncStatus>;

  // Cell history, conflicts and merge policies
  cellHistory(p: CellRef): Promise<CellVersion[]>;
  listConflicts(p: { table?: string; includeResolved?: boolean }): Promise<Conflict[]>;
  /** "Keep this value": the version written by `keepSite` becomes a new version that wins everywhere */
  resolveConflict(p: { id: string; keepSite: string }): Promise<void>;
  mergePolicies(p: { table: string }): Promise<Record<string, MergePolicy>>;
  setMergePolicy(p: { table: string; column: string; policy: MergePolicy }): Promise<void>;
  tableActivity(p: { table: string; limit?: number }): Promise<ActivityEntry[]>;
}

export type ApiMethod = keyof Api;
export type ApiParams<M extends ApiMethod> = Parameters<Api[M]>[0];
export type ApiResult<M extends ApiMethod> = Awaited<ReturnType<Api[M]>>;

/** Events main pushes to the renderer. */
export interface ApiEvents {
  rowsChanged: {
    tables: string[];
    origin: 'local' | 'remote' | 'outside';
    /** peer that wrote it (hex site id) for remote changes */
    site: string | null;
    /** cells that changed, when known and not too many (for flashing); null = reload the window */
    cells: { table: string; key: WireValue[]; column: string; site: string }[] | null;
  };
  tablesChanged: Record<string, never>;
  peersChanged: { peers: PeerInfo[] };
  syncStatus: SyncStatus;
  conflictsChanged: { unresolved: number };
  databaseOpened: DatabaseInfo;
}
export type ApiEventName = keyof ApiEvents;

/** What the renderer talks to: Electron's preload exposes it as window.crrApi; browser mode builds
 * one over the WebSocket. `call` rejects with an error carrying `code` and `message`. */
export interface CrrBridge {
  call(method: ApiMethod, params: unknown): Promise<unknown>;
  on(event: ApiEventName, listener: (payload: unknown) => void): () => void;
}

/** Wire messages of the bridge (WebSocket; Electron IPC carries the same shapes). */
export type BridgeRequest = { id: number; method: ApiMethod; params: unknown };
export type BridgeReply =
  | { id: number; result: unknown }
  | { id: number; error: { code: ApiErrorCode; message: string } };
export type BridgeEvent = { event: ApiEventName; payload: unknown };

export type ApiErrorCode =
  | 'not-found'
  /** the value an undo or redo expected was changed by someone else since */
  | 'changed'
  | 'invalid-argument'
  | 'not-sqlite'
  | 'locked'
  | 'read-only'
  | 'crr-refused'
  | 'constraint'
  | 'sql-error'
  | 'no-database'
  | 'unauthorised'
  | 'sync-error'
  | 'internal';
