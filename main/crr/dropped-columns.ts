// Versions of dropped columns, kept readable. A column dropped from a collaborative table may hold
// edits no peer has seen yet (a peer still has the column until its user confirms the drop), so
// its versions are not deleted: they move to "t__crr_dropped" (one row per version, named by the
// column's name) before the column goes, implied first versions included (their values are still
// in the row then). Versions that peers still send for it land there too. Nothing else reads this
// table: no merge, no sync stream, no crsql_changes; any SQLite tool can query it.
import type { TableInfo } from './table-info.ts';
import { quoteId, quoteText } from './table-info.ts';
import { declaredType, forksTable, versionsTable } from './clock-tables.ts';
import { versionsSelect } from './history-sql.ts';

export const droppedTable = (table: string) => quoteId(`${table}__crr_dropped`);

const COLUMNS = 'cid, dropped_at, cl, col_version, site, val, lost, db_version, parent_site, parent_cv, written_at, seen_at';

export function createDroppedSql(info: TableInfo): string {
  const pkDecl = info.pks.map((p, i) => `${quoteId(p)} ${declaredType(info, i)}`).join(', ');
  const pk = info.pks.map(quoteId).join(', ');
  return `CREATE TABLE IF NOT EXISTS ${droppedTable(info.name)} (did INTEGER PRIMARY KEY, ${pkDecl}, cid TEXT NOT NULL,
  dropped_at INTEGER NOT NULL, cl INTEGER NOT NULL, col_version INTEGER NOT NULL, site INTEGER NOT NULL, val,
  lost INTEGER NOT NULL, db_version INTEGER NOT NULL, parent_site INTEGER, parent_cv INTEGER, written_at INTEGER, seen_at INTEGER);
CREATE UNIQUE INDEX IF NOT EXISTS ${quoteId(`${info.name}__crr_dropped_k`)} ON ${droppedTable(info.name)} (${pk}, cid, cl, col_version, site, lost);`;
}

export const dropDroppedSql = (table: string) => `DROP TABLE IF EXISTS ${droppedTable(table)};`;

/** Moves the versions of the column with `slot` (named `cid`) read from `from` (as h) to the dropped table. */
function moveVersionsSql(info: TableInfo, slot: number, cid: string, at: number, from: string): string[] {
  const pk = info.pks.map(quoteId).join(', ');
  const hPk = info.pks.map((p) => `h.${quoteId(p)}`).join(', ');
  return [
    createDroppedSql(info),
    `INSERT OR IGNORE INTO ${droppedTable(info.name)} (${pk}, ${COLUMNS})
     SELECT ${hPk}, ${quoteText(cid)}, ${at}, h.cl, h.col_version, h.site, h.val, h.lost, h.db_version, h.parent_site, h.parent_cv,
       h.written_at, h.seen_at
     FROM ${from} h WHERE h.slot = ${slot}`,
    `DELETE FROM ${versionsTable(info.name)} WHERE slot = ${slot}`,
    `DELETE FROM ${forksTable(info.name)} WHERE slot = ${slot}`,
  ];
}

/**
 * Moves every version of the column with `slot` (named `cid`) to the dropped table, while the
 * column still exists (implied first versions read their value from the row): run right before
 * ALTER TABLE … DROP COLUMN. `at`: the db_version of the drop.
 */
export const keepColumnSql = (info: TableInfo, slot: number, cid: string, at: number): string[] =>
  moveVersionsSql(info, slot, cid, at, `(${versionsSelect(info)})`);

/**
 * The same for a column already gone (a drop between crsql_begin_alter and crsql_commit_alter, or
 * by a program that removed the triggers first): only its version rows are left to keep.
 */
export const keepVersionRowsSql = (info: TableInfo, slot: number, cid: string, at: number): string[] =>
  moveVersionsSql(info, slot, cid, at, versionsTable(info.name));

/** An incoming version of a dropped column: @p0… (its key), @cid, @cl, @cv, @site, @val, @ps, @pcv, @wa, @at, @now. */
export function insertDroppedSql(info: TableInfo): string {
  const pk = info.pks.map(quoteId).join(', ');
  const params = info.pks.map((_, i) => `@p${i}`).join(', ');
  return `INSERT OR IGNORE INTO ${droppedTable(info.name)} (${pk}, ${COLUMNS})
    VALUES (${params}, @cid, @at, @cl, @cv, @site, @val, 0, @at, @ps, @pcv, @wa, @now)`;
}

/** The dropped versions of a table (of one row: @p0…), newest first, with site ids. */
export function readDroppedSql(info: TableInfo, oneRow: boolean): string {
  const where = oneRow ? info.pks.map((p, i) => `d.${quoteId(p)} = @p${i}`).join(' AND ') : '1';
  return `SELECT ${info.pks.map((p, i) => `d.${quoteId(p)} AS p${i}`).join(', ')}, d.cid, d.dropped_at, d.cl, d.col_version, s.site_id,
      d.val, d.db_version, ps.site_id AS parent_site_id, d.parent_cv, d.written_at, d.seen_at
    FROM ${droppedTable(info.name)} d JOIN crr_sites s ON s.ord = d.site LEFT JOIN crr_sites ps ON ps.ord = d.parent_site
    WHERE ${where} ORDER BY d.db_version DESC, d.did DESC`;
}
