// Length-prefixed JSON frames on a libp2p stream: 4 bytes big-endian length, then UTF-8 JSON.
// A frame over the limit or that is not JSON is a protocol error: the session closes the stream
// and applies nothing from that frame. The limit is checked on the 4-byte header, before the
// frame's body is buffered, and can change between frames: a session reads a few KB before its
// peer has authenticated, up to MAX_FRAME_BYTES after (session.ts).

/** Hard limit for one incoming frame after authentication. Senders aim well below it (see session.ts). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Limit before authentication: hello, challenge and proof take a few hundred bytes. */
export const PREAUTH_MAX_FRAME_BYTES = 8 * 1024;

export class FrameError extends Error {}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeFrame(message: unknown): Uint8Array {
  const body = encoder.encode(JSON.stringify(message));
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** Reassembles frames from stream chunks of any size. */
export class FrameReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(private maxBytes = MAX_FRAME_BYTES) {}

  /** The limit for frames whose header has not been read yet. */
  setLimit(maxBytes: number): void {
    this.maxBytes = maxBytes;
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
    try {
      return JSON.parse(decoder.decode(body));
    } catch {
      throw new FrameError('frame is not UTF-8 JSON');
    }
  }

  /** Drops what is buffered (the session ended). */
  clear(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  /** The first n buffered bytes, optionally removing them. */
  private take(n: number, consume: boolean): Uint8Array {
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
