// Schema changes on collaborative tables inside one transaction of the app's own (the SQL console,
// the structure editor, rebuilds). The engine re-derives a CRR table's triggers and clocks when it
// sees the schema changed (main/crr/README.md "Schema changes"), but only when it next looks: a
// write later in the same transaction would go untracked, and a DROP COLUMN is refused by SQLite
// while the tracking triggers name the column. So: suspend a table's triggers right before such an
// ALTER, and have the engine re-derive everything before the transaction goes on.
import type Database from 'better-sqlite3';
import { dropLocalTriggersSql } from '../crr/local-triggers.ts';
import { historyViewsSql } from '../crr/history-sql.ts';
import type { CrrEngine } from '../crr/types.ts';

/** the engine's history views (crr_history, crr_conflicts): they name every column of every CRR table */
const HISTORY_VIEWS = historyViewsSql([]).map((sql) => /^CREATE VIEW (\w+)/.exec(sql)![1]);

/**
 * Drops the engine's tracking triggers of `table`, its history views and the TEMP crsql_changes view
 * (inside the caller's transaction): SQLite refuses to drop a column any of them names.
 */
export function suspendTracking(db: Database.Database, table: string): void {
  const views = [...HISTORY_VIEWS, 'temp.crsql_changes'].map((v) => `DROP VIEW IF EXISTS ${v};`).join('\n');
  db.exec(dropLocalTriggersSql(db, table) + views);
}

/**
 * Has the engine re-derive triggers and clocks for the schema as it is now. Every read of changes
 * checks the schema first (and repairs in a savepoint of the open transaction); a read of no
 * changes is that check alone. Also after a rollback: it brings the engine back to the file.
 */
export function refreshTracking(engine: CrrEngine): void {
  engine.changesSince(engine.dbVersion(), { limit: 0 });
}

/**
 * A collaborative table renamed by ALTER TABLE … RENAME TO keeps the engine's triggers under the
 * old name, and the engine would then drop the old name's clocks: writes to it would fail. Names
 * the CRR tables whose tracking moved to another table.
 */
export function renamedCrrTables(db: Database.Database, engine: CrrEngine): { from: string; to: string }[] {
  const moved: { from: string; to: string }[] = [];
  const trigger = db.prepare(`SELECT tbl_name FROM sqlite_schema WHERE type = 'trigger' AND name = ?`).pluck();
  for (const t of engine.crrTables()) {
    const on = trigger.get(`${t}__crr_insert`) as string | undefined;
    if (on !== undefined && on !== t) moved.push({ from: t, to: on });
  }
  return moved;
}
