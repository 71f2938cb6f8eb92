// The one typed contract between the main core and the renderer, carried by Electron IPC
// or by the browser-mode WebSocket. Values cross as WireValue (see values.ts) so storage
// classes survive JSON. Errors cross as ApiError (see errors.ts).
import type { WireValue } from './values.ts';
import type { TextEdit } from './text-edits.ts';

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
  /** foreign keys this table declares (its cells link to the rows they reference) */
  foreignKeys: ForeignKey[];
  /** foreign keys other tables (or this one) declare to this table (a row lists the rows referencing it) */
  referencedBy: ForeignKey[];
}

/**
 * `between`: value <= column <= to (SQL BETWEEN). `search`: the text (value) in any column, by
 * LIKE as `contains` (case-insensitive for ASCII, % and _ literal); its column is ''.
 */
export type FilterOp = 'contains' | '=' | '<' | '>' | 'is null' | 'is not null' | 'between' | 'search';
export interface ColumnFilter {
  column: string;
  op: FilterOp;
  value?: WireValue;
  /** the upper bound of `between` */
  to?: WireValue;
}

// ---- Find and foreign keys (issue 15: habits) ----

/** A foreign key: `columns` of `table` reference `refColumns` of `refTable` (in order). */
export interface ForeignKey {
  table: string;
  columns: string[];
  refTable: string;
  /** the referenced columns (the parent's primary key when the declaration names none) */
  refColumns: string[];
}

/** Rows of one table that reference a given row, through one foreign key. */
export interface ReferencingRows {
  link: ForeignKey;
  /** the filters that show them in their table */
  filters: ColumnFilter[];
  /** how many (counted up to `REFERENCING_COUNT_LIMIT`; `more` when there are more) */
  count: number;
  more: boolean;
}
export const REFERENCING_COUNT_LIMIT = 10_000;
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
  /** new tables (issue 14): declared types, one per CSV column ('' for none) */
  types?: string[];
  /** new tables: the primary key, a CSV column (declared NOT NULL) or a new INTEGER PRIMARY KEY column numbering the rows */
  primaryKey?: { column: string } | { addId: string };
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
  /** connected, but the peer has no copy of this database open now (it opened another file, or stopped sharing) */
  elsewhere?: boolean;
  /** changes from this peer held here because this copy's schema cannot take them yet */
  heldChanges: number;
  /** why they wait (a missing table or column, a primary key of another width, a constraint), or null */
  heldReason: string | null;
  /** why this peer's changes were refused (not applied, e.g. a version far out of range), or null */
  refused: string | null;
  /** the peer's schema version (schema changes applied there), null until it told us */
  schemaVersion: number | null;
  /** schema changes waiting there (for its user's confirmation, or in conflict) */
  schemaWaiting: number;
  /** its shared tables have the same names, columns and types as this copy's; null when not known */
  schemaSame: boolean | null;
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
  /** this copy's schema version (schema changes applied here) and the changes waiting here (schemaChanges lists them) */
  schemaVersion: number;
  schemaWaiting: number;
}

/** A schema change of a shared table, as the schema log holds it (main/crr/schema-log.ts). */
export interface SchemaChangeInfo {
  /** opaque: confirmSchemaChange takes it */
  id: string;
  kind: string;
  table: string;
  /** what it does, in words: "drop column notes of tasks" */
  summary: string;
  /** applied here; waiting for this copy's confirmation; or in conflict (reason says why) */
  state: 'applied' | 'confirm' | 'conflict';
  reason: string | null;
  /** drops a column or a table, or stops sharing one */
  destructive: boolean;
  /** who made it: "You" or the peer's name */
  by: string;
  /** ms since 1970, on its writer's clock */
  writtenAt: number;
  /** drop-column waiting here: how many values of the column this copy holds (they stay readable after) */
  values: number | null;
}

/** The kept versions of a column dropped from a collaborative table, for one row. */
export interface DroppedColumnHistory {
  column: string;
  /** this replica's db_version when it was dropped here */
  droppedAt: number;
  versions: CellVersion[];
}

export interface SchemaChangesView {
  /** this copy's schema version (changes applied) */
  version: number;
  /** the per-database setting "apply schema changes from peers automatically" (destructive ones too) */
  autoApply: boolean;
  /** waiting here: to confirm, or in conflict */
  waiting: SchemaChangeInfo[];
  /** the latest changes applied, newest first */
  recent: SchemaChangeInfo[];
}

/** How a column merges concurrent writes: `lww` decides silently (the conflict is recorded as
 * resolved); `review` applies the same winner and keeps the conflict open until someone keeps a value;
 * `counter` (numeric columns) sums everyone's adjustments; `text` (TEXT columns) merges characters. */
export type MergePolicy = 'lww' | 'review' | 'counter' | 'text';

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
  /** a text column's version (merge policy text): what it changed in the version before it, as character edits */
  edits?: TextEdit[];
}

/** One writer's part of a counter cell (merge policy counter), in its row's current life. */
export interface CounterContribution {
  site: string;
  peerName: string;
  local: boolean;
  /** how many of its writes counted */
  writes: number;
  /** their sum */
  total: WireValue;
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
  /**
   * Set when this entry stands for many versions written at once by one writer (the first
   * versions recorded when collaboration is enabled on a table, an import): `version` is the
   * newest of them.
   */
  bulk?: { cells: number; columns: number; rows: number };
}

// ---- Structure editing, rebuilds and the writable SQL console (issue 14) ----

/** A script for the SQL console: one or more statements, run in one transaction. */
export interface SqlRunRequest {
  sql: string;
  /** how many rows of the last statement that returns rows to send back (default 100) */
  limit?: number;
}

export interface SqlStatementReport {
  /** 1-based position in the script */
  index: number;
  /** its first words, e.g. `UPDATE notes SET body …` */
  head: string;
  kind: 'read' | 'write' | 'schema';
  /** rows it inserted, updated or deleted (writes); null for reads and schema changes */
  changes: number | null;
}

export interface SqlRunResult {
  statements: SqlStatementReport[];
  /** rows changed by the whole script */
  changes: number;
  schemaChanged: boolean;
  /** the rows of the last statement that returned rows, or null when none did */
  result: {
    statement: number;
    columns: string[];
    rows: WireValue[][];
    truncated: boolean;
    /** a read-only statement the grid may run again to page and sort; null when these rows are all there is (RETURNING) */
    sql: string | null;
  } | null;
}

/** A column as the structure editor and CSV import describe it. */
export interface ColumnDef {
  name: string;
  /** declared type ('' for none): it decides the column's affinity */
  type: string;
  notNull: boolean;
  /** a DEFAULT expression as SQL ('', 0, CURRENT_TIMESTAMP, …), or null for none */
  defaultSql: string | null;
}

/** A change of structure, previewed as SQL before it runs (previewSchemaChange, applySchemaChange). */
export type SchemaChange =
  | { kind: 'create-table'; table: string; columns: ColumnDef[]; primaryKey: string[] }
  | { kind: 'add-column'; table: string; column: ColumnDef }
  | { kind: 'rename-column'; table: string; column: string; to: string }
  | { kind: 'drop-column'; table: string; column: string }
  | { kind: 'create-index'; table: string; name: string; columns: string[]; unique: boolean }
  | { kind: 'drop-index'; table: string; index: string }
  | ({ kind: 'rebuild'; table: string } & RebuildOptions)
  /** an ordinary copy of a table (of a virtual table, which cannot be collaborative itself) */
  | { kind: 'copy-table'; table: string; to: string };

/** What a rebuild changes; everything else about the table (rows, values, other constraints) stays. */
export interface RebuildOptions {
  /** a new primary key: these columns (declared NOT NULL), or a new INTEGER PRIMARY KEY column named `addId` holding the rowid */
  primaryKey?: { columns: string[] } | { addId: string };
  /** drop every foreign key (REFERENCES, FOREIGN KEY) */
  dropForeignKeys?: boolean;
  /** unique indexes or UNIQUE constraints to drop, by index name; `keepIndex` keeps a plain index on the same columns */
  dropUnique?: { index: string; keepIndex: boolean }[];
  /** DEFAULT expressions to give columns (SQL) */
  defaults?: Record<string, string>;
  /** columns that stop being NOT NULL */
  allowNull?: string[];
  dropAutoincrement?: boolean;
  /** generated columns that become ordinary columns holding their current values */
  materializeGenerated?: boolean;
}

/** The SQL a change runs, in order, inside one transaction; `notes` say what the user should know first. */
export interface SchemaChangePreview {
  statements: string[];
  notes: string[];
}

/** Why a table cannot be collaborative yet, each with the rebuild that fixes it. */
export interface CrrProblem {
  kind: 'virtual' | 'generated' | 'no-primary-key' | 'nullable-primary-key' | 'autoincrement' | 'foreign-key' | 'unique-index' | 'not-null-without-default';
  message: string;
  /** the column or index concerned */
  subject?: string;
}

// ---- Files (export, import, the file picker) and install settings (issue 15: DB-tool habits) ----
// Files are written and read where main runs (browser mode's server is that machine): only their
// paths cross the API, never their contents.

export type ExportFormat = 'csv' | 'json' | 'sql';

/** A table, or the view as shown (its filters and sort), streamed to a file. */
export interface ExportRequest extends RowQuery {
  format: ExportFormat;
  /** where to write it (`~` is the home folder) */
  path: string;
  /** replace a file that exists (refused otherwise, nothing written) */
  overwrite?: boolean;
}

export interface ExportResult {
  path: string;
  rows: number;
  bytes: number;
}

export type ImportFormat = 'csv' | 'json';

/** A first look at a file to import: its format, first lines and columns. */
export interface ImportPreview {
  path: string;
  name: string;
  format: ImportFormat;
  size: number;
  /** the file's first lines, as text */
  head: string;
  /** column names as the import would take them: CSV with a header line (see `header`) or JSON keys seen first */
  columns: string[];
  /** CSV: the number of fields of the first line (the column count without a header) */
  width: number;
}

/** Import of a file: CSV (header line or not) or JSON (an array of objects, their keys the columns). */
export interface FileImportRequest {
  path: string;
  format: ImportFormat;
  table: string;
  create: boolean;
  /** CSV: the first line holds column names */
  header?: boolean;
  /** new tables: declared types by column name ('' or missing: none) */
  types?: Record<string, string>;
  /** new tables: a column as primary key, or a new INTEGER PRIMARY KEY column numbering the rows */
  primaryKey?: { column: string } | { addId: string };
}

export interface DirectoryEntry {
  name: string;
  kind: 'dir' | 'file' | 'other';
  /** files only */
  size: number | null;
  modifiedAt: number | null;
}

export interface DirectoryListing {
  /** absolute, `~` expanded */
  path: string;
  parent: string | null;
  home: string;
  separator: string;
  entries: DirectoryEntry[];
  /** the folder holds more entries than were listed */
  truncated: boolean;
}

/** What the user is choosing a file for. */
export interface FileChoice {
  /** open an existing file, or name one to write (save) */
  purpose: 'open' | 'save';
  title: string;
  defaultPath?: string;
  /** file name extensions offered first (without dots) */
  extensions?: string[];
}

export type ThemeChoice = 'system' | 'light' | 'dark';

/** Settings of this install (the data folder), not of a database. */
export interface AppSettings {
  theme: ThemeChoice;
  /** the name peers see for this install; '' for the default */
  displayName: string;
  /** the name peers see when displayName is '' (the host name) */
  defaultName: string;
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
  /** `expected`: refuse (code 'changed') unless the cell still holds it (undo never reverts a peer's edit);
   * `mergeFrom`: for counter and text columns (merge policies), the value the editor started from: a counter gets the
   * difference added to what it holds now, a text gets the edits merged with what others wrote since */
  updateCell(p: CellRef & { value: WireValue; expected?: WireValue; mergeFrom?: WireValue }): Promise<Row>;
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

  // LAN sync (issue: LAN sync)
  shareDatabase(p: Record<string, never>): Promise<{ invite: string }>;
  joinDatabase(p: { invite: string; path: string }): Promise<DatabaseInfo>;
  rotateShareKey(p: Record<string, never>): Promise<{ invite: string }>;
  listPeers(p: Record<string, never>): Promise<PeerInfo[]>;
  syncStatus(p: Record<string, never>): Promise<SyncStatus>;
  dialPeer(p: { address: string }): Promise<void>;

  /** stop syncing (work offline) or resume */
  setSyncPaused(p: { paused: boolean }): Promise<SyncStatus>;

  // Schema changes from peers (the replicated schema log)
  schemaChanges(p: Record<string, never>): Promise<SchemaChangesView>;
  /** applies a destructive change waiting for this copy's confirmation */
  confirmSchemaChange(p: { id: string }): Promise<SchemaChangesView>;
  setSchemaAutoApply(p: { on: boolean }): Promise<SchemaChangesView>;

  // Cell history, conflicts and merge policies
  cellHistory(p: CellRef): Promise<CellVersion[]>;
  listConflicts(p: { table?: string; includeResolved?: boolean }): Promise<Conflict[]>;
  /** "Keep this value": the version written by `keepSite` becomes a new version that wins everywhere */
  resolveConflict(p: { id: string; keepSite: string }): Promise<void>;
  mergePolicies(p: { table: string }): Promise<Record<string, MergePolicy>>;
  /** who added what to a counter cell (merge policy counter) in its row's current life */
  counterContributions(p: CellRef): Promise<CounterContribution[]>;
  setMergePolicy(p: { table: string; column: string; policy: MergePolicy }): Promise<void>;
  tableActivity(p: { table: string; limit?: number }): Promise<ActivityEntry[]>;
  /** the row's versions of columns dropped from the table (kept readable after a drop) */
  droppedHistory(p: { table: string; key: WireValue[] }): Promise<DroppedColumnHistory[]>;

  // Structure editing, rebuilds and the writable SQL console (issue 14)
  /** runs a script in one transaction (all or nothing); the error names the statement that failed */
  runSql(p: SqlRunRequest): Promise<SqlRunResult>;
  /** scripts run in the console on this file, newest first */
  sqlHistory(p: Record<string, never>): Promise<string[]>;
  previewSchemaChange(p: { change: SchemaChange }): Promise<SchemaChangePreview>;
  /** runs the change in one transaction; `expect`: the statements the user saw (refused with 'changed' if they differ now);
   * `enableCrr`: make the table collaborative in the same transaction */
  applySchemaChange(p: { change: SchemaChange; expect: string[]; enableCrr?: boolean }): Promise<TableInfo[]>;
  /** everything that keeps a table from being collaborative, and the rebuild that fixes it all */
  crrProblems(p: { table: string }): Promise<{ problems: CrrProblem[]; fix: RebuildOptions | null }>;

  // Files, the file picker and install settings (issue 15)
  /** streams a table or view to a file (CSV, JSON, SQL INSERTs) */
  exportRows(p: ExportRequest): Promise<ExportResult>;
  previewImport(p: { path: string; format?: ImportFormat }): Promise<ImportPreview>;
  /** imports a CSV or JSON file, all or nothing */
  importFile(p: FileImportRequest): Promise<{ inserted: number }>;
  /** a folder of the machine where main runs (the home folder when no path is given) */
  listDirectory(p: { path?: string; hidden?: boolean }): Promise<DirectoryListing>;
  /** the shell's native file dialog; `native: false` where there is none (browser mode: the page shows its folder browser) */
  chooseFile(p: FileChoice): Promise<{ native: boolean; path: string | null }>;
  appSettings(p: Record<string, never>): Promise<AppSettings>;
  setAppSettings(p: { theme?: ThemeChoice; displayName?: string }): Promise<AppSettings>;

  // Find and foreign keys (issue 15: habits)
  /** the rows of other tables (and this one) whose foreign keys reference this row, per key */
  referencingRows(p: { table: string; key: WireValue[] }): Promise<ReferencingRows[]>;
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
