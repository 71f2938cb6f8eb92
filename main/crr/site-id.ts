// The 16-byte site id of this replica (UUIDv4 bytes), created once per file and kept as
// crr_sites.ord = 0. Clocks refer to sites by their small ord.
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';

export function newSiteId(): Uint8Array {
  const id = randomBytes(16);
  id[6] = (id[6] & 0x0f) | 0x40;
  id[8] = (id[8] & 0x3f) | 0x80;
  return new Uint8Array(id);
}

export function ensureLocalSiteId(db: Database.Database, wanted?: Uint8Array): Uint8Array {
  const row = db.prepare('SELECT site_id FROM crr_sites WHERE ord = 0').get() as { site_id: Buffer } | undefined;
  if (row) return new Uint8Array(row.site_id);
  if (wanted && wanted.length !== 16) throw new TypeError('a site id is 16 bytes');
  const id = wanted ?? newSiteId();
  db.prepare('INSERT INTO crr_sites (ord, site_id) VALUES (0, ?)').run(id);
  return id;
}

/**
 * Gives a copied database file its own site id. The copy keeps the original's changes
 * attributed to the original site (they move to a new ord); new local writes get the new id.
 */
export function renewSiteId(db: Database.Database): Uint8Array {
  const id = newSiteId();
  db.transaction(() => {
    const old = db.prepare('SELECT site_id FROM crr_sites WHERE ord = 0').get() as { site_id: Buffer } | undefined;
    if (!old) return;
    db.prepare('UPDATE crr_sites SET site_id = ? WHERE ord = 0').run(id);
    const ord = db.prepare('INSERT INTO crr_sites (site_id) VALUES (?)').run(old.site_id).lastInsertRowid;
    const tables = db.prepare('SELECT name FROM crr_tables').pluck().all() as string[];
    for (const t of tables) {
      const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
      db.prepare(`UPDATE ${q(`${t}__crr_rows`)} SET s_site = ? WHERE s_site = 0`).run(ord);
      db.prepare(`UPDATE ${q(`${t}__crr_rows`)} SET i_site = ? WHERE i_site = 0`).run(ord);
      for (const col of ['site', 'parent_site', 'res_site']) {
        db.prepare(`UPDATE ${q(`${t}__crr_v`)} SET ${col} = ? WHERE ${col} = 0`).run(ord);
      }
      db.prepare(`UPDATE ${q(`${t}__crr_forks`)} SET parent_site = ? WHERE parent_site = 0`).run(ord);
      db.prepare(`UPDATE ${q(`${t}__crr_dead`)} SET site = ? WHERE site = 0`).run(ord);
    }
  })();
  return id;
}
