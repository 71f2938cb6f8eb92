// Peers tell each other the schema of their CRR tables. A table the peer has and this replica
// lacks entirely is created here (that is how a join copies the database); any other difference
// is only reported: changes for what is missing are held (sync-store.ts) until the schema catches up.
import type Database from 'better-sqlite3';
import type { CrrEngine } from '../crr/types.ts';
import { ProtocolError } from './change-codec.ts';

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

/** Whether a change for table.cid can be merged here now. */
export function canApply(db: Database.Database, engine: CrrEngine): (table: string, cid: string) => boolean {
  const cache = new Map<string, Set<string>>();
  return (table, cid) => {
    if (!engine.isCrr(table)) return false;
    if (cid === '-1') return true;
    let cols = cache.get(table);
    if (!cols) cache.set(table, (cols = new Set(columnsOf(db, table))));
    return cols.has(cid);
  };
}

function checkShape(t: unknown): SharedTable {
  const s = t as SharedTable;
  if (!s || typeof s.name !== 'string' || typeof s.sql !== 'string' || !Array.isArray(s.columns) || !s.columns.every((c) => typeof c === 'string')) {
    throw new ProtocolError('schema: malformed table description');
  }
  return s;
}

/**
 * Creates the peer's CRR tables this replica lacks (one transaction) and describes what still
 * differs, for the peer list. Returns the names created.
 */
export function adoptSchema(db: Database.Database, engine: CrrEngine, theirs: unknown): { created: string[]; mismatch: string | null } {
  if (!Array.isArray(theirs)) throw new ProtocolError('schema: expected a list of tables');
  const tables = theirs.map(checkShape);
  const created: string[] = [];
  const notes: string[] = [];
  const exists = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck();
  db.transaction(() => {
    for (const t of tables) {
      if (!exists.get(t.name)) {
        if (/^(sqlite_|crr_|crsql_)|__crr_/i.test(t.name) || !/^\s*CREATE\s+TABLE\b/i.test(t.sql)) {
          throw new ProtocolError(`schema: refusing to create table ${JSON.stringify(t.name)}`);
        }
        db.prepare(t.sql).run();
        if (!exists.get(t.name)) throw new ProtocolError(`schema: the statement for ${JSON.stringify(t.name)} created another table`);
        engine.asCrr(t.name);
        created.push(t.name);
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
  })();
  return { created, mismatch: notes.length ? notes.join('; ') : null };
}
