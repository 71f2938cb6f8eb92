// SQLite values with their storage class kept exact across every boundary.
// INTEGER is always a bigint and REAL is always a number, exactly as better-sqlite3
// returns them with safeIntegers(true): 5n and 5.0 are different SQLite values, and
// replicas diverge if one silently turns into the other.

export type SqlValue = null | bigint | number | string | Uint8Array;

export type StorageClass = 'null' | 'integer' | 'real' | 'text' | 'blob';

export function storageClassOf(value: SqlValue): StorageClass {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return 'real';
  if (typeof value === 'string') return 'text';
  return 'blob';
}

/** JSON-safe form of a SqlValue: text and null as themselves, the rest tagged. */
export type WireValue =
  | null
  | string
  | { i: string } // INTEGER, decimal
  | { r: number | 'Infinity' | '-Infinity' | '-0' } // REAL
  | { b: string }; // BLOB, base64

export function toWire(value: SqlValue): WireValue {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'bigint') return { i: value.toString() };
  if (typeof value === 'number') {
    if (value === Infinity) return { r: 'Infinity' };
    if (value === -Infinity) return { r: '-Infinity' };
    // JSON writes -0 as 0: a REAL -0.0 (an untyped column keeps its sign) is named
    if (Object.is(value, -0)) return { r: '-0' };
    return { r: value };
  }
  return { b: bytesToBase64(value) };
}

export function fromWire(wire: WireValue): SqlValue {
  if (wire === null || typeof wire === 'string') return wire;
  if (typeof wire !== 'object') throw new TypeError(`not a wire value: ${JSON.stringify(wire)}`);
  if ('i' in wire && typeof wire.i === 'string' && /^-?\d+$/.test(wire.i)) return BigInt(wire.i);
  if ('r' in wire) {
    if (wire.r === 'Infinity') return Infinity;
    if (wire.r === '-Infinity') return -Infinity;
    if (wire.r === '-0') return -0;
    if (typeof wire.r === 'number') return wire.r;
  }
  if ('b' in wire && typeof wire.b === 'string') return base64ToBytes(wire.b);
  throw new TypeError(`not a wire value: ${JSON.stringify(wire)}`);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

export function base64ToBytes(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    throw new TypeError('invalid base64');
  }
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const n =
      (B64.indexOf(text[i]) << 18) |
      (B64.indexOf(text[i + 1]) << 12) |
      ((B64.indexOf(text[i + 2]) & 63) << 6) |
      (B64.indexOf(text[i + 3]) & 63);
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out.toUpperCase();
}

export function hexToBytes(hex: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new TypeError(`invalid hex: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
