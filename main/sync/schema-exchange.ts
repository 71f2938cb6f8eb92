// Peers tell each other the schema of their CRR tables. A table the peer has and this replica
// lacks entirely is created here (that is how a join copies the database, also of files shared
// before the schema log existed), unless this copy's schema log says it was dropped, renamed or
// unshared here; schema changes since travel as schema-log entries (session.ts). Any other
// difference is reported: changes for what is missing are held (sync-store.ts) until the schema
// catches up. Changes naming a renamed table or column are routed to the new name; those of a
// column dropped here are kept readable (the engine's schema log, routeChanges).
import type Database from 'better-sqlite3';
import type { Change, CrrEngine } from '../crr/types.ts';
import { ProtocolError } from './change-codec.ts';
import { unpackPrimaryKey } from '../crr/index.ts';

export interface SharedTable {
  name: string;
  sql: string;
  columns: string[];
}

function columnsOf(db: Database.Database, table: string): string[] {
  return (db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[]);
}

export function describeSchema(db: Database.Database, engine: CrrEngine): SharedTable[] {
  return engine
    .crrTables()
    .sort()
    .map((name) => ({
      name,
      sql: db.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck().get(name) as string,
      columns: columnsOf(db, name),
    }));
}

/**
 * Why a change or history entry cannot be merged into this replica's schema now (it is held until
 * a schema change makes it fit), or null when it can: its table is not a CRR here, lacks its
 * column, or has a primary key of another width. A pk that does not even unpack is left to the
 * engine, which refuses it.
 */
export function heldReason(db: Database.Database, engine: CrrEngine): (item: { table: string; cid: string; pk: Uint8Array }) => string | null {
  const shapes = new Map<string, { columns: Set<string>; pks: number }>();
  const exists = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck();
  // a row's cells share their key object (change-codec.ts)
  const widths = new WeakMap<Uint8Array, number | null>();
  return ({ table, cid, pk }) => {
    if (!engine.isCrr(table)) return exists.get(table) ? `${table} is not collaborative here (not a CRR table)` : `this copy has no table ${table}`;
    let shape = shapes.get(table);
    if (!shape) {
      const info = db.prepare('SELECT name, pk FROM pragma_table_info(?)').all(table) as { name: string; pk: number }[];
      shapes.set(table, (shape = { columns: new Set(info.map((c) => c.name)), pks: info.filter((c) => c.pk > 0).length }));
    }
    if (cid !== '-1' && !shape.columns.has(cid)) return `${table} has no column ${cid} here`;
    // a packed key starts with its column count: unpacked only when that differs, to tell a key
    // of another width from one that does not unpack (the engine's to refuse)
    if (pk[0] === shape.pks) return null;
    let width = widths.get(pk);
    if (width === undefined) {
      try {
        width = unpackPrimaryKey(pk).length;
      } catch {
        width = null;
      }
      widths.set(pk, width);
    }
    if (width !== null && width !== shape.pks) {
      return `${table}: the peer's primary key has ${width} column${width === 1 ? '' : 's'}, this copy's has ${shape.pks}`;
    }
    return null;
  };
}

function checkShape(t: unknown): SharedTable {
  const s = t as SharedTable;
  if (!s || typeof s.name !== 'string' || typeof s.sql !== 'string' || !Array.isArray(s.columns) || !s.columns.every((c) => typeof c === 'string')) {
    throw new ProtocolError('schema: malformed table description');
  }
  return s;
}

function checkTables(theirs: unknown): SharedTable[] {
  if (!Array.isArray(theirs)) throw new ProtocolError('schema: expected a list of tables');
  return theirs.map(checkShape);
}

/**
 * Creates the peer's CRR tables this replica lacks (one transaction) and describes what still
 * differs, for the peer list. Returns the names created.
 */
export function adoptSchema(db: Database.Database, engine: CrrEngine, theirs: unknown): { created: string[]; mismatch: string | null } {
  const tables = checkTables(theirs);
  const created: string[] = [];
  const exists = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck();
  db.transaction(() => {
    for (const t of tables) {
      if (exists.get(t.name) || engine.schemaLog.removed(t.name)) continue;
      if (/^(sqlite_|crr_|crsql_)|__crr_/i.test(t.name) || !/^\s*CREATE\s+TABLE\b/i.test(t.sql)) {
        throw new ProtocolError(`schema: refusing to create table ${JSON.stringify(t.name)}`);
      }
      db.prepare(t.sql).run();
      if (!exists.get(t.name)) throw new ProtocolError(`schema: the statement for ${JSON.stringify(t.name)} created another table`);
      engine.asCrr(t.name, { fromPeer: true });
      created.push(t.name);
    }
  })();
  return { created, mismatch: compareSchema(db, engine, tables) };
}

/** What differs between the peer's shared tables and this copy's, in words (null: nothing). */
export function compareSchema(db: Database.Database, engine: CrrEngine, theirs: unknown): string | null {
  const tables = checkTables(theirs);
  const notes: string[] = [];
  const exists = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck();
  {
    for (const t of tables) {
      if (!exists.get(t.name)) {
        notes.push(`this copy has no table ${t.name}`);
        continue;
      }
      if (!engine.isCrr(t.name)) {
        notes.push(`${t.name} is not shared here (not a CRR table)`);
        continue;
      }
      const mine = new Set(columnsOf(db, t.name));
      const missing = t.columns.filter((c) => !mine.has(c));
      const extra = [...mine].filter((c) => !t.columns.includes(c));
      if (missing.length) notes.push(`${t.name}: this copy lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
      if (extra.length) notes.push(`${t.name}: the peer lacks column${extra.length > 1 ? 's' : ''} ${extra.join(', ')}`);
    }
    const theirNames = new Set(tables.map((t) => t.name));
    for (const name of engine.crrTables()) if (!theirNames.has(name)) notes.push(`${name} is not shared by the peer`);
  }
  return notes.length ? notes.join('; ') : null;
}

/** Changes of a peer as this copy's schema takes them now: merge, keep (a column dropped here), hold with the reason, or none (a table dropped here). */
export interface RoutedChanges<T> {
  now: T[];
  dropped: T[];
  later: [T, string][];
  gone: T[];
}

/**
 * Routes changes through this copy's schema log (renamed tables and columns followed, columns
 * dropped here kept readable, columns in a schema conflict held) and holds what does not fit.
 * `change`/`routed` read and rewrite the change inside an item (held items wrap theirs).
 */
export function routeChanges<T>(
  db: Database.Database,
  engine: CrrEngine,
  items: T[],
  change: (item: T) => Change,
  routed: (item: T, c: Change) => T,
): RoutedChanges<T> {
  const why = heldReason(db, engine);
  const out: RoutedChanges<T> = { now: [], dropped: [], later: [], gone: [] };
  const routes = new Map<string, ReturnType<CrrEngine['schemaLog']['route']>>();
  for (const item of items) {
    const c = change(item);
    const k = `${c.table}\u0000${c.cid}`;
    let r = routes.get(k);
    if (!r) routes.set(k, (r = engine.schemaLog.route(c.table, c.cid)));
    const next = r.table === c.table && r.cid === c.cid ? item : routed(item, { ...c, table: r.table, cid: r.cid });
    const moved = change(next);
    if (r.removed) out.gone.push(next);
    else if (r.dropped) out.dropped.push(next);
    else if (r.conflict) out.later.push([next, r.conflict]);
    else {
      const reason = why(moved);
      if (reason === null) out.now.push(next);
      else out.later.push([next, reason]);
    }
  }
  return out;
}
