// Read-side SQL for the editor: tables, schemas, and windows of rows that never need count(*).
import type Database from 'better-sqlite3';
import type { ColumnInfo, RowQuery, RowWindow, TableInfo, TableSchema } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import { fromWire, toWire, type SqlValue, type WireValue } from '../../shared/values.ts';
import { checkCrrRules, quoteId } from '../crr/table-info.ts';
import type { CrrEngine } from '../crr/types.ts';
import { keyText, type ViewOrder, type ViewOrders } from './view-order.ts';
import { bind, whereClause } from './row-filters.ts';

export { bind };
import { foreignKeys, referencedBy } from './foreign-keys.ts';

/** Tables a user sees: not SQLite's and not the engine's bookkeeping. */
export function userTableNames(db: Database.Database): string[] {
  return db
    .prepare(
      `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
         AND name NOT LIKE 'crr\\_%' ESCAPE '\\' AND name NOT LIKE '%\\_\\_crr\\_%' ESCAPE '\\' ORDER BY name`,
    )
    .pluck()
    .all() as string[];
}

function requireTable(db: Database.Database, table: string): void {
  if (typeof table !== 'string' || !userTableNames(db).includes(table)) {
    throw new ApiError('not-found', `There is no table named ${JSON.stringify(table)}.`);
  }
}

function hasRowid(db: Database.Database, table: string): boolean {
  const sql = db.prepare(`SELECT sql FROM sqlite_schema WHERE name = ?`).pluck().get(table) as string;
  return !/WITHOUT\s+ROWID\s*[;]?\s*$/i.test(sql ?? '');
}

/** tables up to this many rows are counted exactly for the sidebar (a bounded scan, a few ms) */
const COUNTED_ROWS = 200_000;

/**
 * The sidebar's row count: exact up to COUNTED_ROWS rows (so deletes show), beyond that a cheap
 * estimate (max(rowid) for rowid tables, else ANALYZE's figure): a huge table is never counted
 * before its first rows paint.
 */
export function rowEstimate(db: Database.Database, table: string): number {
  const counted = db.prepare(`SELECT count(*) FROM (SELECT 1 FROM ${quoteId(table)} LIMIT ${COUNTED_ROWS + 1})`).pluck().safeIntegers(false).get() as number;
  if (counted <= COUNTED_ROWS) return counted;
  if (hasRowid(db, table)) {
    const max = db.prepare(`SELECT max(rowid) FROM ${quoteId(table)}`).pluck().safeIntegers(false).get() as number | null;
    return Math.max(counted, max ?? 0);
  }
  const stat = db
    .prepare(`SELECT stat FROM sqlite_schema s JOIN sqlite_stat1 t ON t.tbl = s.name WHERE s.name = ? LIMIT 1`)
    .pluck();
  try {
    const v = stat.get(table) as string | undefined;
    if (v) return Math.max(counted, Number(v.split(' ')[0]));
  } catch {
    // no sqlite_stat1 until ANALYZE runs
  }
  return counted;
}

export function listTables(db: Database.Database, engine: CrrEngine | null): TableInfo[] {
  return userTableNames(db).map((name) => ({ name, rowEstimate: rowEstimate(db, name), isCrr: engine?.isCrr(name) ?? false }));
}

/** What reads and edits need: the columns and the key that addresses a row (cheap). */
export type TableShape = Pick<TableSchema, 'name' | 'columns' | 'keyColumns'>;

export function tableShape(db: Database.Database, table: string): TableShape {
  requireTable(db, table);
  const cols = db.prepare(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`).safeIntegers(false).all(table) as {
    name: string;
    type: string;
    notnull: number;
    dflt_value: string | null;
    pk: number;
  }[];
  const columns: ColumnInfo[] = cols.map((c) => ({ name: c.name, type: c.type, notNull: !!c.notnull, defaultSql: c.dflt_value, pk: c.pk }));
  const pks = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
  return { name: table, columns, keyColumns: pks.length ? pks : ['rowid'] };
}

export function tableSchema(db: Database.Database, engine: CrrEngine | null, table: string): TableSchema {
  const { columns, keyColumns } = tableShape(db, table);
  let crrRefusal: string | null = null;
  if (!engine?.isCrr(table)) {
    try {
      checkCrrRules(db, table);
    } catch (err) {
      crrRefusal = (err as Error).message;
    }
  }
  const indexes = (db.prepare(`SELECT name, "unique" FROM pragma_index_list(?)`).safeIntegers(false).all(table) as { name: string; unique: number }[]).map(
    (ix) => ({
      name: ix.name,
      unique: !!ix.unique,
      sql: (db.prepare(`SELECT sql FROM sqlite_schema WHERE name = ?`).pluck().get(ix.name) as string | null) ?? null,
    }),
  );
  return {
    name: table,
    sql: db.prepare(`SELECT sql FROM sqlite_schema WHERE name = ?`).pluck().get(table) as string,
    columns,
    keyColumns,
    isCrr: engine?.isCrr(table) ?? false,
    crrRefusal,
    indexes,
    foreignKeys: foreignKeys(db, table),
    referencedBy: referencedBy(db, table),
  };
}

const wire = (v: unknown) => toWire(v instanceof Uint8Array ? new Uint8Array(v) : (v as SqlValue));

function rowSelect(schema: TableShape, q: RowQuery) {
  const names = schema.columns.map((c) => c.name);
  const { sql: where, params } = whereClause(names, q.filters);
  if (q.sort && !names.includes(q.sort.column)) throw new ApiError('invalid-argument', `Unknown sort column ${JSON.stringify(q.sort.column)}.`);
  if (q.sort && q.sort.dir !== 'asc' && q.sort.dir !== 'desc') throw new ApiError('invalid-argument', 'A sort is asc or desc.');
  const keys = schema.keyColumns.map((k) => (k === 'rowid' ? 'rowid' : quoteId(k)));
  const order = [...(q.sort ? [`${quoteId(q.sort.column)} ${q.sort.dir === 'desc' ? 'DESC' : 'ASC'}`] : []), ...keys].join(', ');
  return { names, keys, where, params, order };
}

/**
 * The order of a sorted or filtered view (see view-order.ts), or null where reading the table in
 * its key order is as fast (no filter, and no sort or a sort by the key).
 */
function viewOrder(db: Database.Database, orders: ViewOrders | undefined, schema: TableShape, q: RowQuery): ViewOrder | null {
  const byKey = !q.sort || (schema.keyColumns.length === 1 && q.sort.column === schema.keyColumns[0]);
  if (!orders || (byKey && !q.filters?.length)) return null;
  const { keys, where, params, order } = rowSelect(schema, q);
  const rowid = hasRowid(db, schema.name);
  return orders.order({
    signature: JSON.stringify([schema.name, schema.columns.map((c) => c.name), q.filters ?? [], q.sort ?? null]),
    sql: `SELECT ${rowid ? 'rowid' : keys.join(', ')} FROM ${quoteId(schema.name)} ${where} ORDER BY ${order}`,
    params,
    rowidOf: rowid ? schema.name : undefined,
  });
}

/** The rows of these keys of a view's order, in that order (a row deleted since is left out). */
function rowsByKey(db: Database.Database, schema: TableShape, order: ViewOrder, wanted: unknown[][]): unknown[][] {
  if (!wanted.length) return [];
  const { names, keys } = rowSelect(schema, { table: schema.name });
  const match = order.rowid ? 'rowid' : keys.join(', ');
  const width = order.rowid ? 1 : keys.length;
  const tuples = wanted.map(() => (width === 1 ? '?' : `(${keys.map(() => '?').join(', ')})`)).join(', ');
  const inList = width === 1 ? `${match} IN (${tuples})` : `(${match}) IN (VALUES ${tuples})`;
  const found = db
    .prepare(`SELECT ${match}, ${keys.join(', ')}, ${names.map(quoteId).join(', ')} FROM ${quoteId(schema.name)} WHERE ${inList}`)
    .raw()
    .safeIntegers(true)
    .all(...wanted.flat()) as unknown[][];
  const byKey = new Map(found.map((r) => [keyText(r.slice(0, width)), r.slice(width)]));
  const out: unknown[][] = [];
  for (const k of wanted) {
    const r = byKey.get(keyText(k));
    if (r) out.push(r);
  }
  return out;
}

export function readRows(db: Database.Database, schema: TableShape, q: RowQuery & { offset: number; limit: number }, orders?: ViewOrders): RowWindow {
  if (!Number.isSafeInteger(q.offset) || q.offset < 0 || !Number.isSafeInteger(q.limit) || q.limit < 0 || q.limit > 10_000) {
    throw new ApiError('invalid-argument', 'offset must be >= 0 and limit between 0 and 10000.');
  }
  const { names, keys, where, params, order } = rowSelect(schema, q);
  const ordered = viewOrder(db, orders, schema, q);
  const rows = ordered
    ? rowsByKey(db, schema, ordered, ordered.slice(q.offset, q.offset + q.limit))
    : (db
        .prepare(`SELECT ${keys.join(', ')}, ${names.map(quoteId).join(', ')} FROM ${quoteId(schema.name)} ${where} ORDER BY ${order} LIMIT ? OFFSET ?`)
        .raw()
        .safeIntegers(true)
        .all(...params, q.limit, q.offset) as unknown[][]);
  return {
    columns: names,
    offset: q.offset,
    rows: rows.map((r) => ({ key: r.slice(0, keys.length).map(wire), values: r.slice(keys.length).map(wire) })),
    atEnd: ordered ? q.offset + q.limit >= ordered.rows : rows.length < q.limit,
  };
}

/** Every row of a sorted, filtered view, values only, read by one statement (one consistent snapshot). */
export function viewRows(db: Database.Database, schema: TableShape, q: RowQuery): Iterable<SqlValue[]> {
  const { names, where, params, order } = rowSelect(schema, q);
  const stmt = db.prepare(`SELECT ${names.map(quoteId).join(', ')} FROM ${quoteId(schema.name)} ${where} ORDER BY ${order}`);
  const rows = stmt.raw().safeIntegers(true).iterate(...params) as Iterable<unknown[]>;
  return (function* () {
    for (const r of rows) yield r.map((v) => (v instanceof Uint8Array ? new Uint8Array(v) : (v as SqlValue)));
  })();
}

/** Where a row stands in a sorted, filtered view (0-based), or null when the view does not show it. */
export function rowPosition(db: Database.Database, schema: TableShape, q: RowQuery & { key: WireValue[] }, orders?: ViewOrders): number | null {
  const { keys, where, params, order } = rowSelect(schema, q);
  if (!Array.isArray(q.key) || q.key.length !== keys.length) throw new ApiError('invalid-argument', `A row of ${schema.name} is identified by ${schema.keyColumns.join(', ')}.`);
  const ordered = viewOrder(db, orders, schema, q);
  if (ordered) {
    const bound = q.key.map((v) => bind(fromWire(v)));
    const key = ordered.rowid && schema.keyColumns[0] !== 'rowid'
      ? db.prepare(`SELECT rowid FROM ${quoteId(schema.name)} WHERE ${keys.map((k) => `${k} IS ?`).join(' AND ')}`).pluck().safeIntegers(true).get(...bound)
      : undefined;
    const at = ordered.indexOf(key !== undefined ? [key] : bound);
    return at >= 0 ? at : null;
  }
  const aliases = keys.map((_, i) => `k${i}`);
  const n = db
    .prepare(
      `SELECT n FROM (SELECT ${keys.map((k, i) => `${k} AS ${aliases[i]}`).join(', ')}, row_number() OVER (ORDER BY ${order}) - 1 AS n
         FROM ${quoteId(schema.name)} ${where}) WHERE ${aliases.map((a) => `${a} IS ?`).join(' AND ')}`,
    )
    .pluck()
    .safeIntegers(false)
    .get(...params, ...q.key.map((v) => bind(fromWire(v))));
  return (n as number | undefined) ?? null;
}

export function countRows(db: Database.Database, schema: TableShape, q: RowQuery, orders?: ViewOrders): number {
  const ordered = viewOrder(db, orders, schema, q);
  if (ordered) return ordered.rows;
  const { where, params } = rowSelect(schema, q);
  return db.prepare(`SELECT count(*) FROM ${quoteId(schema.name)} ${where}`).pluck().safeIntegers(false).get(...params) as number;
}
