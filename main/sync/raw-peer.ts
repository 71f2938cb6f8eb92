// For tests, the fuzz and the bench: a hand-driven end of the sync protocol on a real libp2p node,
// to play a hostile key holder (or a stranger) against a real peer. It sends whatever bytes it is
// given; `handshake` does the honest hello/proof/state exchange first.
import '../polyfills.ts';
import { multiaddr } from '@multiformats/multiaddr';
import type { Stream } from '@libp2p/interface';
import { bytesToHex, hexToBytes } from '../../shared/values.ts';
import { newNonce, proof } from './auth.ts';
import { encodeFrame, encodeJsonFrame, FrameReader, MAX_FRAME_BYTES } from './frames.ts';
import { PROTOCOL, PROTOCOL_VERSION } from './session.ts';
import { cursorToWire, encodeChanges } from './change-codec.ts';
import type { Change, ChangePageCursor } from '../crr/types.ts';
import type { SyncNode } from './node.ts';

export type Message = Record<string, unknown>;

export interface RawStream {
  stream: Stream;
  inbox: Message[];
  /** the stream ended (either side) */
  readonly closed: boolean;
  /** sends raw bytes; resolves when the stream can take more */
  sendBytes(bytes: Uint8Array): Promise<void>;
  send(message: unknown): Promise<void>;
  /** the first message (from `from` on in the inbox) matching, or null once the stream closed */
  waitFor(match: (m: Message) => boolean, ms?: number, from?: number): Promise<Message | null>;
  close(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function openRaw(node: SyncNode, address: string): Promise<RawStream> {
  const stream = await node.libp2p.dialProtocol(multiaddr(address), PROTOCOL, { signal: AbortSignal.timeout(5000) });
  // JSON too: the peer refuses a hello in JSON (session.ts)
  const reader = new FrameReader(MAX_FRAME_BYTES, true);
  const inbox: Message[] = [];
  let closed = false;
  const wakers = new Set<() => void>();
  const wake = () => wakers.forEach((w) => w());
  void (async () => {
    try {
      for await (const chunk of stream) {
        inbox.push(...(reader.push(chunk instanceof Uint8Array ? chunk : chunk.subarray()) as Message[]));
        wake();
      }
    } catch {
      // closed by the peer
    }
    closed = true;
    wake();
  })();
  const raw: RawStream = {
    stream,
    inbox,
    get closed() {
      return closed || stream.status !== 'open';
    },
    async sendBytes(bytes) {
      if (raw.closed) return;
      try {
        if (!stream.send(bytes)) await stream.onDrain({ signal: AbortSignal.timeout(10_000) });
      } catch {
        // the peer closed it meanwhile
      }
    },
    send: (message) => raw.sendBytes(encodeFrame(message)),
    waitFor(match, ms = 10_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = inbox.slice(from).find(match);
          if (m || raw.closed) {
            wakers.delete(check);
            clearTimeout(timer);
            resolve(m ?? null);
          }
        };
        const timer = setTimeout(() => {
          wakers.delete(check);
          reject(new Error(`no matching message within ${ms} ms; inbox: ${JSON.stringify(inbox.map((m) => m.t))}`));
        }, ms);
        wakers.add(check);
        check();
      });
    },
    close() {
      stream.abort(new Error('done'));
    },
  };
  return raw;
}

export interface HandshakeAs {
  databaseId: string;
  key: Uint8Array;
  /** the site id this end presents (hex), any it likes */
  site: string;
  name?: string;
  schema?: unknown;
  head?: number;
}

/**
 * Opens a stream to `address` and authenticates as `as`; returns it with the peer's state and
 * seen messages received. Retries while the peer refuses it as a duplicate (its own session to us
 * raced ours).
 */
export async function handshake(node: SyncNode, address: string, as: HandshakeAs): Promise<RawStream> {
  const responderPeer = /\/p2p\/([^/]+)$/.exec(address)?.[1];
  if (!responderPeer) throw new Error('the address needs /p2p/');
  for (let attempt = 0; ; attempt++) {
    const raw = await openRaw(node, address);
    const facts = { databaseId: as.databaseId, initiatorNonce: newNonce(), initiatorPeer: node.peerId, responderPeer };
    await raw.sendBytes(frames.hello(PROTOCOL_VERSION, facts.databaseId, facts.initiatorNonce));
    const challenge = await raw.waitFor((m) => m.t === 'challenge' || m.t === 'refused');
    if (challenge?.t === 'refused' && challenge.reason === 'duplicate' && attempt < 20) {
      await sleep(300);
      continue;
    }
    if (challenge?.t !== 'challenge') throw new Error(`no challenge: ${JSON.stringify(challenge)}`);
    const full = { ...facts, responderNonce: challenge.nonce as Uint8Array };
    await raw.send({ t: 'proof', proof: proof(as.key, 'initiator', full) });
    const state = await raw.waitFor((m) => m.t === 'state');
    if (!state) throw new Error(`refused after the proof: ${JSON.stringify(raw.inbox)}`);
    await raw.send({ t: 'state', site: hexToBytes(as.site), name: as.name ?? 'raw', schema: as.schema ?? state.schema, head: as.head ?? 0 });
    await raw.waitFor((m) => m.t === 'seen');
    return raw;
  }
}

/** `seen` telling the peer we have none of its changes (it then sends them all). */
export const seenNothing = { t: 'seen', version: 0, cursor: null };

export const siteHex = (site: Uint8Array) => bytesToHex(site);

/**
 * The frames a sender builds, through the codecs, so tests and the fuzz follow the wire encoding
 * wherever it goes (session.ts sends the same shapes).
 */
type Mutate = (encoded: unknown) => unknown;
const same: Mutate = (x) => x;

export const frames = {
  /** a hello of protocol `v` (JSON, as every protocol's hello: session.ts) */
  hello: (v: number, databaseId: string, nonce: Uint8Array) => encodeJsonFrame({ t: 'hello', v, db: databaseId, nonce: Buffer.from(nonce).toString('base64') }),
  /** `mutate` may alter the encoded changes before they are framed (the fuzz), whatever their form */
  changes: (n: number, changes: Change[], to: number, head: number = to, next: ChangePageCursor | null = null, mutate: Mutate = same) =>
    encodeFrame({ t: 'changes', n, head, to, next: next ? cursorToWire(next) : null, data: mutate(encodeChanges(changes)) }),
  /** any message, for frames the fuzz makes up */
  message: (m: Record<string, unknown>) => encodeFrame(m),
  seen: (version: number) => encodeFrame({ ...seenNothing, version }),
};
