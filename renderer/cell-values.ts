// How cell values look in the grid and how edited text becomes a value again, keeping the
// storage class: an INTEGER edit stays an integer, NULL is never confused with ''.
import { base64ToBytes, bytesToBase64, bytesToHex, hexToBytes, type WireValue } from '../shared/values.ts';
import { affinity } from '../shared/column-affinity.ts';

export { affinity, type Affinity } from '../shared/column-affinity.ts';

export type CellKind = 'null' | 'integer' | 'real' | 'text' | 'blob';

export function kindOf(v: WireValue): CellKind {
  if (v === null) return 'null';
  if (typeof v === 'string') return 'text';
  if ('i' in v) return 'integer';
  if ('r' in v) return 'real';
  return 'blob';
}

function blobBytes(b64: string): number[] {
  const bin = atob(b64);
  return Array.from(bin, (c) => c.charCodeAt(0));
}

export function formatReal(r: number | string): string {
  if (typeof r === 'string') return r;
  return Number.isInteger(r) ? r.toFixed(1) : String(r);
}

/** Text shown in a cell. */
export function displayValue(v: WireValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return v;
  if ('i' in v) return v.i;
  if ('r' in v) return formatReal(v.r);
  const bytes = blobBytes(v.b);
  const hex = bytes.slice(0, 8).map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `${bytes.length} bytes${bytes.length ? ` · ${hex}${bytes.length > 8 ? ' …' : ''}` : ''}`;
}

/** A blob as editable and copyable text: SQLite's literal X'…' (pasted back, it is a blob again). */
const BLOB_LITERAL = /^[xX]'((?:[0-9a-fA-F]{2})*)'$/;
/** blobs larger than this are not edited inline (their hex would be megabytes of text) */
export const MAX_INLINE_BLOB = 64 * 1024;

export function blobSize(v: WireValue): number {
  return v !== null && typeof v === 'object' && 'b' in v ? base64ToBytes(v.b).length : 0;
}

/** Text put in the editor when editing starts (and copied as TSV). */
export function editText(v: WireValue): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if ('i' in v) return v.i;
  if ('r' in v) return formatReal(v.r);
  return `X'${bytesToHex(base64ToBytes(v.b))}'`;
}

/**
 * The value an edit means: numbers stay numbers where the column (INTEGER, REAL, NUMERIC) or the
 * old value is numeric; X'…' is a blob where the column has no affinity or the cell held one.
 */
export function parseEdit(text: string, previous: WireValue, declared: string): WireValue {
  const aff = affinity(declared);
  const was = kindOf(previous);
  const numeric = aff === 'numeric' || (aff === 'blob' && (was === 'integer' || was === 'real'));
  const wantsInteger = aff === 'integer' || numeric;
  const wantsReal = aff === 'real' || numeric;
  const blob = BLOB_LITERAL.exec(text.trim());
  if (blob && (was === 'blob' || aff === 'blob' || aff === 'numeric')) return { b: bytesToBase64(hexToBytes(blob[1])) };
  if (wantsInteger && /^[-+]?\d+$/.test(text.trim())) return { i: BigInt(text.trim()).toString() };
  if ((wantsInteger || wantsReal) && text.trim() !== '' && Number.isFinite(Number(text))) {
    return aff === 'integer' && Number.isInteger(Number(text)) ? { i: String(Number(text)) } : { r: Number(text) };
  }
  return text;
}

/** Line breaks and tabs made visible, for a one-line cell (the editor shows the text as it is). */
export const oneLine = (text: string) => text.replace(/\r\n|\r|\n/g, '↵').replace(/\t/g, '→');

/** One cell's identity across windows and events: its row key and column. */
export const cellId = (key: WireValue[], column: string) => `${JSON.stringify(key)}\u0000${column}`;
