// What sync keeps inside the database file (plain tables, hidden from the editor by the crr_
// prefix, never replicated): the share (database id and key), how far each peer's changes have
// been received, changes (with their history) held for tables or columns this replica lacks, known peers, and the names
// peers gave for their site ids (so cell history names its writers after a restart too).
import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import type { Change, ChangePageCursor } from '../crr/types.ts';
import { newShareKey } from './auth.ts';
import { cursorFromWire, cursorToWire, decodeChanges, encodeChanges } from './change-codec.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS crr_sync_share (id INTEGER PRIMARY KEY CHECK (id = 1), database_id TEXT NOT NULL,
  key BLOB NOT NULL, key_set_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS crr_sync_seen (site BLOB PRIMARY KEY, version INTEGER NOT NULL, cursor TEXT,
  synced_at INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS crr_sync_held (id INTEGER PRIMARY KEY, "table" TEXT NOT NULL, cid TEXT NOT NULL,
  change TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS crr_sync_peers (peer_id TEXT PRIMARY KEY, name TEXT NOT NULL, addresses TEXT NOT NULL,
  last_sync INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS crr_sync_site_names (site TEXT PRIMARY KEY, name TEXT NOT NULL) WITHOUT ROWID;
-- the history route of protocol 1 (history now travels with the changes)
DROP TABLE IF EXISTS crr_sync_hseen;
DROP TABLE IF EXISTS crr_sync_held_history;
`;

/** Where held items wait: changes for tables or columns not here yet. */
const HELD = {
  changes: { store: 'crr_sync_held', column: 'change' },
} as const;
type Held = (typeof HELD)[keyof typeof HELD];
type Applicable = (table: string, cid: string) => boolean;

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
    db.transaction(() => {
      // a file synced with protocol 1: its resume cursors point into that protocol's pages; the
      // versions they belong to stay (a range is only recorded once it was received whole)
      const v1 = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'crr_sync_hseen'`).get();
      db.exec(SCHEMA);
      if (v1) db.prepare('UPDATE crr_sync_seen SET cursor = NULL').run();
    })();
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

  seen(site: Uint8Array): Seen {
    const row = this.db.prepare('SELECT version, cursor FROM crr_sync_seen WHERE site = ?').get(Buffer.from(site)) as
      | { version: number; cursor: string | null }
      | undefined;
    if (!row) return { version: 0, cursor: null };
    return { version: row.version, cursor: row.cursor ? cursorFromWire(JSON.parse(row.cursor)) : null };
  }

  /** Records progress through a peer's changes (call inside the transaction that applied them). */
  recordSeen(site: Uint8Array, to: number, next: ChangePageCursor | null): void {
    const cursor = next ? JSON.stringify(cursorToWire(next)) : null;
    this.db
      .prepare(
        `INSERT INTO crr_sync_seen (site, version, cursor, synced_at) VALUES (@site, @version, @cursor, @now)
         ON CONFLICT (site) DO UPDATE SET version = max(version, excluded.version),
           cursor = CASE WHEN excluded.cursor IS NULL AND excluded.version < version THEN cursor ELSE excluded.cursor END,
           synced_at = excluded.synced_at`,
      )
      .run({ site: Buffer.from(site), version: next ? next.from : to, cursor, now: Date.now() });
  }

  /** Changes for a table or column this replica lacks yet (their progress is recorded: keep them). */
  hold(changes: Change[]): void {
    this.holdItems(HELD.changes, changes, (c) => JSON.stringify(encodeChanges([c])));
  }

  heldCount(): number {
    return this.heldItems(HELD.changes);
  }

  /** Held changes that `applicable` accepts now, removed from the store (call inside a transaction). */
  takeHeld(applicable: Applicable): Change[] {
    return this.takeItems(HELD.changes, applicable, (_, text) => decodeChanges(JSON.parse(text)));
  }

  private holdItems<T extends { table: string; cid: string }>(held: Held, items: T[], encode: (item: T) => string): void {
    const ins = this.db.prepare(`INSERT INTO ${held.store} ("table", cid, ${held.column}) VALUES (?, ?, ?)`);
    for (const item of items) ins.run(item.table, item.cid, encode(item));
  }

  private heldItems(held: Held): number {
    return this.db.prepare(`SELECT count(*) FROM ${held.store}`).pluck().get() as number;
  }

  private takeItems<T>(held: Held, applicable: Applicable, decode: (table: string, text: string) => T[]): T[] {
    const out: T[] = [];
    const del = this.db.prepare(`DELETE FROM ${held.store} WHERE id = ?`);
    const rows = this.db.prepare(`SELECT id, "table", cid, ${held.column} AS text FROM ${held.store} ORDER BY id`).all() as {
      id: number;
      table: string;
      cid: string;
      text: string;
    }[];
    for (const row of rows) {
      if (!applicable(row.table, row.cid)) continue;
      out.push(...decode(row.table, row.text));
      del.run(row.id);
    }
    return out;
  }

  peers(): KnownPeer[] {
    return (this.db.prepare('SELECT peer_id, name, addresses, last_sync FROM crr_sync_peers').all() as {
      peer_id: string;
      name: string;
      addresses: string;
      last_sync: number | null;
    }[]).map((r) => ({ peerId: r.peer_id, name: r.name, addresses: JSON.parse(r.addresses), lastSync: r.last_sync }));
  }

  /** The name a peer gave for its site id (hex), kept for cell history. */
  rememberSiteName(siteHex: string, name: string): void {
    this.db
      .prepare(`INSERT INTO crr_sync_site_names (site, name) VALUES (?, ?) ON CONFLICT (site) DO UPDATE SET name = excluded.name`)
      .run(siteHex.toLowerCase(), name);
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
