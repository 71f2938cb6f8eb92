// cr-sqlite's tie-break when two versions of a cell have the same col_version: storage classes
// rank INTEGER > REAL > TEXT > BLOB > NULL; within a class, numeric order or bytewise order.
import type { SqlValue } from '../../shared/values.ts';

function rank(v: SqlValue): number {
  if (v === null) return 1;
  if (typeof v === 'bigint') return 5;
  if (typeof v === 'number') return 4;
  if (typeof v === 'string') return 3;
  return 2;
}

const encoder = new TextEncoder();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return Math.sign(a.length - b.length);
}

/** > 0 when a wins over b, < 0 when b wins, 0 when equal. */
export function compareValues(a: SqlValue, b: SqlValue): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra < rb ? -1 : 1;
  if (a === null) return 0;
  if (typeof a === 'bigint' || typeof a === 'number') return a < (b as typeof a) ? -1 : a > (b as typeof a) ? 1 : 0;
  if (typeof a === 'string') return compareBytes(encoder.encode(a), encoder.encode(b as string));
  return compareBytes(a, b as Uint8Array);
}

/** The storage-class rank of a SQL expression (5 INTEGER … 1 NULL). */
export const sqlValueRank = (x: string): string =>
  `(CASE typeof(${x}) WHEN 'integer' THEN 5 WHEN 'real' THEN 4 WHEN 'text' THEN 3 WHEN 'blob' THEN 2 ELSE 1 END)`;

/** The same ranking in SQL, for merging: true when `a` beats `b`. */
export function sqlValueWins(a: string, b: string): string {
  const r = sqlValueRank;
  // Same class: SQLite compares numbers numerically and TEXT/BLOB with memcmp (BINARY collation).
  return `(${r(a)} > ${r(b)} OR (${r(a)} = ${r(b)} AND ${a} > ${b} COLLATE BINARY))`;
}
