// Length-prefixed CBOR frames on a libp2p stream: 4 bytes big-endian length, then one CBOR item
// (sync protocol 5; up to 4 the body was UTF-8 JSON). CBOR through `cborg`: the strict CBOR codec
// of the libp2p/IPFS ecosystem (libp2p already depends on it), which carries raw byte strings
// (keys, blobs, site ids, nonces, proofs) where JSON needed base64: a change frame is about half
// the size (its CPU cost about the same: cborg decodes in JS what JSON.parse did natively). A frame
// over the limit or that does not decode is a FrameError: the session closes the stream and
// applies nothing from that frame. The limit is checked on the 4-byte header, before the frame's
// body is buffered, and can change between frames: a session reads a few KB before its peer has
// authenticated, up to MAX_FRAME_BYTES after (session.ts).
//
// Decoding is strict: integers and lengths in their shortest form, no indefinite lengths, no
// undefined, no NaN, no tags, no duplicate map keys, map keys text only, text valid UTF-8. An
// integer beyond 2^53 decodes to a bigint (the codecs refuse it where a count is due). A string's
// length is checked against the bytes present before it is read, and a list or map grows item by
// item (each at least a byte), so decoding a frame allocates in proportion to its (limited) size.
//
// JSON bodies (first byte '{', which no CBOR map starts with) are read only where the reader is
// told to: before authentication, for the hello and refusals, which stay JSON so that a peer of
// an older protocol can read our hello and we its, and either side refuses the other with a clear
// version error (session.ts).
import { decode, encode, Token, Tokenizer, Type, type DecodeOptions } from 'cborg';

/** Hard limit for one incoming frame after authentication. Senders aim well below it (see session.ts). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Limit before authentication: hello, challenge and proof take a few hundred bytes. */
export const PREAUTH_MAX_FRAME_BYTES = 8 * 1024;

export class FrameError extends Error {}

const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true });
const JSON_OPEN = 0x7b; // '{'

const DECODE: DecodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowNaN: false,
  allowBigInt: true,
  rejectDuplicateMapKeys: true,
};

/**
 * cborg's tokenizer, but text is decoded natively and must be UTF-8 (cborg would put U+FFFD in
 * place of bad bytes, and builds short strings a character at a time), and text and unsigned
 * integers come in one reused token (cborg allocates one per item, a change frame's main garbage;
 * cborg reads a terminal token's value at once). Lengths and integers are checked as cborg's
 * strict mode does.
 */
class StrictText extends Tokenizer {
  private readonly buffer: Buffer;
  private readonly terminal = new Token(Type.uint, 0, 1);

  constructor(bytes: Uint8Array) {
    super(bytes, DECODE);
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  override next(): Token {
    const b = this.data;
    const at = this._pos;
    const first = b[at];
    // unsigned integers of 1 to 4 bytes, text of 1 byte up to 2^32 - 1 (the rest is cborg's)
    const uint = first >= 0x18 && first <= 0x1a;
    if (!uint && (first < 0x61 || first > 0x7a)) return super.next();
    const minor = first & 31;
    let head = 1;
    let length = minor;
    if (minor === 24) [head, length] = [2, b[at + 1]];
    else if (minor === 25) [head, length] = [3, (b[at + 1] << 8) | b[at + 2]];
    else if (minor === 26) [head, length] = [5, b[at + 1] * 2 ** 24 + ((b[at + 2] << 16) | (b[at + 3] << 8) | b[at + 4])];
    if (at + head > b.length || (minor >= 24 && length < [24, 256, 65536][minor - 24])) throw new Error('integer or length encoded in more bytes than necessary, or cut');
    if (uint) return this.emit(Type.uint, length, head);
    const start = at + head;
    const end = start + length;
    if (end > b.length) throw new Error('not enough data for text');
    let ascii = true;
    for (let i = start; i < end && ascii; i++) ascii = b[i] < 0x80;
    const text = ascii ? this.buffer.toString('latin1', start, end) : utf8.decode(b.subarray(start, end));
    return this.emit(Type.string, text, head + length);
  }

  private emit(type: Type, value: unknown, bytes: number): Token {
    const t = this.terminal;
    t.type = type;
    t.value = value;
    t.encodedLength = bytes;
    this._pos += bytes;
    return t;
  }
}

function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/**
 * What a frame carries for a REAL -0.0 (an untyped column keeps its sign): cborg writes the number
 * -0 as the integer 0 (Number.isInteger(-0)). A marker object, so that the hook writing it as a
 * float runs for the frame's few objects, not for every number.
 */
export const NEGATIVE_ZERO = Object.freeze({ negativeZero: true });
const ENCODE = {
  ignoreUndefinedProperties: true,
  typeEncoders: { Object: (o: unknown) => (o === NEGATIVE_ZERO ? [new Token(Type.float, -0)] : null) },
};

/** A CBOR frame; properties whose value is undefined are left out (as JSON did). */
export function encodeFrame(message: unknown): Uint8Array {
  return frame(encode(message, ENCODE));
}

/** A JSON frame: the hello and refusals only (see the opening comment). */
export function encodeJsonFrame(message: unknown): Uint8Array {
  return frame(encoder.encode(JSON.stringify(message)));
}

/** Reassembles frames from stream chunks of any size. */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  /** `json`: whether JSON bodies are taken too (before authentication) */
  constructor(
    private maxBytes = MAX_FRAME_BYTES,
    private json = false,
  ) {}

  /** The limit for frames whose header has not been read yet, and whether JSON bodies are taken. */
  setLimit(maxBytes: number, json = false): void {
    this.maxBytes = maxBytes;
    this.json = json;
  }

  /** Adds bytes; returns the messages completed by them, in order. */
  push(chunk: Uint8Array): unknown[] {
    this.add(chunk);
    const out: unknown[] = [];
    for (let m = this.next(); m !== undefined; m = this.next()) out.push(m);
    return out;
  }

  /** Adds bytes without reading them: call next() until it returns undefined. */
  add(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next complete message, or undefined until more bytes arrive. Throws FrameError. */
  next(): unknown {
    if (this.buffered < 4) return undefined;
    const head = this.take(4, false);
    const length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
    if (length > this.maxBytes) throw new FrameError(`frame of ${length} bytes is over the ${this.maxBytes}-byte limit`);
    if (this.buffered < 4 + length) return undefined;
    this.take(4, true);
    const body = this.take(length, true);
    if (this.json && body[0] === JSON_OPEN) {
      try {
        return JSON.parse(utf8.decode(body));
      } catch {
        throw new FrameError('frame is not UTF-8 JSON');
      }
    }
    try {
      return decode(body, { ...DECODE, tokenizer: new StrictText(body) });
    } catch (err) {
      throw new FrameError(`frame is not CBOR of this protocol (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  /** Drops what is buffered (the session ended). */
  clear(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  /** The first n buffered bytes, optionally removing them. */
  private take(n: number, consume: boolean): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const first = this.chunks[0];
    let bytes: Uint8Array;
    if (first.length >= n) bytes = first.subarray(0, n);
    else {
      bytes = new Uint8Array(n);
      let o = 0;
      for (const c of this.chunks) {
        const part = c.subarray(0, Math.min(c.length, n - o));
        bytes.set(part, o);
        o += part.length;
        if (o === n) break;
      }
    }
    if (consume) {
      let left = n;
      while (left > 0) {
        const c = this.chunks[0];
        if (c.length <= left) {
          this.chunks.shift();
          left -= c.length;
        } else {
          this.chunks[0] = c.subarray(left);
          left = 0;
        }
      }
      this.buffered -= n;
    }
    return bytes;
  }
}
