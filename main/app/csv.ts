// CSV (RFC 4180) for export and import that keeps NULL apart from the empty string: NULL is an
// empty unquoted field, '' is "". Unquoted numbers come back as numbers (digits alone INTEGER,
// with a point or exponent REAL), blobs go out as X'hex'; text that would read back as anything
// but itself is quoted. Parsing is csv-parse's (well kept, streaming, the same parser for a text
// and for a file of any size): its `cast` hook says whether a field was quoted, which is what
// tells NULL from ''.
import { parse as parseSync } from 'csv-parse/sync';
import type { Options } from 'csv-parse';
import type { SqlValue } from '../../shared/values.ts';
import { bytesToHex, hexToBytes } from '../../shared/values.ts';

/** REAL as text that reads back as REAL: a point or an exponent always, infinities as 9e999 (as SQLite writes them). */
export function realText(v: number): string {
  if (v === Infinity) return '9e999';
  if (v === -Infinity) return '-9e999';
  if (Object.is(v, -0)) return '-0.0';
  const s = String(v);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}

export function csvField(v: SqlValue): string {
  if (v === null) return '';
  if (v instanceof Uint8Array) return `X'${bytesToHex(v)}'`;
  if (typeof v === 'number') return realText(v);
  if (typeof v === 'bigint') return String(v);
  const s = String(v);
  const plain = s !== '' && !/[",\r\n]/.test(s) && !/^\s|\s$/.test(s) && csvValue({ text: s, quoted: false }) === s;
  return plain ? s : `"${s.replace(/"/g, '""')}"`;
}

export function csvLine(values: SqlValue[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

export function toCsv(columns: string[], rows: Iterable<SqlValue[]>): string {
  let out = csvLine(columns);
  for (const r of rows) out += csvLine(r);
  return out;
}

/** A parsed field: null when empty and unquoted. */
export type CsvField = { text: string; quoted: boolean } | null;

/** csv-parse's options for our dialect: fields as CsvField, any line ending, a BOM dropped, rows of any width (checked by the import). */
export const CSV_OPTIONS: Options = {
  cast: (value, ctx) => (ctx.quoting ? { text: value, quoted: true } : value === '' ? null : { text: value, quoted: false }),
  relax_column_count: true,
  bom: true,
  record_delimiter: ['\r\n', '\n', '\r'],
};

export function parseCsv(text: string): CsvField[][] {
  try {
    return parseSync(text, CSV_OPTIONS) as unknown as CsvField[][];
  } catch (err) {
    throw new Error(`CSV: ${(err as Error).message}`);
  }
}

/** The SQL value an imported field means. Quoted fields stay text. */
export function csvValue(f: CsvField): SqlValue {
  if (f === null) return null;
  if (f.quoted) return f.text;
  const raw = f.text;
  if (/^[-+]?\d+$/.test(raw) && BigInt(raw) <= 9223372036854775807n && BigInt(raw) >= -9223372036854775808n) return BigInt(raw);
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(raw)) return Number(raw);
  if (/^X'([0-9a-fA-F]{2})*'$/.test(raw)) return hexToBytes(raw.slice(2, -1));
  return raw;
}
