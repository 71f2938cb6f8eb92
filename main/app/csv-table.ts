// The table a CSV import creates: its columns with the types the user chose (none by default) and
// a primary key, one of its columns or a new integer id numbering the rows, so that the imported
// table can be collaborative at once.
import type Database from 'better-sqlite3';
import type { ColumnDef, CsvImportRequest } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import { createTableStatement } from './schema-edit.ts';

export function csvCreateTable(db: Database.Database, p: Pick<CsvImportRequest, 'table' | 'types' | 'primaryKey'>, columns: string[]): string {
  if (p.types !== undefined && (!Array.isArray(p.types) || p.types.length !== columns.length)) {
    throw new ApiError('invalid-argument', `Give one type per CSV column (${columns.length}).`);
  }
  const defs: ColumnDef[] = columns.map((name, i) => ({ name, type: p.types?.[i] ?? '', notNull: false, defaultSql: null }));
  const key = p.primaryKey;
  if (key && 'addId' in key) {
    if (columns.some((c) => c.toLowerCase() === key.addId.trim().toLowerCase())) {
      throw new ApiError('invalid-argument', `The CSV already has a column ${key.addId}: name the new key column differently, or choose that column as the key.`);
    }
    return createTableStatement(db, p.table, [{ name: key.addId.trim(), type: 'INTEGER', notNull: true, defaultSql: null }, ...defs], [key.addId.trim()]);
  }
  if (key && !columns.includes(key.column)) throw new ApiError('invalid-argument', `The key column ${key.column} is not one of the CSV's columns.`);
  return createTableStatement(db, p.table, defs, key ? [key.column] : []);
}
