// The structure editor's changes (DB Browser for SQLite's Create / Modify Table) as plans of SQL
// steps (schema-plan.ts): create a table, add / rename / drop a column, create / drop an index,
// rebuilds (table-rebuild.ts) and a plain copy of a virtual table. Names and types are checked here;
// everything else (a NOT NULL column added without a default, a column an index still uses) is
// SQLite's to refuse, which the preview's dry run reports before the user confirms.
import type Database from 'better-sqlite3';
import type { ColumnDef, SchemaChange } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import { quoteId } from '../crr/table-info.ts';
import type { CrrEngine } from '../crr/types.ts';
import { significant, tokenize } from './sql-statements.ts';
import { defaultTerm, rebuildPlan } from './table-rebuild.ts';
import type { Plan, PlanContext, Step } from './schema-plan.ts';
import { userTableNames } from './table-queries.ts';

function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name.trim() === '') throw new ApiError('invalid-argument', `The ${what} needs a name.`);
  if (/^sqlite_/i.test(name)) throw new ApiError('invalid-argument', `Names starting with sqlite_ belong to SQLite: choose another ${what} name.`);
  if (what !== 'column' && /__crr_|^crr_|^crsql_/i.test(name)) throw new ApiError('invalid-argument', `Names with crr_ or crsql_ belong to the collaboration engine: choose another ${what} name.`);
  return name.trim();
}

/** A declared type: words, numbers and a parenthesised size (VARCHAR(20), DOUBLE PRECISION), or none. */
function checkType(type: unknown, column: string): string {
  const t = typeof type === 'string' ? type.trim() : '';
  const tokens = significant(tokenize(t));
  if (!tokens.every((x) => x.kind === 'word' || x.kind === 'number' || ['(', ')', ',', '+', '-'].includes(x.text))) {
    throw new ApiError('invalid-argument', `${JSON.stringify(t)} is not a type SQLite takes for ${column} (e.g. TEXT, INTEGER, REAL, BLOB, NUMERIC).`);
  }
  return t;
}

export function columnDefSql(c: ColumnDef, key = false): string {
  const name = checkName(c?.name, 'column');
  return [
    quoteId(name),
    checkType(c.type, name),
    c.notNull || key ? 'NOT NULL' : '',
    c.defaultSql !== null && c.defaultSql !== undefined ? `DEFAULT ${defaultTerm(c.defaultSql)}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function requireTable(db: Database.Database, table: unknown): string {
  if (typeof table !== 'string' || !userTableNames(db).includes(table)) throw new ApiError('not-found', `There is no table named ${JSON.stringify(table)}.`);
  return table;
}

const columnsOf = (db: Database.Database, table: string) => db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[];

/** `CREATE TABLE` for the editor's columns and key. */
export function createTableStatement(db: Database.Database, table: string, columns: ColumnDef[], primaryKey: string[]): string {
  const name = checkName(table, 'table');
  if (db.prepare(`SELECT 1 FROM sqlite_schema WHERE lower(name) = lower(?)`).get(name)) throw new ApiError('invalid-argument', `${name} exists already: choose another name.`);
  if (!Array.isArray(columns) || columns.length === 0) throw new ApiError('invalid-argument', 'A table needs at least one column.');
  const seen = new Set<string>();
  for (const c of columns) {
    const n = checkName(c?.name, 'column').toLowerCase();
    if (seen.has(n)) throw new ApiError('invalid-argument', `Two columns are named ${c.name}.`);
    seen.add(n);
  }
  const key = Array.isArray(primaryKey) ? primaryKey : [];
  for (const k of key) if (!columns.some((c) => c.name.trim() === k)) throw new ApiError('invalid-argument', `The key column ${k} is not one of the columns.`);
  const items = columns.map((c) => columnDefSql(c, key.includes(c.name.trim())));
  if (key.length) items.push(`PRIMARY KEY (${key.map(quoteId).join(', ')})`);
  return `CREATE TABLE ${quoteId(name)} (\n  ${items.join(',\n  ')}\n)`;
}

/** The plan for a change; runs inside the transaction it will run in. */
export function planChange(db: Database.Database, engine: CrrEngine | null, ctx: PlanContext, change: SchemaChange): Plan {
  if (!change || typeof change !== 'object') throw new ApiError('invalid-argument', 'Which change?');
  const crr = (t: string) => engine?.isCrr(t) ?? false;
  const steps: Step[] = [];
  const notes: string[] = [];
  const shared = (t: string) => {
    if (crr(t)) notes.push(`${t} is collaborative: peers whose copy does not have this change yet hold the changes that need it until they have it.`);
  };
  switch (change.kind) {
    case 'create-table': {
      steps.push({ sql: createTableStatement(db, change.table, change.columns, change.primaryKey) });
      if (change.primaryKey?.length) notes.push('Key columns are NOT NULL, as collaboration needs.');
      else notes.push('Without a primary key this table cannot be collaborative (it can be given one later).');
      break;
    }
    case 'add-column': {
      const t = requireTable(db, change.table);
      steps.push({ sql: `ALTER TABLE ${quoteId(t)} ADD COLUMN ${columnDefSql(change.column)}` });
      if (change.column?.notNull && change.column.defaultSql === null) notes.push('SQLite adds a NOT NULL column only with a DEFAULT for the rows already there.');
      shared(t);
      break;
    }
    case 'rename-column': {
      const t = requireTable(db, change.table);
      if (!columnsOf(db, t).includes(change.column)) throw new ApiError('invalid-argument', `${t} has no column ${JSON.stringify(change.column)}.`);
      const to = checkName(change.to, 'column');
      steps.push({ sql: `ALTER TABLE ${quoteId(t)} RENAME COLUMN ${quoteId(change.column)} TO ${quoteId(to)}` });
      notes.push('Indexes, triggers and views naming the column are changed with it.');
      const isKey = (db.prepare(`SELECT pk FROM pragma_table_info(?) WHERE name = ?`).pluck().get(t, change.column) as number) > 0;
      if (crr(t) && isKey) notes.push(`${change.column} is part of ${t}'s primary key: renaming it restarts the table's change history.`);
      shared(t);
      break;
    }
    case 'drop-column': {
      const t = requireTable(db, change.table);
      if (!columnsOf(db, t).includes(change.column)) throw new ApiError('invalid-argument', `${t} has no column ${JSON.stringify(change.column)}.`);
      // (on a collaborative table the engine moves its triggers and views aside for the moment)
      steps.push({ sql: `ALTER TABLE ${quoteId(t)} DROP COLUMN ${quoteId(change.column)}` });
      if (crr(t)) notes.push(`${t} is collaborative: its values stay readable in the dropped column's history; peers confirm the drop before it applies to their copy (or apply schema changes automatically).`);
      else notes.push(`The values in ${change.column} are deleted with it.`);
      shared(t);
      break;
    }
    case 'create-index': {
      const t = requireTable(db, change.table);
      const cols = Array.isArray(change.columns) ? change.columns : [];
      if (cols.length === 0) throw new ApiError('invalid-argument', 'Choose the columns to index.');
      for (const c of cols) if (!columnsOf(db, t).includes(c)) throw new ApiError('invalid-argument', `${t} has no column ${JSON.stringify(c)}.`);
      if (change.unique && crr(t)) throw new ApiError('invalid-argument', `${t} is collaborative: a unique index would make replicas unable to merge (two peers may write the same value). Make it a plain index.`);
      const name = checkName(change.name, 'index');
      steps.push({ sql: `CREATE ${change.unique ? 'UNIQUE ' : ''}INDEX ${quoteId(name)} ON ${quoteId(t)} (${cols.map(quoteId).join(', ')})` });
      if (change.unique) notes.push('A unique index keeps the table from being collaborative.');
      break;
    }
    case 'drop-index': {
      const t = requireTable(db, change.table);
      const ix = db.prepare(`SELECT origin, "unique" FROM pragma_index_list(?) WHERE name = ?`).safeIntegers(false).get(t, change.index) as { origin: string; unique: number } | undefined;
      if (!ix) throw new ApiError('not-found', `${t} has no index ${JSON.stringify(change.index)}.`);
      if (ix.origin === 'pk') throw new ApiError('invalid-argument', `${change.index} is ${t}'s primary key: it goes only with the key (choose a new key instead).`);
      // an index SQLite made for a UNIQUE constraint goes only with the constraint: a rebuild
      if (ix.origin === 'u') return rebuildPlan(db, engine, ctx, t, { dropUnique: [{ index: change.index, keepIndex: false }] });
      steps.push({ sql: `DROP INDEX ${quoteId(change.index)}` });
      break;
    }
    case 'rebuild': {
      const { kind: _kind, table, ...options } = change;
      return rebuildPlan(db, engine, ctx, requireTable(db, table), options);
    }
    case 'copy-table': {
      const t = requireTable(db, change.table);
      const to = checkName(change.to, 'table');
      if (db.prepare(`SELECT 1 FROM sqlite_schema WHERE lower(name) = lower(?)`).get(to)) throw new ApiError('invalid-argument', `${to} exists already: choose another name.`);
      steps.push({ sql: `CREATE TABLE ${quoteId(to)} AS SELECT * FROM ${quoteId(t)}` });
      notes.push(`${to} is an ordinary table holding ${t}'s rows; ${t} stays as it is. Give the copy a primary key to make it collaborative.`);
      break;
    }
    default:
      throw new ApiError('invalid-argument', `Unknown change ${JSON.stringify((change as { kind: unknown }).kind)}.`);
  }
  return { steps, notes };
}
