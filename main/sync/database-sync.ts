// One shared database as sync sees it: its engine, what sync keeps in its file, and its live
// sessions with peers. Applies incoming frames (one transaction each, held changes included),
// wakes every session on each commit so local, outside and merged changes flow on, and reports
// peers and status for the UI.
import type Database from 'better-sqlite3';
import type { Change, ChangePageCursor, CrrEngine } from '../crr/types.ts';
import type { PeerInfo, SyncStatus } from '../../shared/api.ts';
import { SyncStore, type Share } from './sync-store.ts';
import { adoptSchema, canApply, describeSchema, type SharedTable } from './schema-exchange.ts';
import type { SyncSession } from './session.ts';
import { colorFor } from '../../shared/peer-colors.ts';

export interface DatabaseSyncOptions {
  /** this peer's name, shown to others */
  name: string;
  log?: (line: string) => void;
  /** tables were created from a peer's schema */
  onTablesCreated?: (tables: string[]) => void;
  /** the share to adopt (joining from an invite); default: this file's, created on first use */
  share?: Share;
}

/** Items whose table and column this replica has now, and the rest (to hold). */
function partition<T extends { table: string; cid: string }>(items: T[], ok: (table: string, cid: string) => boolean): [T[], T[]] {
  const now: T[] = [];
  const later: T[] = [];
  for (const item of items) (ok(item.table, item.cid) ? now : later).push(item);
  return [now, later];
}

export class DatabaseSync {
  readonly store: SyncStore;
  readonly sessions = new Set<SyncSession>();
  /** the name this peer announces (in each session's state frame) */
  name: string;
  private share: Share;
  private readonly listeners = new Set<() => void>();
  private readonly unsubscribe: () => void;
  private readonly unsubscribeHistory: () => void;
  private lastError: string | null = null;
  private heldSchemaVersion = -1;

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

  adoptSchema(theirs: unknown): { created: string[]; mismatch: string | null } {
    const result = adoptSchema(this.db, this.engine, theirs);
    if (result.created.length) {
      this.retryHeld(true);
      this.options.onTablesCreated?.(result.created);
    }
    return result;
  }

  /** Applies one incoming frame and records progress through the sender's changes, in one transaction. */
  applyFrom(site: Uint8Array, changes: Change[], to: number, next: ChangePageCursor | null): number {
    const ok = canApply(this.db, this.engine);
    let applied = 0;
    this.db.transaction(() => {
      const [now, later] = partition(changes, ok);
      if (now.length) applied = this.engine.applyChanges(now);
      if (later.length) this.store.hold(later);
      this.store.recordSeen(site, to, next);
    })();
    return applied;
  }

  /** Merges held changes (and their history) whose table and column now exist (after a schema change). */
  retryHeld(force = false): void {
    const version = this.db.pragma('schema_version', { simple: true }) as number;
    if (!force && version === this.heldSchemaVersion) return;
    this.heldSchemaVersion = version;
    if (this.store.heldCount() === 0) return;
    const ok = canApply(this.db, this.engine);
    let merged = 0;
    this.db.transaction(() => {
      const changes = this.store.takeHeld(ok);
      if (changes.length) merged = this.engine.applyChanges(changes);
    })();
    if (merged) this.log(`merged ${merged} held change${merged === 1 ? '' : 's'} after a schema change`);
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
    if (info.remoteSite && info.remoteName && this.siteName(info.remoteSite) !== info.remoteName) {
      this.siteNames.set(info.remoteSite.toLowerCase(), info.remoteName);
      this.store.rememberSiteName(info.remoteSite, info.remoteName);
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
    const out = new Map<string, PeerInfo>();
    for (const known of this.store.peers()) {
      out.set(known.peerId, {
        peerId: known.peerId,
        name: known.name,
        color: colorFor(known.peerId),
        addresses: known.addresses,
        discovered: discovered.has(known.peerId),
        connected: connectedPeers.has(known.peerId),
        authorised: false,
        behind: 0,
        ahead: 0,
        lastSyncAt: known.lastSync,
        lastError: null,
        schemaMismatch: null,
        elsewhere: this.elsewhere.has(known.peerId),
      });
    }
    for (const s of this.sessions) {
      const i = s.info();
      const prev = out.get(s.remotePeer);
      out.set(s.remotePeer, {
        peerId: s.remotePeer,
        name: i.remoteName || prev?.name || '',
        color: colorFor(i.remoteSite ?? s.remotePeer),
        addresses: connectedPeers.get(s.remotePeer) ?? prev?.addresses ?? [],
        discovered: discovered.has(s.remotePeer),
        connected: true,
        authorised: i.authorised,
        behind: i.behind,
        ahead: i.ahead,
        lastSyncAt: i.lastSyncAt ?? prev?.lastSyncAt ?? null,
        lastError: i.lastError,
        schemaMismatch: i.schemaMismatch,
        elsewhere: false,
      });
    }
    for (const id of discovered) {
      if (!out.has(id)) {
        out.set(id, { peerId: id, name: '', color: colorFor(id), addresses: connectedPeers.get(id) ?? [], discovered: true, connected: connectedPeers.has(id), authorised: false, behind: 0, ahead: 0, lastSyncAt: null, lastError: null, schemaMismatch: null, elsewhere: this.elsewhere.has(id) });
      }
    }
    return [...out.values()];
  }

  status(): SyncStatus {
    const infos = [...this.sessions].map((s) => s.info()).filter((i) => i.authorised);
    const syncing = infos.some((i) => i.behind > 0 || i.ahead > 0);
    return {
      state: infos.length === 0 && this.lastError ? 'error' : syncing ? 'syncing' : 'idle',
      shared: true,
      connectedPeers: infos.length,
      heldChanges: this.store.heldCount(),
      lastError: this.lastError,
    };
  }

  close(): void {
    this.unsubscribe();
    this.unsubscribeHistory();
    for (const s of [...this.sessions]) s.close('closing');
  }
}
