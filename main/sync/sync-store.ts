// What sync keeps inside the database file (plain tables, hidden from the editor by the crr_
// prefix, never replicated): the share (database id and key), how far each peer's changes have
// been received (per authenticated peer id and the site it presented: a peer cannot move another
// peer's progress), changes (with their history) held for tables or columns this replica lacks
// (with the peer they came from and why they wait), known peers, and the names peers gave for their site ids
// (so cell history names its writers after a restart too; a name belongs to the first peer id that
// presented the site).
import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import type { Change, ChangePageCursor } from '../crr/types.ts';
import { newShareKey } from './auth.ts';
import { cursorFromWire, cursorToWire, decodeChanges, encodeChanges, JSON_FORM } from './change-codec.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS crr_sync_share (id INTEGER PRIMARY KEY CHECK (id = 1), database_id TEXT NOT NULL,
  key BLOB NOT NULL, key_set_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS crr_sync_progress (peer TEXT NOT NULL, site BLOB NOT NULL, version INTEGER NOT NULL,
  cursor TEXT, synced_at INTEGER, PRIMARY KEY (peer, site)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS crr_sync_held (id INTEGER PRIMARY KEY, "table" TEXT NOT NULL, cid TEXT NOT NULL,
  change TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS crr_sync_peers (peer_id TEXT PRIMARY KEY, name TEXT NOT NULL, addresses TEXT NOT NULL,
  last_sync INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS crr_sync_site_names (site TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
`;

/**
 * Older files: progress was kept per site id, which any key holder could claim, so it is dropped
 * (peers resend from the start once; merging again is harmless: with sync protocol 1's resume
 * cursors it could not be kept anyway); held items and site names gain the peer they came from;
 * protocol 1's history route (history travels with the changes now) leaves its tables behind.
 */
const UPGRADES: [table: string, column: string, sql: string][] = [
  ['crr_sync_held', 'peer', 'ALTER TABLE crr_sync_held ADD COLUMN peer TEXT'],
  ['crr_sync_held', 'reason', 'ALTER TABLE crr_sync_held ADD COLUMN reason TEXT'],
  ['crr_sync_site_names', 'peer', 'ALTER TABLE crr_sync_site_names ADD COLUMN peer TEXT'],
];

function upgrade(db: Database.Database): void {
  const has = db.prepare('SELECT 1 FROM pragma_table_info(?) WHERE name = ?').pluck();
  const missing = UPGRADES.filter(([table, column]) => !has.get(table, column));
  const old = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'
    AND name IN ('crr_sync_seen', 'crr_sync_hseen', 'crr_sync_history_progress', 'crr_sync_held_history')`).pluck().all() as string[];
  if (!missing.length && !old.length) return;
  db.transaction(() => {
    for (const [, , sql] of missing) db.exec(sql);
    for (const t of old) db.exec(`DROP TABLE ${t}`);
  })();
}

/** Where held items wait: changes (with their history) for tables or columns not here yet. */
const HELD = {
  changes: { store: 'crr_sync_held', column: 'change' },
} as const;
type Held = (typeof HELD)[keyof typeof HELD];

/** An item waiting in the store: its row, the peer it came from, and why it waits. */
export interface HeldItem<T> {
  id: number;
  peer: string | null;
  reason: string | null;
  item: T;
}

export interface HeldByPeer {
  peer: string | null;
  count: number;
  /** distinct reasons, most common first (at most three) */
  reasons: string[];
}

export interface Share {
  databaseId: string;
  key: Uint8Array;
}

export interface Seen {
  version: number;
  cursor: ChangePageCursor | null;
}

export interface KnownPeer {
  peerId: string;
  name: string;
  addresses: string[];
  lastSync: number | null;
}

export class SyncStore {
  constructor(private readonly db: Database.Database) {
    db.exec(SCHEMA);
    upgrade(db);
  }

  /** The share of a file, without creating sync's tables in files never shared. */
  static existingShare(db: Database.Database): Share | null {
    const has = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'crr_sync_share'`).get();
    return has ? new SyncStore(db).share() : null;
  }

  share(): Share | null {
    const row = this.db.prepare('SELECT database_id, key FROM crr_sync_share WHERE id = 1').get() as
      | { database_id: string; key: Buffer }
      | undefined;
    return row ? { databaseId: row.database_id, key: new Uint8Array(row.key) } : null;
  }

  /** The share of this file, created on first use. */
  ensureShare(): Share {
    const existing = this.share();
    if (existing) return existing;
    return this.setShare({ databaseId: randomBytes(16).toString('hex'), key: newShareKey() });
  }

  setShare(share: Share): Share {
    this.db
      .prepare(
        `INSERT INTO crr_sync_share (id, database_id, key, key_set_at) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET database_id = excluded.database_id, key = excluded.key, key_set_at = excluded.key_set_at`,
      )
      .run(share.databaseId, Buffer.from(share.key), Date.now());
    return share;
  }

  /** A new key: peers holding only the old one can no longer sync. */
  rotateKey(): Share {
    const share = this.ensureShare();
    return this.setShare({ databaseId: share.databaseId, key: newShareKey() });
  }

  /** How far we have received the changes of `peer`'s replica `site`. */
  seen(peer: string, site: Uint8Array): Seen {
    const row = this.db.prepare('SELECT version, cursor FROM crr_sync_progress WHERE peer = ? AND site = ?').get(peer, Buffer.from(site)) as
      | { version: number; cursor: string | null }
      | undefined;
    if (!row) return { version: 0, cursor: null };
    return { version: row.version, cursor: row.cursor ? cursorFromWire(JSON.parse(row.cursor)) : null };
  }

  /** Records progress through a peer's changes (call inside the transaction that applied them). */
  recordSeen(peer: string, site: Uint8Array, to: number, next: ChangePageCursor | null): void {
    const cursor = next ? JSON.stringify(cursorToWire(next)) : null;
    this.db
      .prepare(
        `INSERT INTO crr_sync_progress (peer, site, version, cursor, synced_at) VALUES (@peer, @site, @version, @cursor, @now)
         ON CONFLICT (peer, site) DO UPDATE SET version = max(version, excluded.version),
           cursor = CASE WHEN excluded.cursor IS NULL AND excluded.version < version THEN cursor ELSE excluded.cursor END,
           synced_at = excluded.synced_at`,
      )
      .run({ peer, site: Buffer.from(site), version: next ? next.from : to, cursor, now: Date.now() });
  }

  /** Changes this replica cannot merge yet, each with why, from `peer` (their progress is recorded: keep them). */
  hold(changes: [Change, string][], peer: string | null): void {
    this.holdItems(HELD.changes, changes, peer, (c) => JSON.stringify(encodeChanges([c], JSON_FORM)));
  }

  heldCount(): number {
    return this.heldItems(HELD.changes);
  }

  /** Held changes per peer they came from, with why they wait. */
  heldByPeer(): HeldByPeer[] {
    return this.groupHeld(HELD.changes);
  }

  /** Every held change, oldest first (read only: `release` removes the ones merged). */
  heldChanges(): HeldItem<Change>[] {
    return this.readItems(HELD.changes, (_, text) => decodeChanges(JSON.parse(text), JSON_FORM)[0]);
  }

  /** Removes held items that were merged (call inside the transaction that merged them). */
  release(kind: 'changes', ids: number[]): void {
    const del = this.db.prepare(`DELETE FROM ${HELD[kind].store} WHERE id = ?`);
    for (const id of ids) del.run(id);
  }

  /** Records why a held item still waits. */
  setHeldReason(kind: 'changes', id: number, reason: string): void {
    this.db.prepare(`UPDATE ${HELD[kind].store} SET reason = ? WHERE id = ? AND reason IS NOT ?`).run(reason, id, reason);
  }

  private holdItems<T>(held: Held, items: [T, string][], peer: string | null, encode: (item: T) => string): void {
    const ins = this.db.prepare(`INSERT INTO ${held.store} ("table", cid, ${held.column}, peer, reason) VALUES (?, ?, ?, ?, ?)`);
    for (const [item, reason] of items) {
      const i = item as { table: string; cid: string };
      ins.run(i.table, i.cid, encode(item), peer, reason);
    }
  }

  private heldItems(held: Held): number {
    return this.db.prepare(`SELECT count(*) FROM ${held.store}`).pluck().get() as number;
  }

  private groupHeld(held: Held): HeldByPeer[] {
    const rows = this.db
      .prepare(`SELECT peer, coalesce(reason, 'waiting for a schema change') AS reason, count(*) AS n FROM ${held.store} GROUP BY peer, 2 ORDER BY n DESC`)
      .all() as { peer: string | null; reason: string; n: number }[];
    const out = new Map<string | null, HeldByPeer>();
    for (const r of rows) {
      const g = out.get(r.peer) ?? { peer: r.peer, count: 0, reasons: [] };
      g.count += r.n;
      if (g.reasons.length < 3) g.reasons.push(r.reason);
      out.set(r.peer, g);
    }
    return [...out.values()];
  }

  private readItems<T>(held: Held, decode: (table: string, text: string) => T): HeldItem<T>[] {
    const rows = this.db.prepare(`SELECT id, "table", peer, reason, ${held.column} AS text FROM ${held.store} ORDER BY id`).all() as {
      id: number;
      table: string;
      peer: string | null;
      reason: string | null;
      text: string;
    }[];
    return rows.map((r) => ({ id: r.id, peer: r.peer, reason: r.reason, item: decode(r.table, r.text) }));
  }

  peers(): KnownPeer[] {
    return (this.db.prepare('SELECT peer_id, name, addresses, last_sync FROM crr_sync_peers').all() as {
      peer_id: string;
      name: string;
      addresses: string;
      last_sync: number | null;
    }[]).map((r) => ({ peerId: r.peer_id, name: r.name, addresses: JSON.parse(r.addresses), lastSync: r.last_sync }));
  }

  /**
   * The name a peer gave for its site id (hex), kept for cell history. The first peer id to present
   * a site owns its name; returns the owner's peer id when it is another one (the name is kept).
   */
  rememberSiteName(siteHex: string, name: string, peer: string): string | null {
    const site = siteHex.toLowerCase();
    const owner = this.db.prepare(`SELECT peer FROM crr_sync_site_names WHERE site = ?`).get(site) as { peer: string | null } | undefined;
    if (owner?.peer && owner.peer !== peer) return owner.peer;
    this.db
      .prepare(`INSERT INTO crr_sync_site_names (site, name, peer) VALUES (?, ?, ?) ON CONFLICT (site) DO UPDATE SET name = excluded.name, peer = excluded.peer`)
      .run(site, name, peer);
    return null;
  }

  /** The peer id that first presented a site (hex), if any. */
  siteOwner(siteHex: string): string | null {
    return (this.db.prepare(`SELECT peer FROM crr_sync_site_names WHERE site = ?`).pluck().get(siteHex.toLowerCase()) as string | null | undefined) ?? null;
  }

  siteName(siteHex: string): string | null {
    return (this.db.prepare(`SELECT name FROM crr_sync_site_names WHERE site = ?`).pluck().get(siteHex.toLowerCase()) as string | undefined) ?? null;
  }

  rememberPeer(peer: { peerId: string; name?: string; addresses?: string[]; synced?: boolean }): void {
    this.db
      .prepare(
        `INSERT INTO crr_sync_peers (peer_id, name, addresses, last_sync) VALUES (@id, @name, @addresses, @sync)
         ON CONFLICT (peer_id) DO UPDATE SET
           name = CASE WHEN @hasName THEN excluded.name ELSE name END,
           addresses = CASE WHEN @hasAddresses THEN excluded.addresses ELSE addresses END,
           last_sync = coalesce(excluded.last_sync, last_sync)`,
      )
      .run({
        id: peer.peerId,
        name: peer.name ?? '',
        addresses: JSON.stringify(peer.addresses ?? []),
        sync: peer.synced ? Date.now() : null,
        hasName: peer.name ? 1 : 0,
        hasAddresses: peer.addresses?.length ? 1 : 0,
      });
  }
}
