// Shared by the engine's tests: real database files in a temp dir, and exact table snapshots.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCrr } from './index.ts';
import type { CrrEngine, CrrOptions } from './types.ts';

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
