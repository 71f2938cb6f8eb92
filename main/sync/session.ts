// One sync session: one libp2p stream carrying one database between two peers.
//
//   initiator                         responder
//   hello {db, nonce}            →
//                                ←    challenge {nonce, proof}      (or refused)
//   proof {proof}                →                                   (or refused)
//   state {site, schema, head, sv, vv}     ⇄  state {…}
//   schema {n, entries, sv, tables?}       ⇄  ack {n}        (schema-log entries the peer lacks)
//   changes {n, head, to, next, data}      ⇄  ack {n}        (cell history travels with them)
//   policies {data}                        ⇄
//
// Frames are CBOR (protocol 5, frames.ts), byte fields as byte strings, except the hello and
// refusals: JSON, as every protocol before 5 sent them, so that peers of different protocols can
// read each other's hello and refuse each other with the version (a protocol-5 peer refuses our
// hello, v 6, just as we refuse its, v 5). JSON is read only before authentication.
//
// Schema changes (protocol 4): each side tells the other its schema log's version vector (vv:
// per origin site, the highest clock it holds) and summary (sv: entries applied, entries waiting
// there, a digest of its shared tables). Whenever its log or summary changes, and before any
// changes, a side sends the entries the peer lacks in a `schema` frame (with its described
// tables when its digest changed), so the receiver applies them before the changes that need
// them, in one transaction with the held changes they make fit (database-sync.ts applySchema).
//
// After the handshake each side pumps its changes the other has not seen, page by page
// (engine.changesPage), at most WINDOW unacknowledged frames in flight, then keeps pumping as
// local commits happen. The receiver applies each frame in one transaction together with its
// progress (sync-store.ts), so a dropped connection resumes where it left off and re-delivery is
// harmless. Any malformed frame closes the stream and applies nothing from it.
//
// Before the handshake completes a stream may carry frames of a few KB only and must finish it
// within HANDSHAKE_MS; then up to MAX_FRAME_BYTES per frame, buffered one at a time, and nothing
// is kept once the session ends.
//
// A frame the receiver will not apply although it is well formed (frame-checks.ts finds its
// origin or range impossible, or the engine refuses a change on its values: ChangeRefused) is
// answered with `refused {n, reason}` instead of an ack. Nothing of it is applied and no progress
// is recorded; from then on the receiver applies nothing more from that session (later frames
// would skip the refused one) but keeps sending its own changes, and shows the reason in its peer
// list. The sender stops sending on that session and shows the reason too. The next session (a
// reconnect) starts over from the receiver's recorded progress. Changes this copy's schema cannot
// take are not refused: they are held (database-sync.ts). Merged changes never move this
// replica's clock (database-sync.ts, "Clocks"); a peer far ahead is named in the peer list.
import type { Stream } from '@libp2p/interface';
import type { ChangePageCursor } from '../crr/types.ts';
import { bytesToHex } from '../../shared/values.ts';
import { newNonce, proof, proofMatches, type HandshakeFacts } from './auth.ts';
import { cursorFromWire, cursorToWire, decodeChanges, encodeChanges, ProtocolError, siteBytes } from './change-codec.ts';
import { encodeFrame, encodeJsonFrame, FrameReader, MAX_FRAME_BYTES, PREAUTH_MAX_FRAME_BYTES } from './frames.ts';
import { checkChanges, checkPolicies, checkRange, FrameRefused } from './frame-checks.ts';
import { CLOCK_WARNING, isTransient } from './database-sync.ts';
import { MAX_CLOCK } from '../crr/index.ts';
import { decodePolicies, encodePolicies } from './policy-codec.ts';
import { decodeEntries, decodeSummary, decodeVector, decodeWaiting, encodeEntries } from './schema-codec.ts';
import type { SchemaEntry, SchemaSummary } from '../crr/types.ts';
import type { DatabaseSync } from './database-sync.ts';

export const PROTOCOL = '/crr-desk/sync/1.0.0';
const WINDOW = 4;
const TARGET_FRAME_BYTES = 1 << 20;
const MAX_PAGE = 8000;
const KEEPALIVE_MS = 30_000;
/**
 * the hello's protocol version: 6 writes a row's next cells as continuation rows (change-codec.ts); 5 frames are CBOR (byte fields raw: frames.ts, change-codec.ts);
 * 4 carries the schema log (`schema` frames, `sv`/`vv` in state); 3 added counter contributions and text states (change rows of their own kind); 2 carried cell
 * history inside change frames (1 had a separate route). Another version is refused with the
 * reason: a peer that cannot take schema changes or policy rows would silently diverge.
 */
export const PROTOCOL_VERSION = 6;
/** how long a stream may take to authenticate */
export const HANDSHAKE_MS = 10_000;

type Role = 'initiator' | 'responder';
export type RefusalReason = 'unknown-database' | 'bad-key' | 'duplicate' | 'closing' | 'version';

export class SessionRefused extends Error {
  constructor(readonly reason: RefusalReason, message: string) {
    super(message);
  }
}

/** the hello is JSON: its nonce is base64 */
const unb64 = (s: unknown, what: string): Uint8Array => {
  if (typeof s !== 'string') throw new ProtocolError(`${what} missing`);
  return new Uint8Array(Buffer.from(s, 'base64'));
};
const bytes = (b: unknown, what: string): Uint8Array => {
  if (!(b instanceof Uint8Array) || b.length > 64) throw new ProtocolError(`${what} missing`);
  return b;
};

export interface SessionOptions {
  /** node-level log, for streams that end before they name a database */
  log?: (line: string) => void;
  handshakeMs?: number;
}

export interface SessionInfo {
  remotePeer: string;
  remoteName: string;
  remoteSite: string | null;
  authorised: boolean;
  /** db_versions of the peer's we have not received yet, as far as we know */
  behind: number;
  /** our db_versions the peer has not acknowledged */
  ahead: number;
  lastSyncAt: number | null;
  lastError: string | null;
  schemaMismatch: string | null;
  /** the peer's schema as it last told us: entries applied there, entries waiting there, its digest */
  schema: SchemaSummary | null;
  /** why we refused this peer's changes on this session, if we did */
  refused: string | null;
}

export class SyncSession {
  private readonly reader = new FrameReader(PREAUTH_MAX_FRAME_BYTES, true);
  private host: DatabaseSync | null;
  private facts: Partial<HandshakeFacts> = {};
  private authorised = false;
  /** why the peer refused this session, if it did */
  refusal: RefusalReason | null = null;
  private closed = false;
  private failed = false;
  private remoteSite: Uint8Array | null = null;
  private remoteName = '';
  private remoteHead = 0;
  private receivedUpTo = 0;
  private ackedUpTo = 0;
  private lastSyncAt: number | null = null;
  private lastError: string | null = null;
  private schemaMismatch: string | null = null;
  /** schema: the peer's summary and described tables as it last sent them, and what it holds of our log */
  private remoteSchema: SchemaSummary | null = null;
  private remoteTables: unknown = null;
  private peerVector: Record<string, number> | null = null;
  private sentSummary = '';
  /**
   * tables created here from the peer's described schema (a join): its entries up to the log it
   * described them with are already in them (not replayed: a column added then dropped there is
   * not added and then waited on here), except entries about tables this copy had before
   */
  private reflected: { vector: Record<string, number>; had: Set<string>; waiting: Set<string> } | null = null;
  private sentDigest = '';
  /** we refused a frame of this peer's: nothing more of its is applied on this session */
  private refusedFromPeer: string | null = null;
  /** the peer refused a frame of ours: we stop sending on this session */
  private refusedByPeer = false;
  private handshakeTimer: NodeJS.Timeout | null = null;
  private clockWarned = false;
  // sending side
  private sentUpTo = 0;
  private cursor: ChangePageCursor | null = null;
  private pumping = false;
  private wakeAgain = false;
  private inFlight = new Map<number, number>();
  private frameNo = 0;
  /** the last policies frame sent (sent again only when they change) */
  private policiesSent: Uint8Array | null = null;
  private pageLimit = 1000;
  private waiters: (() => void)[] = [];
  private keepalive: NodeJS.Timeout | null = null;
  /** the first catch-up of this session: when it started, how many changes, whether done */
  private catchUp = { since: Date.now(), changes: 0, done: false };
  readonly done: Promise<void>;

  constructor(
    private readonly stream: Stream,
    readonly remotePeer: string,
    readonly localPeer: string,
    readonly role: Role,
    /** the database (initiator), or how to find it from the hello (responder) */
    host: DatabaseSync | ((databaseId: string, session: SyncSession) => DatabaseSync | SessionRefused),
    private readonly onEnd: (s: SyncSession) => void,
    private readonly options: SessionOptions = {},
  ) {
    this.host = typeof host === 'function' ? null : host;
    const ms = options.handshakeMs ?? HANDSHAKE_MS;
    this.handshakeTimer = setTimeout(() => {
      if (!this.authorised) this.fail(new Error(`no handshake within ${ms / 1000} s`));
    }, ms);
    this.handshakeTimer.unref();
    const resolve = typeof host === 'function' ? host : null;
    if (this.host && role === 'initiator') {
      this.facts = { databaseId: this.host.databaseId, initiatorNonce: newNonce(), initiatorPeer: localPeer, responderPeer: remotePeer };
      this.write(encodeJsonFrame({ t: 'hello', v: PROTOCOL_VERSION, db: this.host.databaseId, nonce: Buffer.from(this.facts.initiatorNonce!).toString('base64') }));
    }
    this.done = this.readLoop(resolve);
  }

  get databaseId(): string | null {
    return this.host?.databaseId ?? null;
  }

  info(): SessionInfo {
    return {
      remotePeer: this.remotePeer,
      remoteName: this.remoteName,
      remoteSite: this.remoteSite ? bytesToHex(this.remoteSite) : null,
      authorised: this.authorised && !this.closed,
      behind: Math.max(0, this.remoteHead - this.receivedUpTo),
      ahead: this.authorised && this.host ? Math.max(0, this.host.engine.dbVersion() - this.ackedUpTo) : 0,
      lastSyncAt: this.lastSyncAt,
      lastError: this.lastError,
      schemaMismatch: this.schemaMismatch,
      schema: this.remoteSchema,
      refused: this.refusedFromPeer,
    };
  }

  /** New local or merged commits: send what the peer lacks. */
  wake(): void {
    if (this.authorised && !this.closed) void this.pump();
  }

  /** This copy's schema or schema log changed: the peer gets the entries it lacks now, and our summary. */
  schemaChanged(): void {
    if (!this.authorised || this.closed) return;
    this.compareWithPeer();
    this.sendSchema();
  }

  close(reason?: string): void {
    if (this.closed) return;
    if (reason) this.lastError = reason;
    this.end();
    void this.stream.close().catch(() => this.stream.abort(new Error(reason ?? 'closed')));
    this.onEnd(this);
  }

  /** Stops timers and waiters and drops what the session buffered. */
  private end(): void {
    this.closed = true;
    if (this.keepalive) clearInterval(this.keepalive);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    this.waiters.splice(0).forEach((w) => w());
    this.reader.clear();
    this.inFlight.clear();
  }

  private fail(err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    const who = this.remoteName || this.remotePeer.slice(-8);
    if (this.host) this.host.log(`sync error with ${who}: ${message}`);
    else this.options.log?.(`closed an unauthenticated stream from ${who}: ${message}`);
    this.lastError = message;
    this.failed = true;
    if (!this.closed) {
      this.end();
      this.stream.abort(err instanceof Error ? err : new Error(message));
      this.onEnd(this);
    }
  }

  /**
   * Whether the session ended on an error (a misbehaving peer, a write that failed here, a key the
   * peer does not accept) rather than by the peer leaving, going offline or not sharing the
   * database now: only the former is a sync error, the others are states of the peer.
   */
  get endedInError(): boolean {
    return this.failed || this.refusal === 'bad-key' || this.refusal === 'version';
  }

  private send(message: unknown): Promise<void> | null {
    if (this.closed) return null;
    const frame = encodeFrame(message);
    return this.write(frame);
  }

  /**
   * Writes a frame. A stream the peer closed under us (it stopped between our reading its frame
   * and answering it) is the connection ending, a state: not an error of ours.
   */
  private write(bytes: Uint8Array): Promise<void> | null {
    try {
      return this.stream.send(bytes) ? null : this.stream.onDrain().catch(() => {});
    } catch (err) {
      // libp2p's StreamStateError: "Cannot write to a stream that is closed" (or closing, reset, aborted)
      if ((err as Error)?.name !== 'StreamStateError' && !/stream that is (closed|closing|reset|aborted)/i.test(String((err as Error)?.message))) throw err;
      this.close(`the connection to the peer was lost (${(err as Error).message})`);
      return null;
    }
  }

  private async readLoop(resolve: ((id: string, s: SyncSession) => DatabaseSync | SessionRefused) | null): Promise<void> {
    let handling = false;
    try {
      for await (const chunk of this.stream) {
        if (this.closed) return;
        handling = true;
        this.reader.add(chunk instanceof Uint8Array ? chunk : chunk.subarray());
        // one message at a time: authorising raises the frame limit for the frames after it
        for (let message = this.reader.next(); message !== undefined; message = this.reader.next()) {
          this.handle(message as Record<string, unknown>, resolve);
          if (this.closed) return;
        }
        handling = false;
      }
      if (!this.closed) this.close(this.authorised ? 'the peer closed the connection' : undefined);
    } catch (err) {
      if (this.closed) return;
      // frames and messages that fail here are errors; the stream itself failing is the
      // connection dropping (the peer went offline), which is a state
      if (handling) this.fail(err);
      else this.close(`the connection to the peer was lost (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  private handle(m: Record<string, unknown>, resolve: ((id: string, s: SyncSession) => DatabaseSync | SessionRefused) | null): void {
    if (!m || typeof m !== 'object' || typeof m.t !== 'string') throw new ProtocolError('frame without a message type');
    if (m.t === 'ping') return;
    if (m.t === 'refused') {
      const reason = String(m.reason) as RefusalReason;
      this.refusal = reason;
      this.lastError = typeof m.message === 'string' ? m.message : reason;
      if (reason !== 'unknown-database' && reason !== 'duplicate') this.host?.log(`refused by ${this.remotePeer.slice(-8)}: ${this.lastError}`);
      this.close(this.lastError);
      return;
    }
    if (!this.authorised) return this.handshake(m, resolve);
    switch (m.t) {
      case 'state':
        return this.onState(m);
      case 'seen':
        return this.onSeen(m);
      case 'changes':
        return this.onChanges(m);
      case 'schema':
        return this.onSchema(m);
      case 'ack':
        return this.onAck(m);
      case 'policies':
        return this.onPolicies(m);
      case 'refused-frame':
        return this.onRefusedFrame(m);
      default:
        throw new ProtocolError(`unexpected message ${JSON.stringify(m.t)}`);
    }
  }

  private refuse(reason: RefusalReason, message: string): void {
    if (!this.closed) this.write(encodeJsonFrame({ t: 'refused', reason, message }));
    this.close(message);
  }

  private handshake(m: Record<string, unknown>, resolve: ((id: string, s: SyncSession) => DatabaseSync | SessionRefused) | null): void {
    if (this.role === 'responder' && m.t === 'hello' && !this.facts.databaseId) {
      if (typeof m.db !== 'string' || !Number.isSafeInteger(m.v)) throw new ProtocolError('hello: malformed');
      if (m.v !== PROTOCOL_VERSION) {
        return this.refuse('version', `this peer speaks sync protocol ${PROTOCOL_VERSION}, the other ${String(m.v)}: update crr-desk on both`);
      }
      const found = resolve!(m.db, this);
      if (found instanceof SessionRefused) return this.refuse(found.reason, found.message);
      this.host = found;
      this.facts = {
        databaseId: m.db,
        initiatorNonce: unb64(m.nonce, 'hello nonce'),
        responderNonce: newNonce(),
        initiatorPeer: this.remotePeer,
        responderPeer: this.localPeer,
      };
      this.send({ t: 'challenge', nonce: this.facts.responderNonce, proof: proof(found.key, 'responder', this.facts as HandshakeFacts) });
      return;
    }
    if (this.role === 'initiator' && m.t === 'challenge' && !this.facts.responderNonce) {
      this.facts.responderNonce = bytes(m.nonce, 'challenge nonce');
      const facts = this.facts as HandshakeFacts;
      if (!proofMatches(this.host!.key, 'responder', facts, bytes(m.proof, 'challenge proof'))) {
        this.host!.log(`refused ${this.remotePeer.slice(-8)}: it does not hold the key of this database (or we hold an old one)`);
        return this.refuse('bad-key', 'the two peers hold different keys for this database');
      }
      this.send({ t: 'proof', proof: proof(this.host!.key, 'initiator', facts) });
      return this.authorise();
    }
    if (this.role === 'responder' && m.t === 'proof' && this.facts.responderNonce) {
      if (!proofMatches(this.host!.key, 'initiator', this.facts as HandshakeFacts, bytes(m.proof, 'proof'))) {
        this.host!.log(`refused ${this.remotePeer.slice(-8)}: it does not hold the key of this database`);
        return this.refuse('bad-key', 'the two peers hold different keys for this database');
      }
      return this.authorise();
    }
    throw new ProtocolError(`unexpected ${JSON.stringify(m.t)} before the handshake finished`);
  }

  private authorise(): void {
    this.authorised = true;
    this.reader.setLimit(MAX_FRAME_BYTES);
    if (this.handshakeTimer) clearTimeout(this.handshakeTimer);
    const host = this.host!;
    host.sessionAuthorised(this);
    this.keepalive = setInterval(() => this.send({ t: 'ping' }), KEEPALIVE_MS);
    this.keepalive.unref();
    const sv = host.engine.schemaLog.summary();
    this.sentSummary = JSON.stringify(sv);
    this.sentDigest = sv.digest;
    this.send({
      t: 'state', site: host.engine.siteId, name: host.name, schema: host.schema(), head: host.engine.dbVersion(),
      sv, vv: host.engine.schemaLog.vector(),
      // entries held here but not applied: a joiner creating tables from ours must not take them as done
      wa: host.engine.schemaLog.waiting().map((e) => [Buffer.from(e.site_id).toString('hex'), e.clock]),
    });
  }

  private onState(m: Record<string, unknown>): void {
    const host = this.host!;
    this.remoteSite = siteBytes(m.site, 'state');
    this.remoteName = typeof m.name === 'string' ? m.name.slice(0, 100) : '';
    this.remoteHead = Number.isSafeInteger(m.head) ? Math.min(m.head as number, MAX_CLOCK) : 0;
    this.remoteSchema = decodeSummary(m.sv);
    this.peerVector = decodeVector(m.vv);
    const had = new Set(host.engine.crrTables());
    const adopted = host.adoptSchema(m.schema);
    if (adopted.created.length) this.reflected = { vector: { ...this.peerVector }, had, waiting: decodeWaiting(m.wa) };
    this.remoteTables = m.schema;
    this.schemaMismatch = adopted.mismatch;
    if (adopted.created.length) host.log(`created ${adopted.created.join(', ')} from ${this.remoteName || 'the peer'}'s schema`);
    // progress is the authenticated peer's own: another key holder presenting this site has its own
    const seen = host.store.seen(this.remotePeer, this.remoteSite);
    this.receivedUpTo = seen.version;
    this.send({
      t: 'seen',
      version: seen.version,
      cursor: seen.cursor ? cursorToWire(seen.cursor) : null,
    });
    // the entries it lacks go before any of our changes (which start when its `seen` arrives)
    this.sendSchema();
    host.sessionChanged(this);
  }

  /** Sends the schema-log entries the peer lacks, and our summary when it changed. */
  private sendSchema(): void {
    if (this.closed || !this.authorised || !this.peerVector || this.refusedByPeer) return;
    const host = this.host!;
    const entries = host.engine.schemaLog.missing(this.peerVector);
    const sv = host.engine.schemaLog.summary();
    const text = JSON.stringify(sv);
    if (!entries.length && text === this.sentSummary) return;
    const frame: Record<string, unknown> = { t: 'schema', n: ++this.frameNo, entries: encodeEntries(entries), sv };
    if (sv.digest !== this.sentDigest) frame.tables = host.schema();
    this.inFlight.set(frame.n as number, -1);
    this.send(frame);
    for (const e of entries) {
      const site = Buffer.from(e.site_id).toString('hex'); // as the engine's vector() names sites
      this.peerVector[site] = Math.max(this.peerVector[site] ?? 0, e.clock);
    }
    this.sentSummary = text;
    this.sentDigest = sv.digest;
  }

  /** The peer's schema-log entries: applied (or kept waiting) in one transaction, then acknowledged. */
  private onSchema(m: Record<string, unknown>): void {
    if (!this.remoteSite) throw new ProtocolError('schema before state');
    const n = m.n;
    if (!Number.isSafeInteger(n)) throw new ProtocolError('schema: malformed frame number');
    const entries = decodeEntries(m.entries ?? []);
    const sv = decodeSummary(m.sv);
    const host = this.host!;
    const reflected = this.reflected;
    const inTables = reflected
      ? (e: SchemaEntry) => {
          const site = Buffer.from(e.site_id).toString('hex');
          return e.clock <= (reflected.vector[site] ?? 0) && !reflected.waiting.has(`${site}:${e.clock}`) && !reflected.had.has(e.table) && !(e.to && reflected.had.has(e.to));
        }
      : undefined;
    const fresh = this.applyOrRefuse(n as number, () => host.applySchema(entries, inTables));
    if (fresh === null) return;
    if (sv) this.remoteSchema = sv;
    if (m.tables !== undefined) this.remoteTables = m.tables;
    this.compareWithPeer();
    this.send({ t: 'ack', n });
    const who = this.remoteName || this.remotePeer.slice(-8);
    if (fresh) host.log(`received ${fresh} schema change${fresh === 1 ? '' : 's'} from ${who}`);
    host.sessionChanged(this);
  }

  /** What differs between the peer's shared tables (as it last described them) and ours now. */
  private compareWithPeer(): void {
    if (this.remoteTables === null) return;
    try {
      this.schemaMismatch = this.host!.compareSchema(this.remoteTables);
    } catch {
      // a malformed description: the mismatch stays as it was
    }
  }

  private onSeen(m: Record<string, unknown>): void {
    const version = m.version;
    if (!Number.isSafeInteger(version) || (version as number) < 0) throw new ProtocolError('seen: malformed version');
    // a peer that says it has more than we ever wrote (we were restored from a backup, or it
    // lies) gets everything again: merging twice is harmless, skipping is not
    const head = this.host!.engine.dbVersion();
    this.sentUpTo = this.ackedUpTo = (version as number) > head ? 0 : (version as number);
    const cursor = m.cursor ? cursorFromWire(m.cursor) : null;
    this.cursor = cursor && cursor.from === this.sentUpTo && cursor.to <= head ? cursor : null;
    void this.pump();
  }

  private onChanges(m: Record<string, unknown>): void {
    if (!this.remoteSite) throw new ProtocolError('changes before state');
    const n = m.n;
    const to = m.to;
    if (!Number.isSafeInteger(n) || !Number.isSafeInteger(to)) throw new ProtocolError('changes: malformed frame number or range');
    const next = m.next ? cursorFromWire(m.next) : null;
    const changes = decodeChanges(m.data);
    const host = this.host!;
    const ours = host.engine.dbVersion();
    const applied = this.applyOrRefuse(n as number, () => {
      checkRange(to as number, m.head);
      checkChanges(changes, to as number, host.engine.siteId);
      return host.applyFrom(this.remotePeer, this.remoteSite!, changes, to as number, next);
    });
    if (applied === null) return;
    if (!this.clockWarned && (to as number) > ours + CLOCK_WARNING) {
      // merged, but its clock is not ours (database-sync.ts, "Clocks")
      this.clockWarned = true;
      this.lastError = `its clock (${to}) is far ahead of this replica's (${ours}): its changes merge, its clock is not adopted`;
      host.log(`${this.remoteName || this.remotePeer.slice(-8)}'s clock ${to} is far ahead of ours (${ours}): not adopted`);
    }
    if (Number.isSafeInteger(m.head)) this.remoteHead = Math.max(this.remoteHead, m.head as number);
    if (!next) this.receivedUpTo = Math.max(this.receivedUpTo, to as number);
    this.lastSyncAt = Date.now();
    this.send({ t: 'ack', n });
    const who = this.remoteName || this.remotePeer.slice(-8);
    if (changes.length) host.log(`received ${changes.length} change${changes.length === 1 ? '' : 's'} from ${who} (${applied} applied)`);
    this.catchUp.changes += changes.length;
    if (!this.catchUp.done && !next && this.receivedUpTo >= this.remoteHead) {
      this.catchUp.done = true;
      host.log(`caught up with ${who}: ${this.catchUp.changes} changes in ${Date.now() - this.catchUp.since} ms`);
    }
    host.sessionChanged(this);
  }

  private onPolicies(m: Record<string, unknown>): void {
    const entries = decodePolicies(m.data);
    if (this.refusedFromPeer) return;
    try {
      checkPolicies(entries);
      this.host!.engine.history.applyPolicies(entries);
    } catch (err) {
      if (isTransient(err)) throw err;
      this.refuseFrom(err);
    }
  }

  /**
   * Runs `apply` for frame n unless this session already refused a frame; a refusal (anything but
   * a transient error) answers `refused-frame` and returns null: nothing of the frame was applied.
   */
  private applyOrRefuse(n: number, apply: () => number): number | null {
    if (!this.refusedFromPeer) {
      try {
        return apply();
      } catch (err) {
        if (isTransient(err)) throw err;
        this.refuseFrom(err);
      }
    }
    this.send({ t: 'refused-frame', n, reason: this.refusedFromPeer });
    return null;
  }

  private refuseFrom(err: unknown): void {
    const host = this.host!;
    const reason = err instanceof Error ? err.message : String(err);
    this.refusedFromPeer = reason;
    host.log(`refused a frame from ${this.remoteName || this.remotePeer.slice(-8)}${err instanceof FrameRefused ? '' : ` (${(err as Error)?.name ?? 'error'})`}: ${reason}`);
    host.noteRefusal(this.remotePeer, reason);
    host.sessionChanged(this);
  }

  /** The peer refused one of our frames: stop sending on this session, say why. */
  private onRefusedFrame(m: Record<string, unknown>): void {
    if (!this.inFlight.has(m.n as number)) throw new ProtocolError('refusal of a frame never sent');
    this.inFlight.delete(m.n as number);
    const reason = typeof m.reason === 'string' ? m.reason.slice(0, 500) : 'no reason given';
    if (!this.refusedByPeer) this.host!.log(`${this.remoteName || this.remotePeer.slice(-8)} refused our changes: ${reason}`);
    this.refusedByPeer = true;
    this.lastError = `the peer refused our changes: ${reason}`;
    this.waiters.splice(0).forEach((w) => w());
    this.host!.sessionChanged(this);
  }

  private onAck(m: Record<string, unknown>): void {
    const to = this.inFlight.get(m.n as number);
    if (to === undefined) throw new ProtocolError('ack for a frame never sent');
    this.inFlight.delete(m.n as number);
    if (to >= 0) this.ackedUpTo = Math.max(this.ackedUpTo, to);
    this.lastSyncAt = Date.now();
    this.waiters.splice(0).forEach((w) => w());
    this.host!.sessionChanged(this);
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.wakeAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.wakeAgain = false;
        await this.sendMissing();
      } while (this.wakeAgain && !this.closed);
    } catch (err) {
      this.fail(err);
    } finally {
      this.pumping = false;
    }
  }

  private async sendMissing(): Promise<void> {
    const host = this.host!;
    for (;;) {
      if (this.closed || !this.remoteSite || this.refusedByPeer) return;
      if (!this.cursor) {
        const head = host.engine.dbVersion();
        if (head <= this.sentUpTo) return this.sendPolicies();
        this.cursor = { from: this.sentUpTo, to: head };
      }
      while (this.inFlight.size >= WINDOW && !this.closed && !this.refusedByPeer) await new Promise<void>((r) => this.waiters.push(r));
      if (this.closed || this.refusedByPeer) return;
      const page = host.engine.changesPage(this.cursor, this.pageLimit, { excludeSite: this.remoteSite });
      const frame = { t: 'changes', n: ++this.frameNo, head: host.engine.dbVersion(), to: this.cursor.to, next: page.next ? cursorToWire(page.next) : null, data: encodeChanges(page.changes) };
      const bytes = encodeFrame(frame);
      if (bytes.length > 4 * TARGET_FRAME_BYTES && this.pageLimit > 1) {
        this.pageLimit = Math.max(1, this.pageLimit >> 2);
        this.frameNo--;
        continue;
      }
      if (bytes.length < TARGET_FRAME_BYTES / 2 && page.changes.length >= this.pageLimit) this.pageLimit = Math.min(MAX_PAGE, this.pageLimit * 2);
      this.inFlight.set(frame.n, page.next ? -1 : this.cursor.to);
      const drained = this.write(bytes);
      if (page.next) this.cursor = page.next;
      else {
        this.sentUpTo = this.cursor.to;
        this.cursor = null;
      }
      // between pages, the event loop runs whatever waits (local edits, other peers' sessions):
      // a joiner that acknowledges fast would otherwise keep this peer busy for a window of
      // pages at a time (an edit reached a third peer 140 ms late during a 1M-row clone)
      if (drained) await drained;
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Merge policies, when they changed since we last sent them. */
  private sendPolicies(): void {
    if (this.refusedByPeer) return;
    const entries = encodePolicies(this.host!.engine.history.policies());
    const frame = encodeFrame({ t: 'policies', data: entries });
    if (this.policiesSent ? Buffer.from(frame).equals(this.policiesSent) : !entries.length) return;
    this.policiesSent = frame;
    if (!this.closed) this.write(frame);
  }
}
