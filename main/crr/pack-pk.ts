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

/** bytes of n's big-endian form without leading zeros (0 for 0); n < 2^64 */
function minimalBytes(n: bigint): number {
  if (n < 0x100000000n) return uintBytes(Number(n));
  return 4 + uintBytes(Number(n >> 32n));
}

/** the same for a safe non-negative integer below 2^32 */
function uintBytes(n: number): number {
  return n === 0 ? 0 : n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
}

// packing writes into one growing scratch buffer and copies out the result: a key is packed
// for every change read, so no per-byte array and no BigInt arithmetic for small integers
let scratch = new Uint8Array(256);
let scratchView = new DataView(scratch.buffer);

function room(at: number, n: number): void {
  if (at + n <= scratch.length) return;
  const bigger = new Uint8Array(Math.max(2 * scratch.length, at + n));
  bigger.set(scratch.subarray(0, at));
  scratch = bigger;
  scratchView = new DataView(scratch.buffer);
}

/** n bytes of v big-endian at `at` (v < 2^32) */
function writeUint(at: number, v: number, n: number): void {
  for (let i = n - 1; i >= 0; i--) {
    scratch[at + i] = v & 0xff;
    v = Math.floor(v / 256);
  }
}

export function packPrimaryKey(values: readonly SqlValue[]): Uint8Array {
  if (values.length > 255) throw new RangeError('a primary key has at most 255 columns');
  room(0, 1);
  scratch[0] = values.length;
  let at = 1;
  for (const value of values) {
    if (value === null) {
      room(at, 1);
      scratch[at++] = NULL;
    } else if (typeof value === 'bigint') {
      room(at, 9);
      if (value < 0n) {
        scratch[at] = (8 << 3) | INTEGER;
        scratchView.setBigUint64(at + 1, BigInt.asUintN(64, value));
        at += 9;
        continue;
      }
      const n = value < 2n ** 64n ? minimalBytes(value) : 9;
      if (n > 8) throw new RangeError(`integer out of 64-bit range: ${value}`);
      scratch[at] = (n << 3) | INTEGER;
      if (n <= 4) writeUint(at + 1, Number(value), n);
      else {
        writeUint(at + 1, Number(value >> 32n), n - 4);
        writeUint(at + 1 + n - 4, Number(value & 0xffffffffn), 4);
      }
      at += 1 + n;
    } else if (typeof value === 'number') {
      room(at, 9);
      scratch[at] = REAL;
      scratchView.setFloat64(at + 1, value);
      at += 9;
    } else if (typeof value === 'string') {
      if (value.length === 0) {
        room(at, 1);
        scratch[at++] = TEXT;
        continue;
      }
      // encoded after room for the longest header (1 + 4), then moved down to its place
      room(at, 5 + 3 * value.length);
      const { written } = encoder.encodeInto(value, scratch.subarray(at + 5));
      const n = Math.max(1, uintBytes(written));
      scratch[at] = (n << 3) | TEXT;
      writeUint(at + 1, written, n);
      if (n < 4) scratch.copyWithin(at + 1 + n, at + 5, at + 5 + written);
      at += 1 + n + written;
    } else {
      const bytes = value;
      room(at, 5 + bytes.length);
      if (bytes.length === 0) {
        // cr-sqlite writes an empty blob as the bare header with n = 0
        scratch[at++] = BLOB;
        continue;
      }
      const n = Math.max(1, uintBytes(bytes.length));
      scratch[at] = (n << 3) | BLOB;
      writeUint(at + 1, bytes.length, n);
      scratch.set(bytes, at + 1 + n);
      at += 1 + n + bytes.length;
    }
  }
  return scratch.slice(0, at);
}

const truncated = () => new TypeError('packed pk is truncated');

/**
 * UTF-8 text of bytes [from, to): a short ASCII key read byte by byte (twice as fast as the
 * decoder's native call, which every change of a clone makes), anything else by the decoder
 */
function decodeText(b: Uint8Array, from: number, to: number): string {
  if (to - from <= 32) {
    let s = '';
    for (let i = from; i < to; i++) {
      const c = b[i];
      if (c >= 0x80) return decoder.decode(b.subarray(from, to));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(b.subarray(from, to));
}

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
      values.push(type === TEXT ? decodeText(packed, at, at + len) : packed.slice(at, at + len));
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

/** Two byte strings are equal (a JS loop: for keys and site ids, cheaper than Buffer.equals' native call) */
/** two site ids (or none) alike: both absent, or the same bytes */
export const sameSite = (a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean => (a && b ? sameBytes(a, b) : a == null && b == null);

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
