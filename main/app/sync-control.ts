// Sync for the service's open database: share, join, rotate the key, dial, and the peers and
// status the renderer shows, pushed as events (at most every 200 ms).
import type Database from 'better-sqlite3';
import { hostname } from 'node:os';
import type { ApiEvents, PeerInfo, SyncStatus } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import type { CrrEngine } from '../crr/types.ts';
import { DatabaseSync } from '../sync/database-sync.ts';
import { decodeInvite, encodeInvite, InviteError, type Invite } from '../sync/invite.ts';
import type { SyncNode } from '../sync/node.ts';
import { SyncStore } from '../sync/sync-store.ts';
import { syncNode } from './sync-host.ts';

type Emit = <E extends keyof ApiEvents>(event: E, payload: ApiEvents[E]) => void;

const OFF: SyncStatus = { state: 'off', shared: false, connectedPeers: 0, heldChanges: 0, lastError: null, schemaVersion: 0, schemaWaiting: 0 };

export class SyncControl {
  private ds: DatabaseSync | null = null;
  private node: SyncNode | null = null;
  private unsubscribe: (() => void)[] = [];
  private pending: NodeJS.Timeout | null = null;
  private paused = false;

  constructor(
    private readonly emit: Emit,
    /** the name peers see, read when sync starts (the user can change it: rename) */
    private readonly name: () => string = () => hostname(),
  ) {}

  /** The user renamed this install: peers see the new name (open sessions announce it again). */
  rename(): void {
    this.ds?.rename(this.name());
    this.changed();
  }

  get databaseId(): string {
    return this.ds?.databaseId ?? '';
  }

  /** why sync could not start for the open file (its node's identity in use, say) */
  private startError: string | null = null;

  /** Resumes sync for a file shared or joined before; the file opens even when sync cannot start. */
  async attach(db: Database.Database, engine: CrrEngine | null): Promise<void> {
    this.startError = null;
    if (!engine || !SyncStore.existingShare(db)) return;
    try {
      await this.start(db, engine);
    } catch (err) {
      this.startError = (err as Error).message;
      console.error(`sync: ${this.startError}`);
    }
  }

  detach(): void {
    this.unsubscribe.splice(0).forEach((u) => u());
    if (this.ds) {
      this.node?.removeDatabase(this.ds);
      this.ds.close();
    }
    this.ds = null;
    if (this.pending) clearTimeout(this.pending);
    this.pending = null;
  }

  private async start(db: Database.Database, engine: CrrEngine, invite?: Invite): Promise<DatabaseSync> {
    let node: SyncNode;
    try {
      node = this.node = await syncNode();
    } catch (err) {
      throw new ApiError('sync-error', `Sync cannot start: ${(err as Error).message}`);
    }
    this.startError = null;
    const ds = new DatabaseSync(db, engine, {
      name: this.name(),
      log: (line) => console.log(`sync: ${line}`),
      share: invite ? { databaseId: invite.databaseId, key: invite.key } : undefined,
      onTablesCreated: () => this.emit('tablesChanged', {}),
      // a peer's schema change applied, or an ALTER by any program: the sidebar and grid follow
      onSchemaChanged: () => this.emit('tablesChanged', {}),
    });
    this.ds = ds;
    this.unsubscribe.push(ds.onChange(() => this.changed()), node.onChange(() => this.changed()));
    node.addDatabase(ds, invite?.addresses ?? []);
    this.changed();
    return ds;
  }

  /** Work offline: the database leaves the node (its sessions close, peers are refused) until resumed. */
  setPaused(paused: boolean): SyncStatus {
    if (this.ds && this.node && paused !== this.paused) {
      if (paused) this.node.removeDatabase(this.ds);
      else this.node.addDatabase(this.ds);
    }
    this.paused = paused;
    this.changed();
    return this.status();
  }

  /** The name a peer gave for this site id, if one has synced with us. */
  siteName(siteHex: string): string | null {
    return this.ds?.siteName(siteHex) ?? null;
  }

  private changed(): void {
    this.pending ??= setTimeout(() => {
      this.pending = null;
      if (!this.ds) return;
      this.emit('peersChanged', { peers: this.peers() });
      this.emit('syncStatus', this.status());
    }, 200);
  }

  private invite(ds: DatabaseSync): string {
    return encodeInvite({ databaseId: ds.databaseId, key: ds.key, addresses: this.node!.addresses() });
  }

  async share(db: Database.Database, engine: CrrEngine | null): Promise<string> {
    if (!engine) throw new ApiError('read-only', 'A read-only database cannot be shared.');
    if (engine.crrTables().length === 0) {
      throw new ApiError('invalid-argument', 'Nothing to share yet: enable collaboration on at least one table first.');
    }
    return this.invite(this.ds ?? (await this.start(db, engine)));
  }

  static parseInvite(code: unknown): Invite {
    try {
      return decodeInvite(String(code ?? ''));
    } catch (err) {
      if (err instanceof InviteError) throw new ApiError('invalid-argument', err.message);
      throw err;
    }
  }

  async join(db: Database.Database, engine: CrrEngine, invite: Invite): Promise<void> {
    await this.start(db, engine, invite);
  }

  rotate(): string {
    if (!this.ds) throw new ApiError('invalid-argument', 'This database is not shared.');
    this.ds.rotateKey();
    this.changed();
    return this.invite(this.ds);
  }

  async dial(address: unknown): Promise<void> {
    if (!this.ds || !this.node) throw new ApiError('invalid-argument', 'Share or join this database before adding peers.');
    if (typeof address !== 'string' || !address.startsWith('/')) throw new ApiError('invalid-argument', 'A peer address looks like /ip4/192.168.1.20/tcp/4001/p2p/12D3Koo…');
    try {
      await this.node.dial(address);
    } catch (err) {
      throw new ApiError('sync-error', `Could not reach ${address}: ${(err as Error).message}`);
    }
  }

  peers(): PeerInfo[] {
    return this.ds && this.node ? this.node.peers(this.ds) : [];
  }

  status(): SyncStatus {
    if (!this.ds) return this.startError ? { ...OFF, state: 'error', shared: true, lastError: this.startError } : OFF;
    const status = this.ds.status();
    return this.paused ? { ...status, state: 'off', paused: true, connectedPeers: 0 } : status;
  }
}
