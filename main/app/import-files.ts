// Import of CSV and JSON (an array of objects) into a new or existing table, all or nothing
// (issue 15). A file streams in (csv-parse's stream for CSV; stream-json's tokenizer, fed chunk by
// chunk, for JSON: both well kept and made for files larger than memory) and its rows are staged
// in a TEMP table of the app's connection, batch by batch, so the app stays responsive and memory
// stays flat however large the file; then one transaction creates the table if asked and copies
// the staged rows in (INSERT … SELECT applies the target's affinity exactly as a bound value
// would). A bad line or value anywhere means nothing is imported.
// JSON values keep their class: numbers are read by their text (digits alone INTEGER, exact past
// 2^53; a point or exponent REAL), strings TEXT, null NULL, true/false 1/0, {"$blob": "hex"} a
// blob (what export-files.ts writes), other objects and arrays their JSON text. A key an object
// lacks is NULL.
import type Database from 'better-sqlite3';
import { parse as csvStream } from 'csv-parse';
import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { jsonParser, type Token } from 'stream-json/core/parser.js';
import { getManyValues, isMany, none } from 'stream-chain/defs.js';
import type { FileImportRequest, ImportFormat, ImportPreview } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import { hexToBytes, type SqlValue } from '../../shared/values.ts';
import { quoteId } from '../crr/table-info.ts';
import { CSV_OPTIONS, csvValue, parseCsv, type CsvField } from './csv.ts';
import { csvCreateTable } from './csv-table.ts';
import { userPath } from './file-browser.ts';
import { bind, tableShape, userTableNames } from './table-queries.ts';

const BATCH = 2000;
const PREVIEW_BYTES = 64 * 1024;

/** Where the import goes: the table, created or not, its types and key when new. */
export interface ImportTarget {
  table: string;
  create: boolean;
  /** new tables: declared types by column name */
  types?: Record<string, string>;
  primaryKey?: { column: string } | { addId: string };
}

/** Rows as they are read: named columns appear in order of first sight. */
class Staging {
  private readonly name = `crr_import_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  readonly columns: string[] = [];
  private readonly slot = new Map<string, number>();
  private batch: SqlValue[][] = [];
  rows = 0;
  /** columns named by position (CSV without a header line): an existing table's own names replace them */
  positional = false;

  constructor(private readonly db: Database.Database) {}

  /** The slot of a column, added to the staging table when new. */
  column(name: string): number {
    let i = this.slot.get(name);
    if (i !== undefined) return i;
    this.flush();
    i = this.columns.length;
    this.columns.push(name);
    this.slot.set(name, i);
    if (i === 0) this.db.exec(`CREATE TEMP TABLE ${this.name} (c0)`);
    else this.db.exec(`ALTER TABLE temp.${this.name} ADD COLUMN c${i}`);
    return i;
  }

  add(values: SqlValue[]): void {
    this.batch.push(values);
    this.rows++;
    if (this.batch.length >= BATCH) this.flush();
  }

  flush(): void {
    if (!this.batch.length) return;
    const n = this.columns.length;
    const insert = this.db.prepare(`INSERT INTO temp.${this.name} (${Array.from({ length: n }, (_, i) => `c${i}`).join(', ')}) VALUES (${Array(n).fill('?').join(', ')})`);
    const rows = this.batch;
    this.batch = [];
    this.db.transaction(() => {
      for (const r of rows) insert.run(...Array.from({ length: n }, (_, i) => bind(r[i] ?? null)));
    })();
  }

  /** Copies the staged rows into `target` in one transaction (creating it first if asked). */
  finish(target: ImportTarget, write: <T>(table: string, fn: () => T) => T, onCreated: () => void): number {
    this.flush();
    const db = this.db;
    if (typeof target.table !== 'string' || target.table === '') throw new ApiError('invalid-argument', 'A table name is required.');
    const exists = userTableNames(db).includes(target.table);
    if (!exists && !target.create) throw new ApiError('not-found', `There is no table named ${JSON.stringify(target.table)}.`);
    if (this.rows === 0) throw new ApiError('invalid-argument', 'The file has no rows to import.');
    if (exists && this.positional) {
      // CSV without a header line: its fields fill the table's first columns, in order
      const names = tableShape(db, target.table).columns.map((c) => c.name);
      if (this.columns.length > names.length) throw new ApiError('invalid-argument', `The CSV has ${this.columns.length} fields per line; ${target.table} has ${names.length} columns. Nothing was imported.`);
      this.columns.splice(0, this.columns.length, ...names.slice(0, this.columns.length));
    }
    if (exists) {
      const have = new Set(tableShape(db, target.table).columns.map((c) => c.name));
      const unknown = this.columns.filter((c) => !have.has(c));
      if (unknown.length) throw new ApiError('invalid-argument', `${target.table} has no column${unknown.length > 1 ? 's' : ''} ${unknown.map((c) => JSON.stringify(c)).join(', ')}. Nothing was imported.`);
    }
    if (target.types !== undefined && (typeof target.types !== 'object' || target.types === null)) throw new ApiError('invalid-argument', 'types: a declared type per column name.');
    const create = exists ? '' : csvCreateTable(db, { table: target.table, types: this.columns.map((c) => String(target.types?.[c] ?? '')), primaryKey: target.primaryKey }, this.columns);
    return write(target.table, () => {
      if (create) db.exec(create);
      db.prepare(
        `INSERT INTO ${quoteId(target.table)} (${this.columns.map(quoteId).join(', ')}) SELECT ${this.columns.map((_, i) => `c${i}`).join(', ')} FROM temp.${this.name} ORDER BY rowid`,
      ).run();
      if (create) onCreated();
      return this.rows;
    });
  }

  drop(): void {
    this.batch = [];
    if (this.columns.length) this.db.exec(`DROP TABLE IF EXISTS temp.${this.name}`);
  }
}

/** CSV records into the staging table: a header line names the columns, or column1…N; every line has as many fields. */
async function stageCsv(staging: Staging, records: Iterable<CsvField[]> | AsyncIterable<CsvField[]>, header: boolean): Promise<void> {
  let width = -1;
  let line = 0;
  for await (const r of records) {
    line++;
    if (width < 0) {
      width = r.length;
      const names = header ? r.map((f, i) => f?.text || `column${i + 1}`) : r.map((_, i) => `column${i + 1}`);
      staging.positional = !header;
      const seen = new Set<string>();
      for (const n of names) {
        if (seen.has(n.toLowerCase())) throw new ApiError('invalid-argument', `Two CSV columns are named ${n}.`);
        seen.add(n.toLowerCase());
        staging.column(n);
      }
      if (header) continue;
    }
    // a blank line in a file of several columns is no row
    if (r.length === 1 && r[0] === null && width > 1) continue;
    if (r.length !== width) throw new ApiError('invalid-argument', `CSV line ${line} has ${r.length} fields, expected ${width}. Nothing was imported.`);
    staging.add(r.map(csvValue));
  }
}

/** A JSON number by its text: INTEGER when digits alone fit 64 bits, else REAL. */
function jsonNumber(text: string): SqlValue {
  if (/^-?\d+$/.test(text)) {
    const n = BigInt(text);
    if (n <= 9223372036854775807n && n >= -9223372036854775808n) return n;
  }
  return Number(text);
}

/**
 * Turns stream-json's tokens into rows: the top level must be an array of objects. A nested
 * value is kept as its JSON text (numbers as written), except {"$blob": "hex"}.
 */
class JsonRows {
  private depth = 0;
  private key: string | null = null;
  private row: SqlValue[] | null = null;
  /** the nested value being collected as text, and its own depth */
  private nested: string[] = [];
  private nestedDepth = 0;
  private nestedNeedsComma: boolean[] = [];
  private element = 0;

  constructor(private readonly staging: Staging) {}

  private set(v: SqlValue): void {
    this.row![this.staging.column(this.key!)] = v;
    this.key = null;
  }

  private text(t: string): void {
    // a value inside a nested array or object: a comma before all but its first member
    const top = this.nestedNeedsComma.length - 1;
    if (top >= 0 && t !== ':' && !t.startsWith(']') && !t.startsWith('}')) {
      if (this.nestedNeedsComma[top]) this.nested.push(',');
      this.nestedNeedsComma[top] = true;
    }
    this.nested.push(t);
  }

  take(tok: Token): void {
    if (this.nestedDepth > 0) return this.inNested(tok);
    switch (tok.name) {
      case 'startArray':
      case 'startObject':
        if (this.depth === 0) {
          if (tok.name !== 'startArray') throw new ApiError('invalid-argument', 'JSON import takes an array of objects ([{"column": value, …}, …]).');
          this.depth = 1;
          return;
        }
        if (this.depth === 1) {
          this.element++;
          if (tok.name !== 'startObject') throw new ApiError('invalid-argument', `JSON element ${this.element} is not an object: each element is a row, {"column": value, …}.`);
          this.depth = 2;
          this.row = [];
          return;
        }
        // a nested value of a row's key
        this.nestedDepth = 1;
        this.nested = [tok.name === 'startArray' ? '[' : '{'];
        this.nestedNeedsComma = [false];
        return;
      case 'endObject':
        this.staging.add(this.row!);
        this.row = null;
        this.depth = 1;
        return;
      case 'endArray':
        this.depth = 0;
        return;
      case 'keyValue':
        this.key = tok.value;
        return;
      case 'stringValue':
        return this.depth === 2 ? this.set(tok.value) : this.notObject();
      case 'numberValue':
        return this.depth === 2 ? this.set(jsonNumber(tok.value)) : this.notObject();
      case 'nullValue':
        return this.depth === 2 ? this.set(null) : this.notObject();
      case 'trueValue':
      case 'falseValue':
        return this.depth === 2 ? this.set(tok.value ? 1n : 0n) : this.notObject();
      default:
        return;
    }
  }

  private notObject(): void {
    if (this.depth === 0) throw new ApiError('invalid-argument', 'JSON import takes an array of objects ([{"column": value, …}, …]).');
    this.element++;
    throw new ApiError('invalid-argument', `JSON element ${this.element} is not an object: each element is a row, {"column": value, …}.`);
  }

  private inNested(tok: Token): void {
    switch (tok.name) {
      case 'startArray':
      case 'startObject':
        this.text(tok.name === 'startArray' ? '[' : '{');
        this.nestedNeedsComma.push(false);
        this.nestedDepth++;
        return;
      case 'endArray':
      case 'endObject': {
        this.nested.push(tok.name === 'endArray' ? ']' : '}');
        this.nestedNeedsComma.pop();
        if (--this.nestedDepth > 0) return;
        const text = this.nested.join('');
        this.nested = [];
        const blob = /^\{"\$blob":"((?:[0-9a-fA-F]{2})*)"\}$/.exec(text);
        return this.set(blob ? hexToBytes(blob[1]) : text);
      }
      case 'keyValue':
        this.text(JSON.stringify(tok.value));
        this.nested.push(':');
        // the member's value follows its key without a comma
        this.nestedNeedsComma[this.nestedNeedsComma.length - 1] = false;
        return;
      case 'stringValue':
        return this.text(JSON.stringify(tok.value));
      case 'numberValue':
        return this.text(tok.value);
      case 'nullValue':
        return this.text('null');
      case 'trueValue':
      case 'falseValue':
        return this.text(String(tok.value));
      default:
        return;
    }
  }

  end(): void {
    if (this.depth !== 0) throw new ApiError('invalid-argument', 'The JSON ends too soon.');
  }
}

/** The JSON tokenizer over text chunks, one call per chunk (synchronous: no per-token await). */
async function stageJson(staging: Staging, chunks: Iterable<string> | AsyncIterable<string>): Promise<void> {
  const tokenize = jsonParser({ packValues: true, streamValues: false });
  const rows = new JsonRows(staging);
  const feed = (r: unknown) => {
    if (r === none) return;
    for (const t of isMany(r) ? (getManyValues(r) as Token[]) : [r as Token]) rows.take(t);
  };
  let first = true;
  try {
    for await (let chunk of chunks) {
      if (first && chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      first = false;
      feed(tokenize(chunk));
    }
    feed(tokenize(none as unknown as string));
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError('invalid-argument', `Not valid JSON: ${(err as Error).message}. Nothing was imported.`);
  }
  rows.end();
}

export function formatOf(path: string, given?: unknown): ImportFormat {
  if (given === 'csv' || given === 'json') return given;
  if (given !== undefined) throw new ApiError('invalid-argument', 'Import CSV or JSON.');
  return /\.json$/i.test(path) ? 'json' : 'csv';
}

function readHead(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(PREVIEW_BYTES);
    const n = readSync(fd, buf, 0, PREVIEW_BYTES, 0);
    // cut at the last whole line (and so never inside a UTF-8 sequence)
    const text = buf.subarray(0, n).toString('utf8');
    const end = n === PREVIEW_BYTES ? text.lastIndexOf('\n') : text.length;
    return (end > 0 ? text.slice(0, end) : text).replace(/^\ufeff/, '');
  } finally {
    closeSync(fd);
  }
}

function existingFile(typed: unknown): { path: string; size: number } {
  const path = userPath(typed);
  let s;
  try {
    s = statSync(path);
  } catch {
    throw new ApiError('not-found', `No file at ${path}.`);
  }
  if (s.isDirectory()) throw new ApiError('invalid-argument', `${path} is a folder: choose a file.`);
  return { path, size: s.size };
}

/** The first lines of a file and the columns an import would make of them. */
export function previewImport(p: { path?: unknown; format?: unknown }): ImportPreview {
  const { path, size } = existingFile(p?.path);
  const format = formatOf(path, p?.format);
  const head = readHead(path);
  let columns: string[] = [];
  let width = 0;
  if (format === 'csv') {
    const firstLine = (() => {
      try {
        return parseCsv(head)[0] ?? [];
      } catch {
        return parseCsv(head.split(/\r?\n/)[0] ?? '')[0] ?? [];
      }
    })();
    width = firstLine.length;
    columns = firstLine.map((f, i) => f?.text || `column${i + 1}`);
  } else {
    // the keys of the objects that start the file, in order (the import takes every object's)
    const keys = new Set<string>();
    const tokenize = jsonParser({ packValues: true, streamValues: false });
    let depth = 0;
    try {
      const r = tokenize(head.replace(/^\ufeff/, ''));
      for (const t of r === none ? [] : isMany(r) ? (getManyValues(r) as Token[]) : [r as Token]) {
        if (t.name === 'startArray' || t.name === 'startObject') depth++;
        else if (t.name === 'endArray' || t.name === 'endObject') depth--;
        else if (t.name === 'keyValue' && depth === 2) keys.add(t.value);
      }
    } catch {
      // a preview of a broken file: the import says what is wrong
    }
    columns = [...keys];
    width = columns.length;
  }
  return { path, name: basename(path), format, size, head: head.split(/\r?\n/).slice(0, 8).join('\n'), columns, width };
}

export interface ImportDeps {
  db: Database.Database;
  /** the service's write transaction (tells listeners once committed) */
  write: <T>(table: string, fn: () => T) => T;
  onCreated: () => void;
}

/** Imports a CSV or JSON file, streamed, all or nothing. */
export async function importFile(deps: ImportDeps, p: FileImportRequest): Promise<{ inserted: number }> {
  const { path } = existingFile(p?.path);
  const format = formatOf(path, p?.format);
  const staging = new Staging(deps.db);
  try {
    if (format === 'csv') {
      const file = createReadStream(path);
      const parser = file.pipe(csvStream(CSV_OPTIONS));
      try {
        await stageCsv(staging, parser as AsyncIterable<CsvField[]>, p.header !== false);
      } catch (err) {
        parser.destroy();
        file.destroy();
        if (err instanceof ApiError) throw err;
        throw new ApiError('invalid-argument', `CSV: ${(err as Error).message}. Nothing was imported.`);
      }
    } else {
      await stageJson(staging, createReadStream(path, { encoding: 'utf8' }) as AsyncIterable<string>);
    }
    return { inserted: staging.finish(p, deps.write, deps.onCreated) };
  } finally {
    staging.drop();
  }
}

/** CSV text (the importCsv call, for small data) through the same staging and checks. */
export async function importCsvText(deps: ImportDeps, p: Omit<ImportTarget, 'types'> & { csv: string; header: boolean; types?: string[] }): Promise<{ inserted: number }> {
  const staging = new Staging(deps.db);
  try {
    let records: CsvField[][];
    try {
      records = parseCsv(String(p.csv ?? ''));
    } catch (err) {
      throw new ApiError('invalid-argument', (err as Error).message);
    }
    if (records.length === 0) throw new ApiError('invalid-argument', 'The CSV is empty.');
    await stageCsv(staging, records, p.header);
    if (p.types !== undefined && (!Array.isArray(p.types) || p.types.length !== staging.columns.length)) {
      throw new ApiError('invalid-argument', `Give one type per CSV column (${staging.columns.length}).`);
    }
    const types = p.types ? Object.fromEntries(staging.columns.map((c, i) => [c, p.types![i]])) : undefined;
    return { inserted: staging.finish({ ...p, types }, deps.write, deps.onCreated) };
  } finally {
    staging.drop();
  }
}
