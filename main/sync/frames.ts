// Length-prefixed CBOR frames on a libp2p stream: 4 bytes big-endian length, then one CBOR item
// (sync protocol 5; up to 4 the body was UTF-8 JSON). CBOR through `cborg`: the strict CBOR codec
// of the libp2p/IPFS ecosystem (libp2p already depends on it), which carries raw byte strings
// (keys, blobs, site ids, nonces, proofs) where JSON needed base64, and decodes faster. A frame
// over the limit or that does not decode is a FrameError: the session closes the stream and
// applies nothing from that frame. The limit is checked on the 4-byte header, before the frame's
// body is buffered, and can change between frames: a session reads a few KB before its peer has
// authenticated, up to MAX_FRAME_BYTES after (session.ts).
//
// Decoding is strict: integers and lengths in their shortest form, no indefinite lengths, no
// undefined, no NaN, no tags, no duplicate map keys, map keys text only, text valid UTF-8. An
// integer beyond 2^53 decodes to a bigint (the codecs refuse it where a count is due). Every
// length is checked against the bytes present before anything is allocated, so a frame costs at
// most a small multiple of its (size-limited) bytes.
//
// JSON bodies (first byte '{', which no CBOR map starts with) are read only where the reader is
// told to: before authentication, for the hello and refusals, which stay JSON so that a peer of
// an older protocol can read our hello and we its, and either side refuses the other with a clear
// version error (session.ts).
import { decode, encode, Tokenizer, Type, type DecodeOptions } from 'cborg';

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

/** cborg's tokenizer, refusing text that is not UTF-8 (cborg would decode it with U+FFFD in place). */
class StrictText extends Tokenizer {
  constructor(private readonly bytes: Uint8Array) {
    super(bytes, DECODE);
  }

  override next() {
    const at = this.pos();
    const token = super.next();
    if (token.type === Type.string && (token.value as string).includes('\uFFFD')) {
      const minor = this.bytes[at] & 31;
      const head = minor < 24 ? 1 : 1 + 2 ** (minor - 24);
      utf8.decode(this.bytes.subarray(at + head, at + (token.encodedLength ?? head)));
    }
    return token;
  }
}

function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** A CBOR frame; properties whose value is undefined are left out (as JSON did). */
export function encodeFrame(message: unknown): Uint8Array {
  return frame(encode(message, { ignoreUndefinedProperties: true }));
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
