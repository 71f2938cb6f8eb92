// cr-sqlite's primary-key packing (crsql_changes.pk): a count byte, then per column a header
// byte (n << 3 | type) followed by n bytes of length/value and the data. See crr-semantics.md.
import type { SqlValue } from '../../shared/values.ts';

const INTEGER = 1;
const REAL = 2;
const TEXT = 3;
const BLOB = 4;
const NULL = 5;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function minimalBytes(n: bigint): number {
  let bytes = 0;
  while (n > 0n) {
    bytes++;
    n >>= 8n;
  }
  return bytes;
}

function pushBigEndian(out: number[], value: bigint, bytes: number): void {
  for (let i = bytes - 1; i >= 0; i--) out.push(Number((value >> BigInt(i * 8)) & 0xffn));
}

export function packPrimaryKey(values: readonly SqlValue[]): Uint8Array {
  if (values.length > 255) throw new RangeError('a primary key has at most 255 columns');
  const out: number[] = [values.length];
  for (const value of values) {
    if (value === null) {
      out.push(NULL);
    } else if (typeof value === 'bigint') {
      if (value < 0n) {
        out.push((8 << 3) | INTEGER);
        pushBigEndian(out, BigInt.asUintN(64, value), 8);
      } else {
        const n = minimalBytes(value);
        if (n > 8) throw new RangeError(`integer out of 64-bit range: ${value}`);
        out.push((n << 3) | INTEGER);
        pushBigEndian(out, value, n);
      }
    } else if (typeof value === 'number') {
      out.push(REAL);
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, value);
      for (let i = 0; i < 8; i++) out.push(view.getUint8(i));
    } else {
      const bytes = typeof value === 'string' ? encoder.encode(value) : value;
      const n = Math.max(1, minimalBytes(BigInt(bytes.length)));
      out.push((n << 3) | (typeof value === 'string' ? TEXT : BLOB));
      if (bytes.length === 0 && typeof value !== 'string') {
        // cr-sqlite writes an empty blob as the bare header with n = 0
        out[out.length - 1] = BLOB;
        continue;
      }
      if (bytes.length === 0) {
        out[out.length - 1] = TEXT;
        continue;
      }
      pushBigEndian(out, BigInt(bytes.length), n);
      for (const b of bytes) out.push(b);
    }
  }
  return Uint8Array.from(out);
}

const truncated = () => new TypeError('packed pk is truncated');

/** n big-endian bytes at `at` (n <= 8), as an unsigned bigint. */
function readBigEndian(packed: Uint8Array, at: number, n: number): bigint {
  if (at + n > packed.length) throw truncated();
  // up to 6 bytes fit a double exactly: no BigInt arithmetic per byte
  if (n <= 6) {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + packed[at + i];
    return BigInt(v);
  }
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(packed[at + i]);
  return v;
}

/** n big-endian bytes at `at` (n <= 6), as a number: lengths. */
function readLength(packed: Uint8Array, at: number, n: number): number {
  if (at + n > packed.length) throw truncated();
  if (n > 6) throw new TypeError('packed pk has an impossible length');
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + packed[at + i];
  return v;
}

export function unpackPrimaryKey(packed: Uint8Array): SqlValue[] {
  if (!(packed instanceof Uint8Array) || packed.length === 0) throw new TypeError('packed pk must be a non-empty blob');
  const count = packed[0];
  const values: SqlValue[] = [];
  let at = 1;
  for (let c = 0; c < count; c++) {
    if (at + 1 > packed.length) throw truncated();
    const header = packed[at++];
    const type = header & 7;
    const n = header >> 3;
    if (type === INTEGER) {
      if (n > 8) throw new TypeError('packed pk has an integer wider than 8 bytes');
      const raw = readBigEndian(packed, at, n);
      at += n;
      values.push(n === 8 ? BigInt.asIntN(64, raw) : raw);
    } else if (type === REAL) {
      if (at + 8 > packed.length) throw truncated();
      values.push(new DataView(packed.buffer, packed.byteOffset + at, 8).getFloat64(0));
      at += 8;
    } else if (type === TEXT || type === BLOB) {
      const len = readLength(packed, at, n);
      at += n;
      if (at + len > packed.length) throw truncated();
      values.push(type === TEXT ? decoder.decode(packed.subarray(at, at + len)) : packed.slice(at, at + len));
      at += len;
    } else if (type === NULL) {
      values.push(null);
    } else {
      throw new TypeError(`packed pk has unknown type ${type}`);
    }
  }
  if (at !== packed.length) throw new TypeError('packed pk has trailing bytes');
  return values;
}

/** One value's packed bytes (no count byte): for the SQL packer's fallback (REAL, BLOB, NULL). */
export const packPart = (value: SqlValue): Uint8Array => packPrimaryKey([value]).subarray(1);

/**
 * The packed key in SQL, for the columns `cols` (expressions): INTEGER and TEXT values are packed
 * by SQL expressions (no call out of SQLite per change); other classes by `fallback(x)`, a
 * function returning packPart. Needs unhex() (SQLite 3.41+): used only on the engine's own
 * connection (TEMP views).
 */
export function packPrimaryKeySql(cols: string[], fallback: string): string {
  const intPart = (x: string) => {
    const sizes = [1, 2, 3, 4, 5, 6, 7];
    return `CASE WHEN ${x} = 0 THEN X'01' WHEN ${x} < 0 THEN unhex(printf('41%016X', ${x}))
      ${sizes.map((n) => `WHEN ${x} < ${2n ** BigInt(8 * n)} THEN unhex(printf('${((n << 3) | INTEGER).toString(16).padStart(2, '0').toUpperCase()}%0${2 * n}X', ${x}))`).join(' ')}
      ELSE unhex(printf('41%016X', ${x})) END`;
  };
  const textPart = (x: string) => {
    const len = `length(CAST(${x} AS BLOB))`;
    const sizes = [1, 2, 3, 4];
    return `CASE WHEN ${len} = 0 THEN X'03'
      ${sizes.map((n) => `WHEN ${len} < ${2 ** (8 * n)} THEN unhex(printf('${((n << 3) | TEXT).toString(16).padStart(2, '0').toUpperCase()}%0${2 * n}X', ${len})) || CAST(${x} AS BLOB)`).join(' ')}
      END`;
  };
  const part = (x: string) => `CASE typeof(${x}) WHEN 'integer' THEN ${intPart(x)} WHEN 'text' THEN ${textPart(x)} ELSE ${fallback}(${x}) END`;
  // || yields TEXT even of blobs: the bytes are right, the class is set back to BLOB
  return `CAST(X'${cols.length.toString(16).padStart(2, '0')}' || ${cols.map(part).join(' || ')} AS BLOB)`;
}
