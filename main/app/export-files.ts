// Export of a table, or of the view as shown (filters and sort), to a file as CSV, JSON or SQL
// INSERT statements (issue 15). Rows stream from one statement on a read-only connection of its
// own (a consistent snapshot that neither blocks the app's connection, which stays free for the
// grid and sync while the file is written, nor is blocked by it) into the file, a line at a time
// with the stream's backpressure: no whole-file string, so a 1M-row table exports in constant
// memory. The file appears under its name only once complete (written beside it, then renamed).
// Values keep their storage class: see csv.ts for CSV; JSON writes integers as digits (exact past
// 2^53), REAL always with a point or exponent, blobs as {"$blob": "hex"}; SQL writes literals.
import Database from 'better-sqlite3';
import { once } from 'node:events';
import { createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { ExportFormat, ExportRequest, ExportResult } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import { bytesToHex, type SqlValue } from '../../shared/values.ts';
import { quoteId } from '../crr/table-info.ts';
import { csvLine, realText } from './csv.ts';
import { userPath } from './file-browser.ts';
import { tableShape, viewRows } from './table-queries.ts';

export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'json', 'sql'];

/** A value as JSON that reads back in its class (import-files.ts reads numbers by their text). */
export function jsonValue(v: SqlValue): string {
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `{"$blob":"${bytesToHex(v)}"}`;
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return realText(v);
  return JSON.stringify(v);
}

/** A value as an SQLite literal. */
export function sqlLiteral(v: SqlValue): string {
  if (v === null) return 'NULL';
  if (v instanceof Uint8Array) return `X'${bytesToHex(v)}'`;
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'number') return realText(v);
  return `'${String(v).replace(/'/g, "''")}'`;
}

interface Writer {
  head(): string;
  row(values: SqlValue[], first: boolean): string;
  tail(): string;
}

function writerFor(format: ExportFormat, table: string, columns: string[], createSql: string | null): Writer {
  if (format === 'csv') return { head: () => csvLine(columns), row: (v) => csvLine(v), tail: () => '' };
  if (format === 'json') {
    const keys = columns.map((c) => `${JSON.stringify(c)}:`);
    return {
      head: () => '[',
      row: (v, first) => `${first ? '\n' : ',\n'}{${v.map((x, i) => keys[i] + jsonValue(x)).join(',')}}`,
      tail: () => '\n]\n',
    };
  }
  const insert = `INSERT INTO ${quoteId(table)} (${columns.map(quoteId).join(', ')}) VALUES (`;
  const create = createSql ? `${createSql.replace(/^\s*CREATE\s+TABLE\s+(?!IF\s+NOT\s+EXISTS)/i, 'CREATE TABLE IF NOT EXISTS ')};\n` : '';
  return {
    head: () => `BEGIN TRANSACTION;\n${create}`,
    row: (v) => `${insert}${v.map(sqlLiteral).join(', ')});\n`,
    tail: () => 'COMMIT;\n',
  };
}

/** Writes the export; `dbPath` is the open database's file (read on a connection of the export's own). */
export async function exportRows(dbPath: string, p: ExportRequest): Promise<ExportResult> {
  if (!EXPORT_FORMATS.includes(p?.format)) throw new ApiError('invalid-argument', `Export as one of ${EXPORT_FORMATS.join(', ')}.`);
  const path = userPath(p.path);
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) throw new ApiError('invalid-argument', `${path} is a folder: give the file's name.`);
    if (!p.overwrite) throw new ApiError('invalid-argument', `${path} exists already: choose to replace it, or another name.`);
  }
  if (!existsSync(dirname(path))) throw new ApiError('not-found', `There is no folder ${dirname(path)}.`);
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  const partial = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
  const out = createWriteStream(partial, { flags: 'w' });
  let rows = 0;
  try {
    await once(out, 'open').catch((err) => {
      throw new ApiError('invalid-argument', `Cannot write ${path}: ${(err as Error).message}`);
    });
    const schema = tableShape(db, p.table);
    const createSql = (db.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck().get(schema.name) as string | undefined) ?? null;
    const w = writerFor(p.format, schema.name, schema.columns.map((c) => c.name), createSql);
    // rows gathered into chunks of ~64 KB: fewer, larger writes (and less garbage) than one per row
    let chunk = '';
    const write = async (text: string, force = false) => {
      chunk += text;
      if (chunk.length < 65536 && !force) return;
      const full = chunk;
      chunk = '';
      if (!out.write(full)) await once(out, 'drain');
    };
    await write(w.head());
    // viewRows iterates one statement: the read transaction holds one snapshot from first row to last
    for (const r of viewRows(db, schema, p)) await write(w.row(r, rows++ === 0));
    await write(w.tail(), true);
    out.end();
    await once(out, 'finish');
    renameSync(partial, path);
    return { path, rows, bytes: statSync(path).size };
  } catch (err) {
    out.destroy();
    rmSync(partial, { force: true });
    throw err;
  } finally {
    db.close();
  }
}
