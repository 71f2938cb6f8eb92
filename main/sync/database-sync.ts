// One shared database as sync sees it: its engine, what sync keeps in its file, and its live
// sessions with peers. Applies incoming frames (one transaction each, held changes included),
// wakes every session on each commit so local, outside and merged changes flow on, and reports
// peers and status for the UI.
//
// What cannot merge never stops anything: a change this schema cannot take (no such CRR table or
// column, a primary key of another width, a constraint of this copy's) is held with the reason
// and merged by the first schema change that makes it fit; a change the engine refuses on its
// values (ChangeRefused, or any other error of the merge) refuses its whole frame, which the
// session reports (session.ts). Transient errors (the file busy or locked) end the
// session, which reconnects and resends.
//
// Schema changes travel as schema-log entries (main/crr/schema-log.ts), each session sending a
// peer the entries it lacks before any changes (session.ts); applySchema takes them in one
// transaction with the held changes they make fit. Changes are routed through the log first:
// a renamed table or column is followed, a column dropped here keeps the peer's versions of it
// readable (not held forever), a column in a schema conflict waits.
//
// Clocks: changes from sync merge with their db_version capped at this replica's own, so a peer's
// clock is never adopted (README.md, "Clocks"). Sync needs no Lamport adoption (progress is kept
// per peer, in the sender's own versions; merges decide by col_version, value and site), and with
// it a key holder could move every replica's clock up by maxVersionJump per frame until no peer
// takes its writes, and lock out any new peer, whose clock starts at 0.
import type Database from 'better-sqlite3';
import type { Change, ChangePageCursor, CrrEngine, SchemaEntry } from '../crr/types.ts';
import type { PeerInfo, SyncStatus } from '../../shared/api.ts';
import { SyncStore, type Share } from './sync-store.ts';
import { adoptSchema, compareSchema, describeSchema, routeChanges, type SharedTable } from './schema-exchange.ts';
import type { SyncSession } from './session.ts';
import { colorFor } from '../../shared/peer-colors.ts';

export interface DatabaseSyncOptions {
  /** this peer's name, shown to others */
  name: string;
  log?: (line: string) => void;
  /** tables were created from a peer's schema */
  onTablesCreated?: (tables: string[]) => void;
  /** the shared schema changed (a peer's schema change applied, an ALTER by any program) */
  onSchemaChanged?: () => void;
  /** the share to adopt (joining from an invite); default: this file's, created on first use */
  share?: Share;
}

/** A peer's clock this far ahead of ours is worth a word in the peer list (it is not adopted). */
export const CLOCK_WARNING = 2 ** 31;

/** Changes as sync merges them: no db_version above `local`, this replica's (see the opening comment). */
export function capClock(changes: Change[], local: number): Change[] {
  return changes.map((c) => (c.db_version > local ? { ...c, db_version: local } : c));
}

const TRANSIENT = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|NOMEM|CANTOPEN|INTERRUPT|PROTOCOL|READONLY)/;
/** The file could not be written just now (another program holds it, the disk is full): try again later. */
export const isTransient = (err: unknown): boolean => TRANSIENT.test(String((err as { code?: unknown })?.code ?? ''));
/** A SQLite error caused by this copy's schema or data (a constraint, say): the change waits. */
const isSchemaError = (err: unknown): boolean => /^SQLITE_/.test(String((err as { code?: unknown })?.code ?? '')) && !isTransient(err);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export class DatabaseSync {
  readonly store: SyncStore;
  readonly sessions = new Set<SyncSession>();
  /** the name this peer announces (in each session's state frame) */
  name: string;
  private share: Share;
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: () => void;
  private readonly unsubscribeHistory: () => void;
  private readonly unsubscribeSchema: () => void;
  private lastError: string | null = null;
  private heldSchemaVersion = -1;
  /** per peer id, why its changes were last refused (kept after its session ends, cleared by a frame that merges) */
  private readonly refusals = new Map<string, string>();
  /** per peer id, a site it presented that another peer id presented first */
  private readonly siteClaims = new Map<string, string>();

  constructor(
    readonly db: Database.Database,
    readonly engine: CrrEngine,
    private readonly options: DatabaseSyncOptions,
  ) {
    this.store = new SyncStore(db);
    this.share = options.share ? this.store.setShare(options.share) : this.store.ensureShare();
    this.name = options.name;
    this.unsubscribe = engine.onCommit(() => {
      this.retryHeld();
      for (const s of this.sessions) s.wake();
    });
    // policy changes (and Keep) flow on too
    this.unsubscribeHistory = engine.history.onChange(() => {
      for (const s of this.sessions) s.wake();
    });
    // schema changes (the log's entries, a confirmation, any program's ALTER) reach peers at once
    this.unsubscribeSchema = engine.schemaLog.onChange(() => {
      this.retryHeld();
      for (const s of this.sessions) {
        s.schemaChanged();
        // and the changes that came with it (a table shared by another engine on this file seals its own rows)
        s.wake();
      }
      this.options.onSchemaChanged?.();
      this.changed();
    });
  }

  get databaseId(): string {
    return this.share.databaseId;
  }

  get key(): Uint8Array {
    return this.share.key;
  }

  /** Adopts a share from an invite (joining) or a new key (rotation). */
  setShare(share: Share): void {
    this.share = this.store.setShare(share);
  }

  /**
   * A new name for this peer (the user renamed it). Names travel in a session's state frame, so
   * open sessions end and the node opens them again (its redial), announcing the new name.
   */
  rename(name: string): void {
    if (name === this.name) return;
    this.name = name;
    for (const s of [...this.sessions]) s.close('the peer was renamed');
  }

  rotateKey(): Share {
    this.share = this.store.rotateKey();
    for (const s of [...this.sessions]) s.close('the share key was rotated');
    return this.share;
  }

  log(line: string): void {
    this.options.log?.(line);
  }

  schema(): SharedTable[] {
    return describeSchema(this.db, this.engine);
  }

  /** What differs between a peer's described tables and ours, for the peer list. */
  compareSchema(theirs: unknown): string | null {
    return compareSchema(this.db, this.engine, theirs);
  }

  /**
   * Takes a peer's schema-log entries (one transaction, with the held changes they make fit).
   * Throws ChangeRefused (nothing applied) for entries no honest peer sends.
   */
  applySchema(entries: SchemaEntry[], reflected?: (e: SchemaEntry) => boolean): number {
    let fresh = 0;
    const waiting = new Map<string, number>();
    let merged = 0;
    this.db.transaction(() => {
      fresh = this.engine.schemaLog.receive(entries, { reflected });
      if (fresh && this.store.heldCount()) merged = this.retry(this.store.heldChanges(), (batch) => this.merge(batch), waiting);
    })();
    if (fresh) {
      this.heldSchemaVersion = this.db.pragma('schema_version', { simple: true }) as number;
      if (merged) this.log(`merged ${merged} held change${merged === 1 ? '' : 's'} after a peer's schema change`);
      for (const w of this.engine.schemaLog.waiting()) {
        this.log(w.state === 'confirm' ? `schema change waiting for confirmation here: ${w.summary}` : `schema change in conflict here: ${w.summary}: ${w.reason}`);
      }
      this.changed();
    }
    return fresh;
  }

  adoptSchema(theirs: unknown): { created: string[]; mismatch: string | null } {
    const result = adoptSchema(this.db, this.engine, theirs);
    if (result.created.length) {
      this.retryHeld(true);
      this.options.onTablesCreated?.(result.created);
    }
    return result;
  }

  /**
   * Applies one incoming frame from `peer` (its replica `site`) and records progress through its
   * changes, in one transaction. Throws ChangeRefused (nothing applied, nothing recorded) when the
   * engine refuses a change on its values.
   */
  applyFrom(peer: string, site: Uint8Array, changes: Change[], to: number, next: ChangePageCursor | null): number {
    let applied = 0;
    this.db.transaction(() => {
      // (changes of tables dropped or unshared here: the peer has not applied that yet; nothing to keep them in)
      const { now, dropped, later } = routeChanges(this.db, this.engine, changes, (c) => c, (_, c) => c);
      if (dropped.length) this.engine.schemaLog.keepDropped(dropped);
      if (now.length) applied = this.mergeOrHold(now, (c, reason) => this.store.hold([[c, reason]], peer), (batch) => this.merge(batch));
      if (later.length) this.store.hold(later, peer);
      this.store.recordSeen(peer, site, to, next);
    })();
    this.refusals.delete(peer);
    return applied;
  }

  /** Merges changes from sync, without adopting their clock. */
  private merge(changes: Change[]): number {
    return this.engine.applyChanges(capClock(changes, this.engine.dbVersion()));
  }

  /**
   * Merges a batch (in a savepoint); when this copy's schema refuses part of it (a constraint),
   * merges the items one by one and hands the ones it cannot take to `hold`. ChangeRefused and
   * transient errors go up: the caller's transaction rolls back whole.
   */
  private mergeOrHold<T>(items: T[], hold: (item: T, reason: string) => void, merge: (batch: T[]) => number): number {
    try {
      return this.db.transaction(() => merge(items))();
    } catch (err) {
      if (!isSchemaError(err)) throw err;
      if (items.length === 1) {
        hold(items[0], `cannot merge here: ${message(err)}`);
        return 0;
      }
    }
    let n = 0;
    for (const item of items) n += this.mergeOrHold([item], hold, merge);
    return n;
  }

  /**
   * Merges held changes (with their history) that now fit this replica's schema (after a schema change).
   * Never throws: what still cannot merge stays held with the reason, shown in the peer list.
   */
  retryHeld(force = false): void {
    const version = this.db.pragma('schema_version', { simple: true }) as number;
    if (!force && version === this.heldSchemaVersion) return;
    this.heldSchemaVersion = version;
    try {
      // entries in conflict may fit now (the user changed the schema)
      this.engine.schemaLog.retry();
    } catch (err) {
      this.log(`could not retry schema changes now: ${message(err)}`);
    }
    if (this.store.heldCount() === 0) return;
    let merged = 0;
    const waiting = new Map<string, number>();
    try {
      this.db.transaction(() => {
        merged = this.retry(this.store.heldChanges(), (batch) => this.merge(batch), waiting);
      })();
    } catch (err) {
      // the file was busy: the next round tries again
      this.heldSchemaVersion = -1;
      this.log(`could not retry held changes now: ${message(err)}`);
      return;
    }
    if (merged) this.log(`merged ${merged} held change${merged === 1 ? '' : 's'} after a schema change`);
    for (const [reason, n] of waiting) this.log(`${n} held item${n === 1 ? '' : 's'} cannot merge yet: ${reason} (kept until a schema change makes them fit)`);
    this.changed();
  }

  /** Held changes: merges those that fit (releasing them), keeps dropped columns' ones readable, records why the rest wait. */
  private retry(held: { id: number; reason: string | null; item: Change }[], merge: (batch: Change[]) => number, waiting: Map<string, number>): number {
    const kind = 'changes';
    const wait = (id: number, reason: string) => {
      this.store.setHeldReason(kind, id, reason);
      waiting.set(reason, (waiting.get(reason) ?? 0) + 1);
    };
    const { now: ready, dropped, later, gone } = routeChanges(this.db, this.engine, held, (h) => h.item, (h, c) => ({ ...h, item: c }));
    for (const [h, reason] of later) wait(h.id, reason);
    if (gone.length) this.store.release(kind, gone.map((h) => h.id));
    if (dropped.length) {
      this.engine.schemaLog.keepDropped(dropped.map((h) => h.item));
      this.store.release(kind, dropped.map((h) => h.id));
    }
    if (!ready.length) return 0;
    const attempt = (batch: { id: number; item: Change }[]): number => {
      try {
        const n = this.db.transaction(() => merge(batch.map((b) => b.item)))();
        this.store.release(kind, batch.map((b) => b.id));
        return n;
      } catch (err) {
        if (isTransient(err)) throw err;
        if (batch.length === 1) {
          wait(batch[0].id, `cannot merge here: ${message(err).replace(/^change \d+: /, '')}`);
          return 0;
        }
        return batch.reduce((n, b) => n + attempt([b]), 0);
      }
    };
    return attempt(ready);
  }

  /** A frame from `peer` was refused: kept for the peer list until one of its frames merges. */
  noteRefusal(peer: string, reason: string): void {
    this.refusals.set(peer, reason);
    this.changed();
  }

  sessionAuthorised(s: SyncSession): void {
    this.log(`authorised ${s.remotePeer.slice(-8)} for ${this.databaseId.slice(0, 8)}`);
    this.elsewhere.delete(s.remotePeer);
    // syncing again: an earlier error no longer describes the state
    this.lastError = null;
    this.changed();
  }

  /** peers that said they do not have this database open (they opened another file, or stopped sharing) */
  private readonly elsewhere = new Set<string>();

  /** Names peers gave for their site ids (cell history shows who wrote what), kept in the file. */
  private readonly siteNames = new Map<string, string | null>();

  siteName(siteHex: string): string | null {
    const site = siteHex.toLowerCase();
    if (!this.siteNames.has(site)) this.siteNames.set(site, this.store.siteName(site));
    return this.siteNames.get(site) ?? null;
  }

  sessionChanged(s: SyncSession): void {
    const info = s.info();
    if (info.remoteSite && info.remoteName && this.siteName(info.remoteSite) !== info.remoteName && !this.siteClaims.has(s.remotePeer)) {
      const owner = this.store.rememberSiteName(info.remoteSite, info.remoteName, s.remotePeer);
      if (owner) {
        this.siteClaims.set(s.remotePeer, info.remoteSite);
        this.log(`${s.remotePeer.slice(-8)} presents site ${info.remoteSite.slice(0, 8)}…, which ${owner.slice(-8)} presented first: its name is not taken`);
      } else this.siteNames.set(info.remoteSite.toLowerCase(), info.remoteName);
    }
    if (info.authorised) this.store.rememberPeer({ peerId: s.remotePeer, name: info.remoteName, synced: info.lastSyncAt !== null });
    this.changed();
  }

  sessionEnded(s: SyncSession): void {
    this.sessions.delete(s);
    const info = s.info();
    if (s.refusal === 'unknown-database') this.elsewhere.add(s.remotePeer);
    // a peer leaving, going offline or having another database open is a state, not an error
    if (info.lastError && s.endedInError) this.lastError = info.lastError;
    this.changed();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }

  peers(connectedPeers: Map<string, string[]>, discovered: Set<string>): PeerInfo[] {
    const held = new Map(this.store.heldByPeer().map((h) => [h.peer, h]));
    const ours = this.engine.schemaLog.summary();
    const blank = (peerId: string): PeerInfo => ({
      peerId,
      name: '',
      color: colorFor(peerId),
      addresses: connectedPeers.get(peerId) ?? [],
      discovered: discovered.has(peerId),
      connected: connectedPeers.has(peerId),
      authorised: false,
      behind: 0,
      ahead: 0,
      lastSyncAt: null,
      lastError: null,
      schemaMismatch: null,
      heldChanges: held.get(peerId)?.count ?? 0,
      heldReason: held.get(peerId)?.reasons.join('; ') ?? null,
      refused: this.refusals.get(peerId) ?? null,
      elsewhere: this.elsewhere.has(peerId),
      schemaVersion: null,
      schemaWaiting: 0,
      schemaSame: null,
    });
    const out = new Map<string, PeerInfo>();
    for (const known of this.store.peers()) {
      out.set(known.peerId, { ...blank(known.peerId), name: known.name, addresses: known.addresses, lastSyncAt: known.lastSync });
    }
    for (const s of this.sessions) {
      const i = s.info();
      const prev = out.get(s.remotePeer);
      out.set(s.remotePeer, {
        ...blank(s.remotePeer),
        name: i.remoteName || prev?.name || '',
        color: colorFor(i.remoteSite ?? s.remotePeer),
        addresses: connectedPeers.get(s.remotePeer) ?? prev?.addresses ?? [],
        connected: true,
        authorised: i.authorised,
        behind: i.behind,
        ahead: i.ahead,
        lastSyncAt: i.lastSyncAt ?? prev?.lastSyncAt ?? null,
        lastError: i.lastError,
        schemaMismatch: i.schemaMismatch,
        elsewhere: false,
        schemaVersion: i.schema?.version ?? null,
        schemaWaiting: i.schema?.waiting ?? 0,
        schemaSame: i.schema ? i.schema.digest === ours.digest : null,
      });
    }
    for (const id of discovered) if (!out.has(id)) out.set(id, blank(id));
    return [...out.values()];
  }

  status(): SyncStatus {
    const infos = [...this.sessions].map((s) => s.info()).filter((i) => i.authorised);
    const syncing = infos.some((i) => i.behind > 0 || i.ahead > 0);
    const summary = this.engine.schemaLog.summary();
    return {
      state: infos.length === 0 && this.lastError ? 'error' : syncing ? 'syncing' : 'idle',
      shared: true,
      connectedPeers: infos.length,
      heldChanges: this.store.heldCount(),
      lastError: this.lastError,
      schemaVersion: summary.version,
      schemaWaiting: summary.waiting,
    };
  }

  close(): void {
    this.unsubscribe();
    this.unsubscribeHistory();
    this.unsubscribeSchema();
    for (const s of [...this.sessions]) s.close('closing');
  }
}
