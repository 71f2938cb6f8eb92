// The main core behind shared/api.ts: one open database (a real file) and its CRR engine.
// Electron IPC and the browser-mode WebSocket both call this same object. Sync lives in
// sync-control.ts, history and conflicts in history-calls.ts.
import '../polyfills.ts';
import type Database from 'better-sqlite3';
import { basename, join } from 'node:path';
import type { ActivityEntry, ApiEvents, CellRef, CellVersion, Conflict, CounterContribution, CsvImportRequest, MergePolicy, DatabaseInfo, PeerInfo, SyncStatus, QueryResult, QueryWindowRequest, Row, RowQuery, RowWindow, RowWindowRequest, TableInfo, TableSchema } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import { bytesToHex, fromWire, toWire, type SqlValue, type WireValue } from '../../shared/values.ts';
import { installCrr, CrrRefusal } from '../crr/index.ts';
import { quoteId } from '../crr/table-info.ts';
import type { CrrEngine } from '../crr/types.ts';
import { openDatabaseFile } from './open-database.ts';
import { bind, countRows, rowPosition, listTables, readRows, tableSchema, tableShape, userTableNames, type TableShape } from './table-queries.ts';
import { queryCount, queryWindow } from './query-window.ts';
import { PlainTablesWatch } from './plain-tables-watch.ts';
import { SyncControl } from './sync-control.ts';
import { changedCells } from './changed-cells.ts';
import { HistoryCalls } from './history-calls.ts';
import { ViewOrders } from './view-order.ts';
import { existsSync, statSync } from 'node:fs';
import { dataDir } from './data-dir.ts';
import { readRecentFiles, rememberRecentFile } from './recent-files.ts';
import type { CrrProblem, RebuildOptions, SchemaChange, SchemaChangePreview, SqlRunRequest, SqlRunResult } from '../../shared/api.ts';
import { runScript } from './sql-console.ts';
import { SqlHistory } from './sql-history.ts';
import { planChange } from './schema-edit.ts';
import { planStatements, runPlanned } from './schema-plan.ts';
import { crrProblems } from './crr-problems.ts';
import { SchemaChanges } from './schema-changes.ts';
import type {
  AppSettings, DirectoryListing, DroppedColumnHistory, ExportRequest, ExportResult, FileChoice, FileImportRequest, ImportFormat, ImportPreview, ReferencingRows,
  SchemaChangesView, ThemeChoice,
} from '../../shared/api.ts';
import { exportRows } from './export-files.ts';
import { importCsvText, importFile, previewImport, type ImportDeps } from './import-files.ts';
import { listDirectory } from './file-browser.ts';
import { announcedName, SettingsFile } from './app-settings.ts';
import { referencingRows } from './foreign-keys.ts';
import { mergeTexts } from '../../shared/text-edits.ts';

type Listener = <E extends keyof ApiEvents>(event: E, payload: ApiEvents[E]) => void;

export interface ServiceOptions {
  /** where recently opened files are remembered (the shells pass the data folder; tests none) */
  recentFilesDir?: string;
}

export class DatabaseService {
  constructor(private readonly options: ServiceOptions = {}) {
    this.settings = new SettingsFile(options.recentFilesDir);
  }

  private db: Database.Database | null = null;
  private engine: CrrEngine | null = null;
  private plainWatch: PlainTablesWatch | null = null;
  /** numbered orders of the sorted and filtered views the grid reads (temp tables of this connection) */
  private orders: ViewOrders | null = null;
  private info: DatabaseInfo | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly settings: SettingsFile;
  private readonly sync = new SyncControl((event, payload) => this.emit(event, payload), () => announcedName(this.settings.read()));
  private historyCalls: HistoryCalls | null = null;
  private conflictsTimer: NodeJS.Timeout | null = null;
  private pruneTimer: NodeJS.Timeout | null = null;

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit<E extends keyof ApiEvents>(event: E, payload: ApiEvents[E]): void {
    for (const l of this.listeners) l(event, payload);
  }

  async recentFiles(): Promise<string[]> {
    return this.options.recentFilesDir ? readRecentFiles(this.options.recentFilesDir) : [];
  }

  async openDatabase(p: { path: string; create?: boolean }): Promise<DatabaseInfo> {
    if (typeof p?.path !== 'string' || p.path === '') throw new ApiError('invalid-argument', 'A file path is required.');
    const { db, readOnly } = openDatabaseFile(p.path, p.create ?? false);
    let engine: CrrEngine | null = null;
    if (!readOnly) {
      try {
        db.pragma('journal_mode = WAL');
        engine = installCrr(db);
      } catch (err) {
        db.close();
        throw new ApiError('sql-error', `Could not prepare ${p.path} for collaboration: ${(err as Error).message}`);
      }
    }
    this.close();
    this.db = db;
    this.engine = engine;
    this.orders = new ViewOrders(db);
    this.plainWatch = new PlainTablesWatch(db, (t) => engine?.isCrr(t) ?? false, (e) => this.emit('rowsChanged', e));
    this.historyCalls = engine ? new HistoryCalls(engine, (site) => this.sync.siteName(site)) : null;
    engine?.onCommit(() => this.conflictsMayHaveChanged());
    engine?.history.onChange(() => this.conflictsMayHaveChanged());
    // history retention (crr_state.history_retention versions per cell): soon after opening, then hourly
    if (engine) this.schedulePrune(engine, 10_000);
    engine?.onCommit((e) =>
      this.emit('rowsChanged', {
        tables: e.tables,
        origin: e.origin === 'merge' ? 'remote' : e.origin,
        site: e.origin === 'merge' && e.sites[0] ? bytesToHex(e.sites[0]) : null,
        // the user's own edits need no flash
        cells: e.origin === 'local' ? null : changedCells(engine, e),
      }),
    );
    this.info = {
      path: p.path,
      name: basename(p.path),
      siteId: engine ? bytesToHex(engine.siteId) : '',
      databaseId: '',
      readOnly,
    };
    await this.sync.attach(db, engine);
    this.info.databaseId = this.sync.databaseId;
    if (this.options.recentFilesDir) rememberRecentFile(this.options.recentFilesDir, p.path);
    this.emit('databaseOpened', this.info);
    return this.info;
  }

  // ---- LAN sync (main/sync) ----
  async shareDatabase(): Promise<{ invite: string }> {
    const invite = await this.sync.share(this.writable(), this.engine);
    if (this.info) this.info.databaseId = this.sync.databaseId;
    return { invite };
  }

  /** Creates `path` as a copy of the invite's database and keeps it syncing. */
  async joinDatabase(p: { invite: string; path: string }): Promise<DatabaseInfo> {
    const invite = SyncControl.parseInvite(p?.invite);
    if (p?.path !== undefined && typeof p.path !== 'string') throw new ApiError('invalid-argument', 'The path to save the joined database must be text.');
    const path = p?.path?.trim() || join(dataDir(), `shared-${invite.databaseId.slice(0, 8)}.db`);
    if (existsSync(path) && statSync(path).size > 0) {
      throw new ApiError('invalid-argument', `${path} already exists: joining creates a new file, choose another name.`);
    }
    const info = await this.openDatabase({ path, create: true });
    await this.sync.join(this.open(), this.engine!, invite);
    info.databaseId = this.sync.databaseId;
    return info;
  }

  async rotateShareKey(): Promise<{ invite: string }> {
    return { invite: this.sync.rotate() };
  }

  async listPeers(): Promise<PeerInfo[]> {
    return this.sync.peers();
  }

  async syncStatus(): Promise<SyncStatus> {
    return this.sync.status();
  }

  async dialPeer(p: { address: string }): Promise<void> {
    await this.sync.dial(p?.address);
  }

  async setSyncPaused(p: { paused: boolean }): Promise<SyncStatus> {
    return this.sync.setPaused(p?.paused === true);
  }

  // ---- schema changes from peers (schema-changes.ts) ----
  private schemaChangesOf(): SchemaChanges {
    const db = this.open();
    if (!this.engine) throw new ApiError('read-only', 'This database is open read-only: it takes no schema changes.');
    return new SchemaChanges(db, this.engine, (site) => this.sync.siteName(site));
  }

  async schemaChanges(): Promise<SchemaChangesView> {
    return this.schemaChangesOf().view();
  }

  async confirmSchemaChange(p: { id: string }): Promise<SchemaChangesView> {
    this.writable();
    const view = this.schemaChangesOf().confirm(p?.id);
    this.emit('tablesChanged', {});
    return view;
  }

  async setSchemaAutoApply(p: { on: boolean }): Promise<SchemaChangesView> {
    this.writable();
    const view = this.schemaChangesOf().setAutoApply(p?.on);
    this.emit('tablesChanged', {});
    return view;
  }

  // ---- cell history, conflicts and merge policies (main/crr/HISTORY.md) ----
  private history(): HistoryCalls {
    this.open();
    if (!this.historyCalls) throw new ApiError('read-only', 'This database is open read-only: it has no collaboration history here.');
    return this.historyCalls;
  }

  private schedulePrune(engine: CrrEngine, delayMs: number): void {
    this.pruneTimer = setTimeout(() => {
      if (this.engine !== engine) return;
      try {
        const removed = engine.history.prune();
        if (removed) console.log(`history: pruned ${removed} old cell versions`);
      } catch (err) {
        console.error('history pruning failed (will retry):', (err as Error).message);
      }
      this.schedulePrune(engine, 3_600_000);
    }, delayMs);
    this.pruneTimer.unref();
  }

  /** Tells the renderer how many conflicts wait, at most every 250 ms. */
  private conflictsMayHaveChanged(): void {
    this.conflictsTimer ??= setTimeout(() => {
      this.conflictsTimer = null;
      if (this.historyCalls) this.emit('conflictsChanged', { unresolved: this.historyCalls.unresolved() });
    }, 250);
  }

  async cellHistory(p: CellRef): Promise<CellVersion[]> {
    return this.history().cellHistory(p);
  }

  async listConflicts(p: { table?: string; includeResolved?: boolean }): Promise<Conflict[]> {
    return this.history().listConflicts(p ?? {});
  }

  async resolveConflict(p: { id: string; keepSite: string }): Promise<void> {
    this.writable();
    this.history().resolveConflict(p);
  }

  async mergePolicies(p: { table: string }): Promise<Record<string, MergePolicy>> {
    return this.history().mergePolicies(p);
  }

  async counterContributions(p: CellRef): Promise<CounterContribution[]> {
    return this.history().counterContributions(p);
  }

  async setMergePolicy(p: { table: string; column: string; policy: MergePolicy }): Promise<void> {
    this.writable();
    this.history().setMergePolicy(p);
    this.conflictsMayHaveChanged();
  }

  async tableActivity(p: { table: string; limit?: number }): Promise<ActivityEntry[]> {
    return this.history().tableActivity(p);
  }

  async droppedHistory(p: { table: string; key: WireValue[] }): Promise<DroppedColumnHistory[]> {
    return this.history().droppedHistory(p);
  }

  // ---- structure editing, rebuilds and the writable SQL console (issue 14) ----
  private sqlHistoryStore: SqlHistory | null = null;
  private get sqlHistories(): SqlHistory {
    return (this.sqlHistoryStore ??= new SqlHistory(this.options.recentFilesDir));
  }

  /** Tells the renderer what a script or a structure change did: tables and rows may have changed. */
  private schemaOrRowsChanged(schemaChanged: boolean, wrote: boolean): void {
    if (schemaChanged) this.emit('tablesChanged', {});
    if (!wrote && !schemaChanged) return;
    // the engine announces its tables' commits; the plain ones are announced here
    const plain = userTableNames(this.open()).filter((t) => !this.engine?.isCrr(t));
    if (plain.length) this.emit('rowsChanged', { tables: plain, origin: 'local', site: null, cells: null });
  }

  async runSql(p: SqlRunRequest): Promise<SqlRunResult> {
    const db = this.open();
    // remembered before it runs: a script that failed is the one to fix and run again
    if (typeof p?.sql === 'string') this.sqlHistories.add(this.info!.path, p.sql);
    const result = runScript(db, this.engine, p);
    this.schemaOrRowsChanged(result.schemaChanged, result.statements.some((s) => s.kind !== 'read'));
    return result;
  }

  async sqlHistory(): Promise<string[]> {
    this.open();
    return this.sqlHistories.list(this.info!.path);
  }

  async previewSchemaChange(p: { change: SchemaChange }): Promise<SchemaChangePreview> {
    const db = this.writable();
    const plan = runPlanned(db, this.engine, (ctx) => planChange(db, this.engine, ctx, p?.change), { dryRun: true });
    return { statements: planStatements(plan), notes: plan.notes };
  }

  async applySchemaChange(p: { change: SchemaChange; expect: string[]; enableCrr?: boolean }): Promise<TableInfo[]> {
    const db = this.writable();
    if (!Array.isArray(p?.expect)) throw new ApiError('invalid-argument', 'Preview the change first: expect holds the statements shown.');
    const table = p.change?.kind === 'copy-table' ? p.change.to : p.change?.table;
    runPlanned(db, this.engine, (ctx) => planChange(db, this.engine, ctx, p.change), {
      dryRun: false,
      expect: p.expect,
      after: p.enableCrr ? () => this.engine?.asCrr(table) : undefined,
    });
    this.schemaOrRowsChanged(true, true);
    return this.listTables();
  }

  async crrProblems(p: { table: string }): Promise<{ problems: CrrProblem[]; fix: RebuildOptions | null }> {
    return crrProblems(this.open(), p?.table);
  }

  // ---- find and foreign keys (issue 15: habits; the filters themselves are in row-filters.ts) ----
  async referencingRows(p: { table: string; key: WireValue[] }): Promise<ReferencingRows[]> {
    return referencingRows(this.open(), p?.table, p?.key);
  }

  async currentDatabase(): Promise<DatabaseInfo | null> {
    return this.info;
  }

  close(): void {
    this.sync.detach();
    if (this.conflictsTimer) clearTimeout(this.conflictsTimer);
    this.conflictsTimer = null;
    if (this.pruneTimer) clearTimeout(this.pruneTimer);
    this.pruneTimer = null;
    this.historyCalls = null;
    this.plainWatch?.close();
    this.plainWatch = null;
    this.engine?.close();
    this.db?.close();
    this.db = null;
    this.orders = null;
    this.engine = null;
    this.info = null;
  }

  private open(): Database.Database {
    if (!this.db) throw new ApiError('no-database', 'No database is open.');
    return this.db;
  }

  private writable(): Database.Database {
    const db = this.open();
    if (this.info?.readOnly) throw new ApiError('read-only', `${this.info.name} is read-only: it cannot be changed here.`);
    return db;
  }

  async listTables(): Promise<TableInfo[]> {
    return listTables(this.open(), this.engine);
  }

  async tableSchema(p: { table: string }): Promise<TableSchema> {
    return tableSchema(this.open(), this.engine, p?.table);
  }

  async readRows(p: RowWindowRequest): Promise<RowWindow> {
    return readRows(this.open(), tableShape(this.open(), p?.table), p, this.orders ?? undefined);
  }

  async countRows(p: RowQuery): Promise<number> {
    return countRows(this.open(), tableShape(this.open(), p?.table), p, this.orders ?? undefined);
  }

  async rowPosition(p: RowQuery & { key: WireValue[] }): Promise<number | null> {
    return rowPosition(this.open(), tableShape(this.open(), p?.table), p, this.orders ?? undefined);
  }

  private keyWhere(schema: TableShape, key: WireValue[]): { sql: string; params: unknown[] } {
    if (!Array.isArray(key) || key.length !== schema.keyColumns.length) {
      throw new ApiError('invalid-argument', `A row of ${schema.name} is identified by ${schema.keyColumns.join(', ')}.`);
    }
    return {
      sql: schema.keyColumns.map((k) => `${k === 'rowid' ? 'rowid' : quoteId(k)} IS ?`).join(' AND '),
      params: key.map((v) => bind(fromWire(v))),
    };
  }

  private readRow(schema: TableShape, where: { sql: string; params: unknown[] }): Row {
    const db = this.open();
    const keys = schema.keyColumns.map((k) => (k === 'rowid' ? 'rowid' : quoteId(k)));
    const r = db
      .prepare(`SELECT ${keys.join(', ')}, ${schema.columns.map((c) => quoteId(c.name)).join(', ')} FROM ${quoteId(schema.name)} WHERE ${where.sql}`)
      .raw()
      .safeIntegers(true)
      .get(...where.params) as unknown[] | undefined;
    if (!r) throw new ApiError('not-found', `That row of ${schema.name} no longer exists.`);
    const w = (v: unknown) => toWire(v instanceof Uint8Array ? new Uint8Array(v) : (v as SqlValue));
    return { key: r.slice(0, keys.length).map(w), values: r.slice(keys.length).map(w) };
  }

  /** One write transaction on `table`; listeners hear of it once committed. */
  private write<T>(table: string, fn: () => T): T {
    try {
      const result = this.writable().transaction(fn)();
      this.plainWatch?.wrote(table);
      return result;
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const message = (err as Error).message;
      if (/constraint/i.test(message)) throw new ApiError('constraint', message);
      throw new ApiError('sql-error', message);
    }
  }

  /** Refuses when a cell no longer holds what an undo or redo expects (same storage class and value). */
  private assertHolds(schema: TableShape, where: { sql: string; params: unknown[] }, column: string, expected: WireValue): void {
    const v = bind(fromWire(expected));
    const holds = this.open()
      .prepare(`SELECT typeof(${quoteId(column)}) = typeof(?) AND ${quoteId(column)} IS ? FROM ${quoteId(schema.name)} WHERE ${where.sql}`)
      .pluck()
      .get(v, v, ...where.params);
    if (holds === undefined) throw new ApiError('not-found', `That row of ${schema.name} no longer exists.`);
    if (!holds) throw new ApiError('changed', `${column} of that row of ${schema.name} was changed by someone else since; it was left as it is.`);
  }

  async updateCell(p: CellRef & { value: WireValue; expected?: WireValue; mergeFrom?: WireValue }): Promise<Row> {
    const schema = tableShape(this.open(), p?.table);
    if (!schema.columns.some((c) => c.name === p.column)) throw new ApiError('invalid-argument', `${schema.name} has no column ${JSON.stringify(p.column)}.`);
    const where = this.keyWhere(schema, p.key);
    let value: unknown = bind(fromWire(p.value));
    return this.write(schema.name, () => {
      if (p.expected !== undefined) this.assertHolds(schema, where, p.column, p.expected);
      if (p.mergeFrom !== undefined) value = this.mergedEdit(schema.name, p.column, where, fromWire(p.mergeFrom), value);
      const changed = this.open()
        .prepare(`UPDATE ${quoteId(schema.name)} SET ${quoteId(p.column)} = ? WHERE ${where.sql}`)
        .run(value, ...where.params).changes;
      if (changed === 0) throw new ApiError('not-found', `That row of ${schema.name} no longer exists.`);
      const keyChanged = schema.keyColumns.includes(p.column);
      const newKey = keyChanged ? schema.keyColumns.map((k, i) => (k === p.column ? p.value : p.key[i])) : p.key;
      return this.readRow(schema, this.keyWhere(schema, newKey));
    });
  }

  /**
   * What an editor's value means for a counter or text column (merge policies): a counter gets
   * the change made in the editor (value − from) added to what it holds now; a text gets its
   * edits (from → value) merged with what others wrote since. Other columns: the value as it is.
   */
  private mergedEdit(table: string, column: string, where: { sql: string; params: unknown[] }, from: SqlValue, value: unknown): unknown {
    const policy = this.historyCalls?.policyOf(table, column);
    if (policy !== 'counter' && policy !== 'text') return value;
    const db = this.open();
    const now = db.prepare(`SELECT ${quoteId(column)} FROM ${quoteId(table)} WHERE ${where.sql}`).safeIntegers(true).pluck().get(...where.params);
    const num = (v: unknown) => typeof v === 'bigint' || typeof v === 'number';
    if (policy === 'counter' && num(now) && num(from) && num(value)) return db.prepare('SELECT ? + (? - ?)').safeIntegers(true).pluck().get(now, value, from);
    if (policy === 'text' && typeof from === 'string' && typeof value === 'string' && typeof now === 'string' && now !== from) return mergeTexts(from, value, now).text;
    return value;
  }

  /** Several cells of one table (a paste), all or nothing, in one transaction. */
  async updateCells(p: { table: string; cells: { key: WireValue[]; column: string; value: WireValue; expected?: WireValue }[] }): Promise<number> {
    const schema = tableShape(this.open(), p?.table);
    if (!Array.isArray(p.cells)) throw new ApiError('invalid-argument', 'cells must be a list.');
    for (const c of p.cells) {
      if (!schema.columns.some((col) => col.name === c?.column)) throw new ApiError('invalid-argument', `${schema.name} has no column ${JSON.stringify(c?.column)}.`);
      if (schema.keyColumns.includes(c.column)) throw new ApiError('invalid-argument', `Pasting into the key column ${c.column} is not supported: edit key cells one at a time.`);
    }
    return this.write(schema.name, () => {
      for (const c of p.cells) {
        const where = this.keyWhere(schema, c.key);
        if (c.expected !== undefined) this.assertHolds(schema, where, c.column, c.expected);
        const changed = this.open()
          .prepare(`UPDATE ${quoteId(schema.name)} SET ${quoteId(c.column)} = ? WHERE ${where.sql}`)
          .run(bind(fromWire(c.value)), ...where.params).changes;
        if (changed === 0) throw new ApiError('not-found', `A row of ${schema.name} being pasted into no longer exists.`);
      }
      return p.cells.length;
    });
  }

  async insertRow(p: { table: string; values: Record<string, WireValue> }): Promise<Row> {
    const schema = tableShape(this.open(), p?.table);
    const names = Object.keys(p.values ?? {});
    for (const n of names) if (!schema.columns.some((c) => c.name === n)) throw new ApiError('invalid-argument', `${schema.name} has no column ${JSON.stringify(n)}.`);
    return this.write(schema.name, () => {
      const sql = names.length
        ? `INSERT INTO ${quoteId(schema.name)} (${names.map(quoteId).join(', ')}) VALUES (${names.map(() => '?').join(', ')})`
        : `INSERT INTO ${quoteId(schema.name)} DEFAULT VALUES`;
      const rowid = this.open().prepare(sql).run(...names.map((n) => bind(fromWire(p.values[n])))).lastInsertRowid;
      // WITHOUT ROWID tables have no rowid: find the row by the key the caller gave
      const byKey = schema.keyColumns.every((k) => k in p.values);
      return this.readRow(schema, byKey ? this.keyWhere(schema, schema.keyColumns.map((k) => p.values[k])) : { sql: 'rowid = ?', params: [rowid] });
    });
  }

  async deleteRows(p: { table: string; keys: WireValue[][]; expected?: Record<string, WireValue>[] }): Promise<number> {
    const schema = tableShape(this.open(), p?.table);
    if (!Array.isArray(p.keys)) throw new ApiError('invalid-argument', 'keys must be a list of row keys.');
    const wheres = p.keys.map((k) => this.keyWhere(schema, k));
    return this.write(schema.name, () => {
      let n = 0;
      wheres.forEach((w, i) => {
        for (const [column, value] of Object.entries(p.expected?.[i] ?? {})) {
          if (!schema.columns.some((c) => c.name === column)) throw new ApiError('invalid-argument', `${schema.name} has no column ${JSON.stringify(column)}.`);
          this.assertHolds(schema, w, column, value);
        }
      });
      for (const w of wheres) n += this.open().prepare(`DELETE FROM ${quoteId(schema.name)} WHERE ${w.sql}`).run(...w.params).changes;
      return n;
    });
  }

  async runQuery(p: QueryWindowRequest): Promise<QueryResult> {
    return queryWindow(this.open(), p);
  }

  async countQuery(p: { sql: string }): Promise<number> {
    return queryCount(this.open(), p?.sql);
  }

  // ---- files: export, import, the file picker; install settings (issue 15) ----
  private importDeps(): ImportDeps {
    return { db: this.writable(), write: (table, fn) => this.write(table, fn), onCreated: () => this.emit('tablesChanged', {}) };
  }

  /** Streams a table or the view as shown to a file (export-files.ts). */
  async exportRows(p: ExportRequest): Promise<ExportResult> {
    this.open();
    return exportRows(this.info!.path, p);
  }

  async previewImport(p: { path: string; format?: ImportFormat }): Promise<ImportPreview> {
    return previewImport(p);
  }

  async importFile(p: FileImportRequest): Promise<{ inserted: number }> {
    return importFile(this.importDeps(), p);
  }

  /** Imports CSV text into a table (created with the header's columns if asked), in one transaction. */
  async importCsv(p: CsvImportRequest): Promise<{ inserted: number }> {
    return importCsvText(this.importDeps(), p);
  }

  async listDirectory(p: { path?: string; hidden?: boolean }): Promise<DirectoryListing> {
    return listDirectory(p ?? {});
  }

  /** No native dialog here: the Electron shell answers this call itself (electron-main.ts). */
  async chooseFile(_p: FileChoice): Promise<{ native: boolean; path: string | null }> {
    return { native: false, path: null };
  }

  async appSettings(): Promise<AppSettings> {
    return this.settings.read();
  }

  async setAppSettings(p: { theme?: ThemeChoice; displayName?: string }): Promise<AppSettings> {
    const before = announcedName(this.settings.read());
    const next = this.settings.update(p ?? {});
    if (announcedName(next) !== before) this.sync.rename();
    return next;
  }

  async enableCrr(p: { table: string }): Promise<TableInfo> {
    this.writable();
    const schema = tableShape(this.open(), p?.table);
    try {
      this.engine!.asCrr(schema.name);
    } catch (err) {
      if (err instanceof CrrRefusal) throw new ApiError('crr-refused', err.message);
      throw new ApiError('sql-error', (err as Error).message);
    }
    this.emit('tablesChanged', {});
    return (await this.listTables()).find((t) => t.name === schema.name)!;
  }

  async disableCrr(p: { table: string }): Promise<TableInfo> {
    this.writable();
    const schema = tableShape(this.open(), p?.table);
    this.engine!.asTable(schema.name);
    this.emit('tablesChanged', {});
    return (await this.listTables()).find((t) => t.name === schema.name)!;
  }
}
