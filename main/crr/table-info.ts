// What the engine needs to know about a user table, and cr-sqlite's rules for which tables
// can become CRRs.
import type Database from 'better-sqlite3';

export interface TableInfo {
  name: string;
  /** primary-key columns in pk order */
  pks: string[];
  /** their declared types: clock tables copy them so comparisons keep the same affinity and
   * stay index lookups (a column with no affinity compared to OLD.id scans) */
  pkTypes: string[];
  /** the other columns, in table order */
  columns: string[];
  /** their declared types (a value the column's affinity would convert is never implied by a clock) */
  columnTypes: string[];
  /** each column's stable slot (its name in the clock tables; survives renames), parallel to columns */
  slots: number[];
  /** the db_version at which each column became versioned: a row's implied first versions cover
   * only columns that existed when it was inserted (cr-sqlite: a new column starts unversioned) */
  since: number[];
}

export class CrrRefusal extends Error {
  constructor(table: string, rule: string) {
    super(`table "${table}" cannot be a CRR: ${rule}`);
    this.name = 'CrrRefusal';
  }
}

export const quoteId = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** SQL expressions as one value: the expression itself, or a row value `(a, b)` of several. */
export const sqlTuple = (cols: string[]): string => (cols.length === 1 ? cols[0] : `(${cols.join(', ')})`);
export const quoteText = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** A row of pragma_table_xinfo. */
export interface PragmaColumn {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
  hidden: number;
}

export function readTableInfo(db: Database.Database, table: string): TableInfo {
  const cols = db.prepare(`SELECT * FROM pragma_table_xinfo(?)`).safeIntegers(false).all(table) as PragmaColumn[];
  if (cols.length === 0) throw new CrrRefusal(table, 'no such table');
  const visible = cols.filter((c) => c.hidden === 0);
  const pkCols = visible.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  return {
    name: table,
    pks: pkCols.map((c) => c.name),
    pkTypes: pkCols.map((c) => c.type),
    columns: visible.filter((c) => c.pk === 0).map((c) => c.name),
    columnTypes: visible.filter((c) => c.pk === 0).map((c) => c.type),
    // positions until the engine attaches the slots it stored (see slots.ts)
    slots: visible.filter((c) => c.pk === 0).map((_, i) => i),
    since: visible.filter((c) => c.pk === 0).map(() => 0),
  };
}

/** Throws CrrRefusal naming the table and the rule it breaks, like crsql_as_crr. */
export function checkCrrRules(db: Database.Database, table: string): TableInfo {
  const row = db.prepare(`SELECT type, sql FROM sqlite_schema WHERE name = ? AND type IN ('table', 'view')`).get(table) as
    | { type: string; sql: string }
    | undefined;
  if (!row) throw new CrrRefusal(table, 'no such table');
  if (row.type !== 'table') throw new CrrRefusal(table, 'it is a view, not a table');
  if (/^(crr_|crsql_)|__crr_/.test(table)) throw new CrrRefusal(table, 'it is one of the engine\'s own tables');
  if (/^\s*CREATE\s+VIRTUAL/i.test(row.sql)) throw new CrrRefusal(table, 'virtual tables are not supported (Fix… in the app copies its rows into an ordinary table, which can be)');
  const cols = db.prepare(`SELECT * FROM pragma_table_xinfo(?)`).safeIntegers(false).all(table) as PragmaColumn[];
  if (cols.some((c) => c.hidden !== 0)) throw new CrrRefusal(table, 'generated columns are not supported (Fix… in the app makes them ordinary columns holding their values; or compute the value in a view)');
  const pkCols = cols.filter((c) => c.pk > 0);
  if (pkCols.length === 0) throw new CrrRefusal(table, 'it has no primary key (Fix… in the app gives it one: key columns you choose, or a new integer id column)');
  for (const c of pkCols) {
    if (!c.notnull) throw new CrrRefusal(table, `primary key column "${c.name}" may be NULL (Fix… in the app declares it NOT NULL)`);
  }
  if (/\bAUTOINCREMENT\b/i.test(row.sql)) throw new CrrRefusal(table, 'it uses AUTOINCREMENT (Fix… in the app drops it: an INTEGER PRIMARY KEY still numbers new rows)');
  const fks = db.prepare(`SELECT * FROM pragma_foreign_key_list(?)`).all(table);
  if (fks.length > 0) throw new CrrRefusal(table, 'it has a foreign key (CRRs cannot enforce them across replicas: Fix… in the app drops the REFERENCES rule and keeps the column)');
  const indexes = db.prepare(`SELECT name, "unique", origin FROM pragma_index_list(?)`).safeIntegers(false).all(table) as {
    name: string;
    unique: number;
    origin: string;
  }[];
  for (const ix of indexes) {
    if (ix.unique && ix.origin !== 'pk') {
      throw new CrrRefusal(table, `unique index "${ix.name}" besides the primary key (replicas could not merge: Fix… in the app makes it an ordinary index)`);
    }
  }
  for (const c of cols) {
    if (c.pk === 0 && c.notnull && c.dflt_value === null) {
      throw new CrrRefusal(table, `column "${c.name}" is NOT NULL without a DEFAULT (Fix… in the app gives it one, e.g. DEFAULT '', or allows NULL)`);
    }
  }
  return readTableInfo(db, table);
}
