// CSV (RFC 4180) for export and import that keeps NULL apart from the empty string: NULL is an
// empty unquoted field, '' is "". Unquoted numbers come back as numbers; blobs go out as X'hex'.
import type { SqlValue } from '../../shared/values.ts';
import { bytesToHex, hexToBytes } from '../../shared/values.ts';

function field(v: SqlValue): string {
  if (v === null) return '';
  if (v instanceof Uint8Array) return `X'${bytesToHex(v)}'`;
  if (typeof v === 'number') return Number.isInteger(v) ? v.toFixed(1) : String(v);
  const s = String(v);
  return typeof v === 'string' && (s === '' || /[",\r\n]/.test(s) || /^\s|\s$/.test(s) || /^[-+]?\d/.test(s) || /^X'/i.test(s))
    ? `"${s.replace(/"/g, '""')}"`
    : s;
}

export function toCsv(columns: string[], rows: Iterable<SqlValue[]>): string {
  const lines = [columns.map((c) => field(c)).join(',')];
  for (const r of rows) lines.push(r.map(field).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** A parsed field: null when empty and unquoted. */
export type CsvField = { text: string; quoted: boolean } | null;

export function parseCsv(text: string): CsvField[][] {
  const rows: CsvField[][] = [];
  let row: CsvField[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    let value: CsvField;
    if (text[i] === '"') {
      let out = '';
      i++;
      for (;;) {
        if (i >= n) throw new Error('CSV: a quoted field is not closed');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            out += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        out += text[i++];
      }
      value = { text: out, quoted: true };
    } else {
      let j = i;
      while (j < n && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
      value = j === i ? null : { text: text.slice(i, j), quoted: false };
      i = j;
    }
    row.push(value);
    if (text[i] === ',') {
      i++;
      if (i === n) row.push(null);
    } else {
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      rows.push(row);
      row = [];
    }
  }
  if (row.length) rows.push(row);
  return rows;
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
