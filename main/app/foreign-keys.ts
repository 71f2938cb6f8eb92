// Foreign keys for the grid's links: the keys a table declares (a cell of such a column opens the
// row it references), the keys other tables declare to it, and, for one row, the rows that
// reference it (the Row tab's "Referenced by", each opening its table filtered to them).
import type Database from 'better-sqlite3';
import { REFERENCING_COUNT_LIMIT, type ForeignKey, type ReferencingRows } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import { fromWire, toWire, type SqlValue, type WireValue } from '../../shared/values.ts';
import { quoteId } from '../crr/table-info.ts';
import { bind } from './row-filters.ts';
import { tableShape, userTableNames } from './table-queries.ts';

/** The foreign keys `table` declares, one per constraint, with the referenced columns resolved. */
export function foreignKeys(db: Database.Database, table: string): ForeignKey[] {
  const rows = db.prepare(`SELECT id, seq, "table" AS ref, "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq`).safeIntegers(false).all(table) as {
    id: number;
    seq: number;
    ref: string;
    from: string;
    to: string | null;
  }[];
  const byId = new Map<number, ForeignKey>();
  for (const r of rows) {
    let fk = byId.get(r.id);
    if (!fk) byId.set(r.id, (fk = { table, columns: [], refTable: r.ref, refColumns: [] }));
    fk.columns.push(r.from);
    fk.refColumns.push(r.to ?? '');
  }
  const names = userTableNames(db);
  return [...byId.values()].map((fk) => {
    // SQLite compares table names without case; the link opens the table as it is named
    const refTable = names.find((n) => n.toLowerCase() === fk.refTable.toLowerCase()) ?? fk.refTable;
    // REFERENCES parent (no columns): the parent's primary key
    if (fk.refColumns.some((c) => c === '') && names.includes(refTable)) {
      const pk = tableShape(db, refTable).columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
      if (pk.length === fk.columns.length) fk.refColumns = pk;
    }
    return { ...fk, refTable };
  });
}

/** The foreign keys of every table that reference `table`. */
export function referencedBy(db: Database.Database, table: string): ForeignKey[] {
  return userTableNames(db).flatMap((t) => foreignKeys(db, t).filter((fk) => fk.refTable.toLowerCase() === table.toLowerCase()));
}

/** For one row of `table`: per foreign key referencing the table, the rows pointing at it and how many. */
export function referencingRows(db: Database.Database, table: string, key: WireValue[]): ReferencingRows[] {
  const shape = tableShape(db, table);
  if (!Array.isArray(key) || key.length !== shape.keyColumns.length) {
    throw new ApiError('invalid-argument', `A row of ${table} is identified by ${shape.keyColumns.join(', ')}.`);
  }
  const links = referencedBy(db, table).filter((fk) => fk.refColumns.every((c) => shape.columns.some((col) => col.name === c)));
  if (!links.length) return [];
  const where = shape.keyColumns.map((k) => `${k === 'rowid' ? 'rowid' : quoteId(k)} IS ?`).join(' AND ');
  const wanted = [...new Set(links.flatMap((fk) => fk.refColumns))];
  const row = db
    .prepare(`SELECT ${wanted.map(quoteId).join(', ')} FROM ${quoteId(table)} WHERE ${where}`)
    .safeIntegers(true)
    .get(...key.map((v) => bind(fromWire(v)))) as Record<string, unknown> | undefined;
  if (!row) throw new ApiError('not-found', `That row of ${table} no longer exists.`);
  const value = (c: string) => {
    const v = row[c];
    return toWire(v instanceof Uint8Array ? new Uint8Array(v) : (v as SqlValue));
  };
  return links.flatMap((link) => {
    const values = link.refColumns.map(value);
    // a NULL in the referenced columns is referenced by nothing (NULL = NULL is not true)
    if (values.some((v) => v === null)) return [];
    const filters = link.columns.map((column, i) => ({ column, op: '=' as const, value: values[i] }));
    const counted = db
      .prepare(
        `SELECT count(*) FROM (SELECT 1 FROM ${quoteId(link.table)} WHERE ${link.columns.map((c) => `${quoteId(c)} = ?`).join(' AND ')} LIMIT ${REFERENCING_COUNT_LIMIT + 1})`,
      )
      .pluck()
      .safeIntegers(false)
      .get(...values.map((v) => bind(fromWire(v)))) as number;
    return [{ link, filters, count: Math.min(counted, REFERENCING_COUNT_LIMIT), more: counted > REFERENCING_COUNT_LIMIT }];
  });
}
