// Browser mode's WebSocket carries messages of any size the page can build (a large CSV import or
// export) as a series of frames of at most FRAME_CHARS characters each: a message longer than that
// travels as envelopes {chunk, part, parts, data} whose data, joined in order, is its JSON text.
// Both ends (main/app/ws-bridge.ts and renderer/api-client.ts) split with toFrames and rebuild
// with Reassembler, which refuses envelopes out of order, too many parts, or a total past the limit.

/** Characters per frame: at most 3 bytes each in UTF-8, so a frame stays under 2 MB (ws allows 4 MB). */
export const FRAME_CHARS = 512 * 1024;
/** About the longest string a JS engine holds: the page cannot build a longer message anyway. */
export const MAX_MESSAGE_CHARS = 2 ** 29 - 2 ** 16;

export interface ChunkEnvelope {
  chunk: number;
  part: number;
  parts: number;
  data: string;
}

export class ChunkError extends Error {
  constructor(
    message: string,
    /** the envelope's chunk id, when known */
    readonly chunk: number | null,
  ) {
    super(message);
  }
}

export const tooLarge = (chars: number) =>
  `The message is too large (${Math.round(chars / 2 ** 20)} M characters; browser mode carries at most ${Math.floor(MAX_MESSAGE_CHARS / 2 ** 20)} M).`;

/** The frames that carry `text` (itself when short). Throws ChunkError past MAX_MESSAGE_CHARS. */
export function toFrames(text: string, chunkId: number): string[] {
  if (text.length <= FRAME_CHARS) return [text];
  if (text.length > MAX_MESSAGE_CHARS) throw new ChunkError(tooLarge(text.length), chunkId);
  const parts = Math.ceil(text.length / FRAME_CHARS);
  const out: string[] = [];
  for (let part = 0; part < parts; part++) {
    const envelope: ChunkEnvelope = { chunk: chunkId, part, parts, data: text.slice(part * FRAME_CHARS, (part + 1) * FRAME_CHARS) };
    out.push(JSON.stringify(envelope));
  }
  return out;
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** Rebuilds messages from frames, per connection. */
export class Reassembler {
  private readonly open = new Map<number, { parts: number; pieces: string[]; chars: number }>();
  private buffered = 0;

  constructor(private readonly maxChars = MAX_MESSAGE_CHARS) {}

  /**
   * The message a frame completes (parsed JSON), or undefined while a chunked one is incomplete.
   * Throws ChunkError for a malformed frame or envelope (what was buffered for it is dropped).
   */
  accept(frame: string): unknown {
    let value: unknown;
    try {
      value = JSON.parse(frame);
    } catch {
      throw new ChunkError('Messages must be JSON.', null);
    }
    const e = value as Partial<ChunkEnvelope> | null;
    if (!e || typeof e !== 'object' || !('chunk' in e)) return value;
    if (!isCount(e.chunk)) throw new ChunkError('A chunk needs a numeric id.', null);
    const id = e.chunk;
    const fail = (message: string): never => {
      this.drop(id);
      throw new ChunkError(message, id);
    };
    if (!isCount(e.part) || !isCount(e.parts) || e.parts < 2 || typeof e.data !== 'string' || e.data.length > FRAME_CHARS) fail('Malformed chunk.');
    if (e.parts! * FRAME_CHARS > this.maxChars + FRAME_CHARS) fail(tooLarge(e.parts! * FRAME_CHARS));
    let entry = this.open.get(id);
    if (!entry) {
      if (e.part !== 0) fail(`Chunk ${id} starts at part ${e.part}.`);
      this.open.set(id, (entry = { parts: e.parts!, pieces: [], chars: 0 }));
    }
    if (e.parts !== entry.parts || e.part !== entry.pieces.length) fail(`Chunk ${id}: part ${e.part} of ${e.parts} out of order.`);
    if (this.buffered + e.data!.length > this.maxChars) fail(tooLarge(this.buffered + e.data!.length));
    entry.pieces.push(e.data!);
    entry.chars += e.data!.length;
    this.buffered += e.data!.length;
    if (entry.pieces.length < entry.parts) return undefined;
    const text = entry.pieces.join('');
    this.drop(id);
    try {
      return JSON.parse(text);
    } catch {
      throw new ChunkError(`Chunk ${id} does not hold JSON.`, id);
    }
  }

  private drop(id: number): void {
    const entry = this.open.get(id);
    if (entry) this.buffered -= entry.chars;
    this.open.delete(id);
  }

  /** Drops everything (the connection closed). */
  clear(): void {
    this.open.clear();
    this.buffered = 0;
  }
}
