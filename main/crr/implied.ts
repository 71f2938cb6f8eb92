// Implied first versions (clock-tables.ts): a row's i_* clock stands for version 1 of each of
// its cells in life i_cl. When the row leaves that life for good (a re-insert after a delete, a
// merged new life, a primary-key move), or when a REPLACE rewrites every cell, the implied
// versions become explicit version rows first, so no version is lost or changes identity.
import type { TableInfo } from './table-info.ts';
import { quoteId } from './table-info.ts';
import { columnValues, versionsTable } from './clock-tables.ts';

/** The version-row columns every INSERT INTO t__crr_v names, in this order. */
export const versionColumns = (info: TableInfo) =>
  `${info.pks.map(quoteId).join(', ')}, slot, lost, cl, col_version, site, val, db_version, seq, parent_site, parent_cv, written_at, seen_at, res_site, res_cv, res_members, has_first, first_val`;

/**
 * A staged change's parent (alias `a` of a merge staging table) as its version row stores it: a
 * version 1 has none (its writer had no version of the cell in that life), so parent_cv 0 and no
 * parent_site.
 */
export const stagedParentCv = (a: string) => `CASE WHEN ${a}.col_version = 1 THEN 0 ELSE ${a}.pcv END`;
export const stagedParentSite = (a: string) => `CASE WHEN ${stagedParentCv(a)} = 0 THEN NULL ELSE ${a}.psite END`;

/**
 * A non-lost version row of life `cl` exists for the cell: its key is alias `r`'s pk columns, or
 * a list of key expressions.
 */
export function hasVersionIn(info: TableInfo, r: string | string[], slot: string, cl: string): string {
  const V = versionsTable(info.name);
  const key = typeof r === 'string' ? info.pks.map((p) => `${r}.${quoteId(p)}`) : r;
  const match = info.pks.map((p, i) => `x.${quoteId(p)} = ${key[i]}`).join(' AND ');
  return `EXISTS (SELECT 1 FROM ${V} x WHERE ${match} AND x.slot = ${slot} AND x.lost = 0 AND x.cl = ${cl})`;
}

/**
 * The rowid of the cell's current version row in life `cl` (NULL when it has none): its newest
 * not lost (one per col_version), by one backward read of the cell's index. `key`: the cell's key
 * expressions. (A max() to join on was a second search of the index.)
 */
export function currentVersionVid(info: TableInfo, key: string[], slot: string, cl: string): string {
  const V = versionsTable(info.name);
  const match = info.pks.map((p, i) => `y.${quoteId(p)} = ${key[i]}`).join(' AND ');
  return `(SELECT y.vid FROM ${V} y WHERE ${match} AND y.slot = ${slot} AND y.lost = 0 AND y.cl = ${cl} ORDER BY y.col_version DESC LIMIT 1)`;
}

/** The open transaction's db_version (the marker must be open). */
export const TX_VERSION = `(SELECT db_version FROM crr_tx WHERE id = 1)`;
/** The open transaction's next seq number (the marker must be open). */
export const TX_SEQ = `(SELECT seq FROM crr_tx WHERE id = 1)`;

/**
 * Statements that write explicit rows for the implied first versions of the rows selected by
 * `where` (over the rows table aliased r). `value` is the SQL of a cell's value, given the slot
 * as `v.column2` (the base table's current value, or the deleted life's kept value). With
 * `endLife`, versions that an update displaced (kept in has_first/first_val) are written out
 * too: the row is leaving that life (the caller clears the implied clock).
 *
 * The rows are stamped with the open transaction's db_version, not the implied clock's: the
 * version moves from the rows table's index to the version rows' one, and a sync reader paging a
 * fixed range must meet it again above that range rather than lose it behind its cursor.
 */
export function materializeImpliedSql(info: TableInfo, rowsFrom: string, where: string, value: string, endLife: boolean): string[] {
  if (!info.columns.length) return [];
  const V = versionsTable(info.name);
  const pkR = info.pks.map((p) => `r.${quoteId(p)}`).join(', ');
  const matchX = info.pks.map((p) => `x.${quoteId(p)} = r.${quoteId(p)}`).join(' AND ');
  const stillImplied = `INSERT OR IGNORE INTO ${V} (${versionColumns(info)})
    SELECT ${pkR}, v.column2, 0, r.i_cl, 1, r.i_site, ${value}, ${TX_VERSION}, r.i_seq + v.column2, NULL, 0, r.i_written, NULL,
      NULL, NULL, NULL, NULL, NULL
    FROM ${rowsFrom} CROSS JOIN ${columnValues(info)} v
    WHERE ${where} AND r.i_cl IS NOT NULL AND v.column3 <= r.i_version AND NOT ${hasVersionIn(info, 'r', 'v.column2', 'r.i_cl')}`;
  if (!endLife) return [stillImplied];
  return [
    stillImplied,
    `INSERT OR IGNORE INTO ${V} (${versionColumns(info)})
    SELECT ${pkR}, x.slot, 0, r.i_cl, 1, r.i_site, x.first_val, ${TX_VERSION}, r.i_seq + x.slot, NULL, 0, r.i_written, NULL,
      NULL, NULL, NULL, NULL, NULL
    FROM ${rowsFrom} JOIN ${V} x ON ${matchX} AND x.cl = r.i_cl AND x.has_first = 1
    WHERE ${where} AND r.i_cl IS NOT NULL`,
    // (no alias on the target: SQLite's RENAME COLUMN cannot parse a trigger with one; IN, not
    // UPDATE ... FROM, which scans the whole target)
    `UPDATE OR IGNORE ${V} SET has_first = NULL, first_val = NULL
    WHERE has_first = 1 AND (${info.pks.map(quoteId).join(', ')}, cl) IN (SELECT ${pkR}, r.i_cl FROM ${rowsFrom} WHERE ${where} AND r.i_cl IS NOT NULL)`,
  ];
}
