// Length-prefixed JSON frames on a libp2p stream: 4 bytes big-endian length, then UTF-8 JSON.
// A frame over the limit or that is not JSON is a protocol error: the session closes the stream
// and applies nothing from that frame.

/** Hard limit for one incoming frame. Senders aim well below it (see session.ts). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

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

  constructor(private readonly maxBytes = MAX_FRAME_BYTES) {}

  /** Adds bytes; returns the messages completed by them, in order. */
  push(chunk: Uint8Array): unknown[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: unknown[] = [];
    for (;;) {
      if (this.buffered < 4) return out;
      const head = this.take(4, false);
      const length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
      if (length > this.maxBytes) throw new FrameError(`frame of ${length} bytes is over the ${this.maxBytes}-byte limit`);
      if (this.buffered < 4 + length) return out;
      this.take(4, true);
      const body = this.take(length, true);
      let text: string;
      try {
        text = decoder.decode(body);
        out.push(JSON.parse(text));
      } catch {
        throw new FrameError('frame is not UTF-8 JSON');
      }
    }
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
