// Shared by the engine's tests: real database files in a temp dir, and exact table snapshots.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCrr } from './index.ts';
import type { Change, ChangePageCursor, CrrEngine, CrrOptions } from './types.ts';

export interface Replica {
  db: Database.Database;
  engine: CrrEngine;
  path: string;
}

export function tempDir(prefix = 'crr-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function openReplica(path: string, options: CrrOptions = {}): Replica {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const engine = installCrr(db, { pollMs: 0, ...options });
  return { db, engine, path };
}

export function closeReplica(r: Replica): void {
  r.engine.close();
  r.db.close();
}

/** Every row of a table ordered by primary key, each value as its SQL literal (storage class exact). */
export function tableSnapshot(db: Database.Database, table: string): string[][] {
  const cols = (db.prepare(`SELECT name, pk FROM pragma_table_info(?)`).all(table) as { name: string; pk: number }[]);
  const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => `"${c.name}"`);
  const order = pk.length ? pk.join(', ') : 'rowid';
  const sel = cols.map((c) => `quote("${c.name}")`).join(', ');
  return (db.prepare(`SELECT ${sel} FROM "${table}" ORDER BY ${order}`).raw().all() as string[][]).map((r) => r.map(String));
}

/**
 * Every change of `from`'s sync stream (history included) with since < db_version <= its
 * version now, read page by page as sync does (pages of `pageSize`), skipping `exclude`'s own.
 */
export function streamChanges(from: Replica, since: number, exclude?: Uint8Array, pageSize = 7): Change[] {
  const out: Change[] = [];
  let cursor: ChangePageCursor | null = { from: since, to: from.engine.dbVersion() };
  while (cursor) {
    const page = from.engine.changesPage(cursor, pageSize, { excludeSite: exclude });
    out.push(...page.changes);
    cursor = page.next;
  }
  return out;
}

/** `to` pulls `from`'s whole stream and its merge policies, as our sync protocol does. */
export function syncStream(from: Replica, to: Replica, since = 0): void {
  to.engine.applyChanges(streamChanges(from, since, to.engine.siteId));
  to.engine.history.applyPolicies(from.engine.history.policies());
}
