// The replicated schema log: one entry per schema change of a collaborative table (add, rename
// or drop a column, rename or drop a table, share or stop sharing one, create or drop a plain
// index), however it was made (this connection, the sqlite3 CLI, any program), derived by the
// schema keeper when it notices the schema changed (schema-repair.ts).
//
// An entry is named by its origin site and a Lamport clock over the log (the next one is the
// highest seen + 1), so every replica orders entries the same way and one made after seeing
// another sorts after it. Replicas exchange what they lack by version vectors (per origin, the
// highest clock held): each holds a prefix of every origin's entries, because entries are only
// ever sent as "everything of that origin after the clock you hold" and taken whole in one
// transaction. A replica relays every entry it holds, applied or not. The log is apart from the
// db_version clock (cr-sqlite's, which a schema change does not move): sync sends a peer the
// entries it lacks before any changes (main/sync/session.ts).
//
// Applying (schema-apply.ts) is this copy's decision: additive changes are applied at once;
// destructive ones wait for the user's confirmation (or the per-database setting
// "apply schema changes from peers automatically", crr_state schema_auto_apply); what cannot apply
// now is a conflict with the reason, tried again after every schema change. Changes of peers that
// name a renamed table or column are routed to the new name; changes of a column dropped here
// keep their versions readable (dropped-columns.ts) instead of waiting forever.
import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import type { Change, CrrSchemaLog, SchemaChangeKind, SchemaEntry, SchemaRecord, SchemaRoute, SchemaSummary } from './types.ts';
import type { SqlValue } from '../../shared/values.ts';
import type { TableInfo } from './table-info.ts';
import { ChangeRefused, MAX_CLOCK } from './input-limits.ts';
import { unpackPrimaryKey } from './pack-pk.ts';
import { fromSqlite } from './change-pages.ts';
import { evaluate, isDestructive, summaryOf, type ApplyContext } from './schema-apply.ts';
import { createDroppedSql, insertDroppedSql, readDroppedSql } from './dropped-columns.ts';
import { notifyAll } from './notify.ts';

export const SCHEMA_LOG_SQL = `
CREATE TABLE IF NOT EXISTS crr_schema_log (site BLOB NOT NULL, clock INTEGER NOT NULL, entry TEXT NOT NULL,
  db_version INTEGER NOT NULL, seen_at INTEGER NOT NULL, state TEXT NOT NULL, reason TEXT,
  PRIMARY KEY (site, clock)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS crr_schema_log_v ON crr_schema_log (db_version);
INSERT OR IGNORE INTO crr_state (key, value) VALUES ('schema_auto_apply', 0);
`;

/** An entry from a peer may be at most this far ahead of this log's clock (honest logs count changes). */
export const MAX_SCHEMA_CLOCK_JUMP = 1 << 20;

/** A change the schema keeper noticed, before it has a name in the log. */
export type SchemaEvent = Omit<SchemaEntry, 'site_id' | 'clock' | 'written_at'>;

const KINDS = new Set<SchemaChangeKind>(['share-table', 'add-column', 'rename-column', 'drop-column', 'rename-table', 'drop-table', 'stop-sharing', 'create-index', 'drop-index']);
/** the fields each kind needs besides its table */
const NEEDS: Record<SchemaChangeKind, (keyof SchemaEntry)[]> = {
  'share-table': ['sql'],
  'add-column': ['column'],
  'rename-column': ['column', 'to'],
  'drop-column': ['column'],
  'rename-table': ['to'],
  'drop-table': [],
  'stop-sharing': [],
  'create-index': ['index', 'sql'],
  'drop-index': ['index'],
};
const TEXT_FIELDS = ['table', 'column', 'to', 'type', 'index', 'sql'] as const;
const MAX_TEXT = 100_000;

/** Throws ChangeRefused unless `e` is an entry this engine could have written. */
function checkEntry(e: SchemaEntry, i: number): void {
  const where = `schema entry ${i}`;
  if (!e || typeof e !== 'object') throw new ChangeRefused(`${where}: not an object`);
  if (!(e.site_id instanceof Uint8Array) || e.site_id.length !== 16) throw new ChangeRefused(`${where}: site_id must be 16 bytes`);
  if (!Number.isSafeInteger(e.clock) || e.clock < 1 || e.clock > MAX_CLOCK) throw new ChangeRefused(`${where}: clock must be an integer from 1 to 2^48`);
  if (!KINDS.has(e.kind)) throw new ChangeRefused(`${where}: unknown kind ${JSON.stringify(e.kind)}`);
  for (const f of TEXT_FIELDS) {
    const v = e[f];
    if (v !== undefined && (typeof v !== 'string' || v.length > MAX_TEXT)) throw new ChangeRefused(`${where}: ${f} must be text`);
  }
  if (!e.table) throw new ChangeRefused(`${where}: no table`);
  for (const f of NEEDS[e.kind]) if (!e[f]) throw new ChangeRefused(`${where}: ${e.kind} needs ${f}`);
  if (e.notNull !== undefined && typeof e.notNull !== 'boolean') throw new ChangeRefused(`${where}: notNull must be true or false`);
  if (e.default !== undefined && e.default !== null && (typeof e.default !== 'string' || e.default.length > MAX_TEXT)) throw new ChangeRefused(`${where}: default must be text or null`);
  if (!Number.isSafeInteger(e.written_at)) throw new ChangeRefused(`${where}: written_at must be an integer`);
}

/** The stored JSON of an entry: everything but its name. */
function entryJson(e: SchemaEvent & { written_at: number }): string {
  const { kind, table, column, to, type, notNull, default: dflt, index, sql, written_at } = e;
  return JSON.stringify({ kind, table, column, to, type, notNull, default: dflt, index, sql, written_at });
}

export interface SchemaLogContext {
  db: Database.Database;
  prepare: (sql: string) => Database.Statement;
  /** the engine's transaction (seals, then tells listeners) */
  transaction: <T>(fn: () => T) => T;
  /** a raw IMMEDIATE transaction, a savepoint when one is open */
  inTx: <T>(fn: () => T) => T;
  siteId: Uint8Array;
  tables: () => Map<string, TableInfo>;
  /** record what the schema keeper noticed first (before a peer's entry changes the schema) */
  ensureCurrent: () => void;
  /** DDL applied for a peer's entry: through the engine's guard, re-derived, not logged again */
  apply: {
    alter: (sql: string) => void;
    ddl: (sql: string) => void;
    asCrr: (table: string) => void;
    asTable: (table: string) => void;
  };
  /** this replica's last committed db_version */
  version: () => number;
}

type Row = { site: Buffer; clock: number; entry: string; db_version: number; seen_at: number; state: SchemaRecord['state']; reason: string | null };

export function createSchemaLog(ctx: SchemaLogContext) {
  const listeners = new Set<() => void>();
  let dirty = false;
  let routes: Routes | null = null;
  const q = {
    maxClock: ctx.prepare('SELECT coalesce(max(clock), 0) FROM crr_schema_log').pluck().safeIntegers(false),
    insert: ctx.prepare('INSERT OR IGNORE INTO crr_schema_log (site, clock, entry, db_version, seen_at, state, reason) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    setState: ctx.prepare('UPDATE crr_schema_log SET state = ?, reason = ? WHERE site = ? AND clock = ? AND (state IS NOT ? OR reason IS NOT ?)'),
    one: ctx.prepare('SELECT * FROM crr_schema_log WHERE site = ? AND clock = ?').safeIntegers(false),
    all: ctx.prepare('SELECT * FROM crr_schema_log ORDER BY clock, site').safeIntegers(false),
    vector: ctx.prepare('SELECT site, max(clock) AS clock FROM crr_schema_log GROUP BY site').safeIntegers(false),
    open: ctx.prepare('SELECT * FROM crr_schema_log WHERE state <> ? ORDER BY clock, site').safeIntegers(false),
    counts: ctx.prepare(`SELECT count(*) FILTER (WHERE state = 'applied') AS applied, count(*) FILTER (WHERE state <> 'applied') AS waiting FROM crr_schema_log`).safeIntegers(false),
    auto: ctx.prepare(`SELECT value FROM crr_state WHERE key = 'schema_auto_apply'`).pluck().safeIntegers(false),
    setAuto: ctx.prepare(`INSERT INTO crr_state (key, value) VALUES ('schema_auto_apply', ?) ON CONFLICT DO UPDATE SET value = excluded.value`),
    schemaVersion: ctx.prepare('PRAGMA schema_version').pluck().safeIntegers(false),
    site: ctx.prepare('INSERT OR IGNORE INTO crr_sites (site_id) VALUES (?)'),
    siteOrd: ctx.prepare('SELECT ord FROM crr_sites WHERE site_id = ?').pluck().safeIntegers(false),
    index: ctx.prepare(`SELECT tbl_name AS "table", (SELECT "unique" FROM pragma_index_list(tbl_name) l WHERE l.name = s.name) AS "unique"
      FROM sqlite_schema s WHERE type = 'index' AND name = ?`).safeIntegers(false),
    tableExists: ctx.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck(),
    columns: ctx.prepare('SELECT name, type, pk FROM pragma_table_info(?)').safeIntegers(false),
  };

  function toRecord(r: Row): SchemaRecord {
    const e = JSON.parse(r.entry) as Omit<SchemaEntry, 'site_id' | 'clock'>;
    const entry: SchemaEntry = { ...e, site_id: new Uint8Array(r.site), clock: r.clock };
    for (const k of Object.keys(entry) as (keyof SchemaEntry)[]) if (entry[k] === undefined || entry[k] === null) if (k !== 'default') delete entry[k];
    return { ...entry, state: r.state, reason: r.reason, db_version: r.db_version, seen_at: r.seen_at, destructive: isDestructive(e.kind), summary: summaryOf(e) };
  }

  const plain = (r: SchemaRecord): SchemaEntry => {
    const { state: _s, reason: _r, db_version: _v, seen_at: _a, destructive: _d, summary: _m, ...e } = r;
    return e;
  };

  function changed(): void {
    dirty = true;
    routes = null;
  }

  /** Records what this replica's schema keeper noticed; inside its transaction. */
  function record(events: SchemaEvent[]): void {
    if (!events.length) return;
    const version = ctx.version();
    let clock = q.maxClock.get() as number;
    const now = Date.now();
    for (const e of events) {
      q.insert.run(Buffer.from(ctx.siteId), ++clock, entryJson({ ...e, written_at: now }), version, now, 'applied', null);
    }
    changed();
  }

  const applyContext: ApplyContext = {
    tableExists: (t) => q.tableExists.get(t) !== undefined,
    isCrr: (t) => ctx.tables().has(t),
    columns: (t) => {
      if (!ctx.tables().has(t)) return null;
      const rows = q.columns.all(t) as { name: string; type: string; pk: number }[];
      return new Map(rows.map((r) => [r.name, { type: r.type, pk: r.pk > 0 }]));
    },
    index: (name) => {
      const r = q.index.get(name) as { table: string; unique: number | null } | undefined;
      return r ? { table: r.table, unique: r.unique === 1 } : null;
    },
    savepoint: (fn) => ctx.inTx(fn),
    alter: ctx.apply.alter,
    ddl: ctx.apply.ddl,
    asCrr: ctx.apply.asCrr,
    asTable: ctx.apply.asTable,
    autoApply: () => q.auto.get() === 1,
  };

  function setState(r: SchemaRecord, state: SchemaRecord['state'], reason: string | null): void {
    q.setState.run(state, reason, Buffer.from(r.site_id), r.clock, state, reason);
  }

  /**
   * A destructive entry that a later one undoes (a table shared again after it was unshared or
   * dropped, a column of that name added again): nothing is left for it to do here.
   */
  function superseded(e: SchemaRecord, all: SchemaRecord[]): boolean {
    if (!e.destructive) return false;
    const later = all.filter((x) => x.clock > e.clock || (x.clock === e.clock && Buffer.compare(Buffer.from(x.site_id), Buffer.from(e.site_id)) > 0));
    if (e.kind === 'drop-column') return later.some((x) => x.kind === 'add-column' && x.table === e.table && x.column === e.column);
    return later.some((x) => x.kind === 'share-table' && x.table === e.table);
  }

  /** Entries not applied here, tried again in log order; returns how many applied. */
  function retryOpen(): number {
    let n = 0;
    for (;;) {
      let progress = false;
      const all = (q.all.all() as Row[]).map(toRecord);
      for (const r of all.filter((x) => x.state !== 'applied')) {
        const out = superseded(r, all) ? { state: 'applied' as const, reason: 'undone by a later change' } : evaluate(plain(r), applyContext, false);
        if (out.state !== r.state || out.reason !== r.reason) {
          setState(r, out.state, out.reason);
          changed();
        }
        if (out.state === 'applied') {
          n++;
          progress = true;
        }
      }
      // one applied entry may unblock an earlier one (a rename waiting for its column)
      if (!progress) return n;
    }
  }

  function receive(entries: SchemaEntry[], options: { reflected?: (entry: SchemaEntry) => boolean } = {}): number {
    if (!Array.isArray(entries)) throw new ChangeRefused('schema entries must be a list');
    entries.forEach(checkEntry);
    const local = Buffer.from(ctx.siteId);
    const fresh = entries
      .filter((e) => !local.equals(Buffer.from(e.site_id)) && !q.one.get(Buffer.from(e.site_id), e.clock))
      .sort((a, b) => a.clock - b.clock || Buffer.compare(Buffer.from(a.site_id), Buffer.from(b.site_id)));
    if (!fresh.length) return 0;
    const ahead = (q.maxClock.get() as number) + MAX_SCHEMA_CLOCK_JUMP;
    const far = fresh.find((e) => e.clock > ahead);
    if (far) throw new ChangeRefused(`schema entry clock ${far.clock} is far ahead of this log's (${ahead - MAX_SCHEMA_CLOCK_JUMP})`);
    // this copy's own changes are named first: applying a peer's must not be mistaken for them
    ctx.ensureCurrent();
    const version = ctx.version();
    const now = Date.now();
    for (const e of fresh) {
      if (options.reflected?.(e)) {
        q.insert.run(Buffer.from(e.site_id), e.clock, entryJson(e), version, now, 'applied', null);
        continue;
      }
      q.insert.run(Buffer.from(e.site_id), e.clock, entryJson(e), version, now, 'conflict', 'not applied yet');
      const out = evaluate(e, applyContext, false);
      q.setState.run(out.state, out.reason, Buffer.from(e.site_id), e.clock, out.state, out.reason);
    }
    changed();
    retryOpen();
    return fresh.length;
  }

  function confirm(site: Uint8Array, clock: number): void {
    ctx.transaction(() => {
      const row = q.one.get(Buffer.from(site), clock) as Row | undefined;
      if (!row) throw new Error('there is no such schema change here');
      const r = toRecord(row);
      if (r.state === 'applied') return;
      ctx.ensureCurrent();
      const out = evaluate(plain(r), applyContext, true);
      if (out.state !== 'applied') throw new Error(`${r.summary}: ${out.reason}`);
      setState(r, 'applied', null);
      changed();
      retryOpen();
    });
  }

  function summary(): SchemaSummary {
    const c = q.counts.get() as { applied: number; waiting: number };
    return { version: c.applied, waiting: c.waiting, digest: digest() };
  }

  let digestAt = -1;
  let digestValue = '';
  /** the shared tables' names, columns and declared types (order aside: concurrent adds append in different orders) */
  function digest(): string {
    const v = q.schemaVersion.get() as number;
    if (v === digestAt) return digestValue;
    const shape = [...ctx.tables().keys()].sort().map((t) => {
      const cols = (q.columns.all(t) as { name: string; type: string; pk: number }[]).map((c) => `${c.name}:${c.type.toUpperCase()}:${c.pk}`).sort();
      return `${t}(${cols.join(',')})`;
    });
    digestAt = v;
    digestValue = createHash('sha256').update(shape.join(';')).digest('hex').slice(0, 16);
    return digestValue;
  }

  // ---- routing peers' changes through renames and drops ----
  interface Routes {
    tableTo: Map<string, string>;
    columnTo: Map<string, string>;
    dropped: Set<string>;
    conflicts: Map<string, string>;
    removedTables: Set<string>;
    droppedTables: Set<string>;
  }
  const key = (t: string, c: string) => `${t}\u0000${c}`;
  function buildRoutes(): Routes {
    const r: Routes = { tableTo: new Map(), columnTo: new Map(), dropped: new Set(), conflicts: new Map(), removedTables: new Set(), droppedTables: new Set() };
    for (const e of (q.all.all() as Row[]).map(toRecord)) {
      if (e.kind === 'add-column' && e.state === 'conflict' && e.reason?.startsWith('schema conflict')) r.conflicts.set(key(e.table, e.column!), e.reason);
      if (e.state !== 'applied') continue;
      if (e.kind === 'rename-table') r.tableTo.set(e.table, e.to!);
      if (e.kind === 'rename-column') r.columnTo.set(key(e.table, e.column!), e.to!);
      if (e.kind === 'drop-column') r.dropped.add(key(e.table, e.column!));
      if (e.kind === 'rename-table' || e.kind === 'drop-table' || e.kind === 'stop-sharing') r.removedTables.add(e.table);
      if (e.kind === 'drop-table') r.droppedTables.add(e.table);
      if (e.kind === 'share-table') {
        r.removedTables.delete(e.table);
        r.droppedTables.delete(e.table);
      }
    }
    return r;
  }

  function route(table: string, cid: string): SchemaRoute {
    const r = (routes ??= buildRoutes());
    const tables = ctx.tables();
    let t = table;
    for (let i = 0; i < 64 && !tables.has(t) && r.tableTo.has(t); i++) t = r.tableTo.get(t)!;
    const info = tables.get(t);
    // dropped here (by this copy's user, or confirmed): a peer that has not applied it yet still writes it
    // (an unshared table stays: its changes wait, shown, in case it is shared again)
    if (!info && r.droppedTables.has(t) && q.tableExists.get(t) === undefined) return { table: t, cid, dropped: false, conflict: null, removed: true };
    if (cid === '-1' || !info) return { table: t, cid, dropped: false, conflict: null };
    const has = (c: string) => info.columns.includes(c);
    let c = cid;
    for (let i = 0; i < 64 && !has(c); i++) {
      const next = r.columnTo.get(key(t, c)) ?? r.columnTo.get(key(table, c));
      if (next === undefined) break;
      c = next;
    }
    const dropped = !has(c) && (r.dropped.has(key(t, c)) || r.dropped.has(key(table, c)));
    return { table: t, cid: c, dropped, conflict: r.conflicts.get(key(t, c)) ?? null };
  }

  function removed(table: string): boolean {
    return (routes ??= buildRoutes()).removedTables.has(table);
  }

  function ord(site: Uint8Array | null | undefined): number | null {
    if (!site) return null;
    q.site.run(Buffer.from(site));
    return q.siteOrd.get(Buffer.from(site)) as number;
  }

  function keepDropped(changes: Change[]): void {
    const stmts = new Map<string, Database.Statement>();
    const at = ctx.version();
    for (const c of changes) {
      const info = ctx.tables().get(c.table);
      // a counter's contribution or a text's state is no version: the value it made travels as one
      if (!info || c.kind) continue;
      let s = stmts.get(c.table);
      if (!s) {
        ctx.db.exec(createDroppedSql(info));
        stmts.set(c.table, (s = ctx.prepare(insertDroppedSql(info))));
      }
      const pk = unpackPrimaryKey(c.pk);
      if (pk.length !== info.pks.length) continue;
      s.run({
        ...Object.fromEntries(pk.map((v, i) => [`p${i}`, v instanceof Uint8Array ? Buffer.from(v) : v])),
        cid: c.cid,
        at,
        cl: c.cl,
        cv: c.col_version,
        site: ord(c.site_id),
        val: c.val instanceof Uint8Array ? Buffer.from(c.val) : c.val,
        ps: c.parent ? ord(c.parent.site_id) : null,
        pcv: c.parent ? c.parent.col_version : null,
        wa: c.written_at ?? null,
        now: Date.now(),
      });
    }
  }

  function dropped(table: string, pk?: SqlValue[]) {
    const info = ctx.tables().get(table);
    if (!info || q.tableExists.get(`${table}__crr_dropped`) === undefined) return [];
    const rows = ctx
      .prepare(readDroppedSql(info, pk !== undefined))
      .safeIntegers(true)
      .all(pk ? Object.fromEntries(pk.map((v, i) => [`p${i}`, v instanceof Uint8Array ? Buffer.from(v) : v])) : {}) as Record<string, unknown>[];
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return rows.map((r) => ({
      table,
      pk: info.pks.map((_, i) => fromSqlite(r[`p${i}`])),
      cid: String(r.cid),
      cl: Number(r.cl),
      col_version: Number(r.col_version),
      site_id: new Uint8Array(r.site_id as Buffer),
      val: fromSqlite(r.val),
      parent: r.parent_cv === null ? null : { site_id: r.parent_site_id ? new Uint8Array(r.parent_site_id as Buffer) : null, col_version: Number(r.parent_cv) },
      written_at: num(r.written_at),
      seen_at: Number(r.seen_at ?? 0),
      db_version: Number(r.db_version),
      won: false,
      resolves: null,
      dropped_at: Number(r.dropped_at),
    }));
  }

  const api: CrrSchemaLog = {
    vector: () => Object.fromEntries((q.vector.all() as { site: Buffer; clock: number }[]).map((r) => [r.site.toString('hex'), r.clock])),
    missing: (vector) =>
      (q.all.all() as Row[]).filter((r) => r.clock > (vector[r.site.toString('hex')] ?? 0)).map((r) => plain(toRecord(r))),
    receive,
    list: () => (q.all.all() as Row[]).map(toRecord),
    waiting: () => (q.open.all('applied') as Row[]).map(toRecord),
    confirm,
    retry: () => {
      if (!(q.open.all('applied') as Row[]).length) return 0;
      return ctx.transaction(() => retryOpen());
    },
    autoApply: () => q.auto.get() === 1,
    setAutoApply: (on) => {
      ctx.transaction(() => {
        q.setAuto.run(on ? 1 : 0);
        if (on) retryOpen();
      });
      changed();
    },
    summary,
    removed,
    route,
    keepDropped,
    dropped,
    onChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };

  return {
    api,
    record,
    /** the schema changed (routes and the digest are read again) */
    schemaChanged: () => {
      routes = null;
      dirty = true;
    },
    /** after a commit: tell listeners the log or the schema changed */
    flush: () => {
      if (!dirty || ctx.db.inTransaction) return;
      dirty = false;
      notifyAll(listeners, undefined, 'schemaLog.onChange');
    },
  };
}
