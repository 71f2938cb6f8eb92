// Cell history and conflicts, as SQL that lives in the file (see HISTORY.md for the model).
//
// Per CRR table t, "t__crr_hist" holds one row per version of a cell this database has seen:
// its identity (pk, cid, cl, col_version, site), its value, its PARENT (the version the writer's
// cell held when it wrote: parent_cv 0 = none, NULL = not known yet), when it was written and
// seen, and, on a version written by "Keep this value", the conflict it resolves. hid orders
// the rows for the history route of sync (a row gets a new hid when it learns its parent).
//
// Two versions conflict when they share a parent: each writer saw that version and not the
// other's. The views crr_history and crr_conflicts read these tables for any SQLite tool.
import type { TableInfo } from './table-info.ts';
import { quoteId, quoteText } from './table-info.ts';
import { cellsTable, rowsTable, declaredType, pkMatch } from './clock-tables.ts';

export const histTable = (table: string) => quoteId(`${table}__crr_hist`);

/** Milliseconds since 1970 in pure SQL (any SQLite version). */
export const NOW_MS = `CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)`;

export function createHistoryTableSql(info: TableInfo): string {
  const pkDecl = info.pks.map((p, i) => `${quoteId(p)} ${declaredType(info, i)}`).join(', ');
  const pk = info.pks.map(quoteId).join(', ');
  return `
CREATE TABLE IF NOT EXISTS ${histTable(info.name)} (hid INTEGER PRIMARY KEY, ${pkDecl}, cid TEXT NOT NULL,
  cl INTEGER NOT NULL, col_version INTEGER NOT NULL, site INTEGER NOT NULL, val,
  parent_site INTEGER, parent_cv INTEGER, written_at INTEGER, seen_at INTEGER NOT NULL,
  res_site INTEGER, res_cv INTEGER, res_members INTEGER);
CREATE UNIQUE INDEX IF NOT EXISTS ${quoteId(`${info.name}__crr_hist_k`)} ON ${histTable(info.name)} (${pk}, cid, cl, col_version, site);`;
}

export const dropHistoryTableSql = (table: string) => `DROP TABLE IF EXISTS ${histTable(table)};`;

const HIST_COLS = 'cid, cl, col_version, site, val, parent_site, parent_cv, written_at, seen_at';

/** A column's value in NEW/OLD by its name held in `cidExpr`. */
export function valueByCid(info: TableInfo, row: string, cidExpr: string): string {
  if (!info.columns.length) return 'NULL';
  return `CASE ${cidExpr} ${info.columns.map((c) => `WHEN ${quoteText(c)} THEN ${row}.${quoteId(c)}`).join(' ')} END`;
}

/**
 * History of a local write of one cell, run BEFORE its clock is written: the new version is the
 * one the clock is about to get; its parent is the cell's clock in this life (explicit, or
 * version 1 implied by the row's insert), or none.
 * `pk` are expressions for the row's key, `cid`/`val` for the column and its new value;
 * the FROM clause must provide r (the row clock) and c (the cell clock, LEFT JOINed).
 */
export function localVersionSelect(pk: string[], cid: string, val: string): string {
  return `SELECT ${pk.join(', ')}, ${cid}, r.cl,
      CASE WHEN c.cl = r.cl THEN c.col_version + 1 WHEN r.i_cl = r.cl THEN 2 ELSE 1 END, 0, ${val},
      CASE WHEN c.cl = r.cl THEN c.site WHEN r.i_cl = r.cl THEN r.i_site END,
      CASE WHEN c.cl = r.cl THEN c.col_version WHEN r.i_cl = r.cl THEN 1 ELSE 0 END, ${NOW_MS}, ${NOW_MS}`;
}

export function insertHistorySql(info: TableInfo): string {
  return `INSERT OR IGNORE INTO ${histTable(info.name)} (${info.pks.map(quoteId).join(', ')}, ${HIST_COLS})`;
}

/** Local update of column `c`: one version, before the clock upsert. */
export function updateHistorySql(info: TableInfo, c: string, newPk: string[], val: string): string {
  return `${insertHistorySql(info)}
    ${localVersionSelect(newPk, quoteText(c), val)}
    FROM ${rowsTable(info.name)} r LEFT JOIN ${cellsTable(info.name)} c ON ${pkMatch(info, 'c', newPk)} AND c.cid = ${quoteText(c)}
    WHERE ${pkMatch(info, 'r', newPk)};`;
}

/**
 * Local insert. Over a live row (the insert half of INSERT OR REPLACE) every cell gets a new
 * version: recorded before the clocks move. Otherwise (a fresh row or a re-insert), version 1
 * of every cell with no parent: recorded after the row clock is written.
 */
export function insertHistorySqls(info: TableInfo, newPk: string[], slots: string): { before: string; after: string } {
  if (!info.columns.length) return { before: '', after: '' };
  const cells = cellsTable(info.name);
  const rows = rowsTable(info.name);
  const val = valueByCid(info, 'NEW', 'v.column1');
  return {
    before: `${insertHistorySql(info)}
    ${localVersionSelect(newPk, 'v.column1', val)}
    FROM ${rows} r CROSS JOIN (VALUES ${slots}) v LEFT JOIN ${cells} c ON ${pkMatch(info, 'c', newPk)} AND c.cid = v.column1
    WHERE ${pkMatch(info, 'r', newPk)} AND r.cl % 2 = 1;`,
    after: `${insertHistorySql(info)}
    SELECT ${newPk.join(', ')}, v.column1, r.cl, 1, 0, ${val}, NULL, 0, ${NOW_MS}, ${NOW_MS}
    FROM ${rows} r CROSS JOIN (VALUES ${slots}) v
    WHERE ${pkMatch(info, 'r', newPk)} AND r.i_cl = r.cl
      AND NOT EXISTS (SELECT 1 FROM ${cells} c WHERE ${pkMatch(info, 'c', newPk)} AND c.cid = v.column1 AND c.cl = r.cl);`,
  };
}

/** Primary-key update: the row begins at its new key; its moved cells are first versions there. */
export function movedHistorySql(info: TableInfo, newPk: string[]): string {
  if (!info.columns.length) return '';
  return `${insertHistorySql(info)}
    SELECT ${newPk.join(', ')}, c.cid, c.cl, c.col_version, 0, ${valueByCid(info, 'NEW', 'c.cid')}, NULL, 0, ${NOW_MS}, ${NOW_MS}
    FROM ${cellsTable(info.name)} c JOIN ${rowsTable(info.name)} r ON ${pkMatch(info, 'r', newPk)} AND r.cl = c.cl
    WHERE ${pkMatch(info, 'c', newPk)};`;
}

/**
 * Merge: every incoming cell version is history, winner or not. A version 1 has no parent (its
 * writer had no clock for the cell in that life); for later ones the parent arrives by the
 * history route. `IN` is the staging table (p0.., cid, val, col_version, db_version, site_id, cl, seq).
 */
export function mergeHistorySqls(info: TableInfo, IN: string): string[] {
  if (!info.columns.length) return [];
  const P = info.pks.map((_, i) => `i.p${i}`);
  return [
    `${insertHistorySql(info)}
     SELECT ${P.join(', ')}, i.cid, i.cl, i.col_version, s.ord, i.val, NULL, CASE WHEN i.col_version = 1 THEN 0 END, NULL, ${NOW_MS}
     FROM ${IN} i JOIN crr_sites s ON s.site_id = i.site_id
     WHERE i.cid <> '-1' AND i.cl % 2 = 1`,
  ];
}

/** A row's key as SQL literal text, e.g. `42` or `'a', X'01'`: readable in any SQLite tool. */
export const pkText = (info: TableInfo, alias: string) => info.pks.map((p) => `quote(${alias}.${quoteId(p)})`).join(` || ', ' || `);

/**
 * 1 when the cell's clock is version h's own (same life, col_version and site): the version the
 * change route carries for this cell.
 */
export function isCurrentSql(info: TableInfo, h: string, clockVersionAtMost?: string): string {
  const upTo = (v: string) => (clockVersionAtMost ? `AND ${v} <= ${clockVersionAtMost}` : '');
  return clockIs(info, h, `AND c.site = ${h}.site ${upTo('c.db_version')}`, `AND r.i_site = ${h}.site ${upTo('r.i_version')}`);
}

/**
 * 1 when version h "won": the cell holds its value at its version. Two writers that wrote the same
 * value at the same version both won (which of them the clock names depends on arrival order).
 */
export function wonSql(info: TableInfo, h: string): string {
  const pkH = info.pks.map((p) => `${h}.${quoteId(p)}`);
  const v = valueByCid(info, 'b', `${h}.cid`);
  return `(${clockIs(info, h, '', '')} AND EXISTS (SELECT 1 FROM ${quoteId(info.name)} b WHERE ${pkMatch(info, 'b', pkH)}
      AND ${v} IS ${h}.val AND typeof(${v}) = typeof(${h}.val)))`;
}

function clockIs(info: TableInfo, h: string, cellSite: string, impliedSite: string): string {
  const pkH = info.pks.map((p) => `${h}.${quoteId(p)}`);
  return `(EXISTS (SELECT 1 FROM ${rowsTable(info.name)} r WHERE ${pkMatch(info, 'r', pkH)} AND r.cl = ${h}.cl) AND (
      EXISTS (SELECT 1 FROM ${cellsTable(info.name)} c WHERE ${pkMatch(info, 'c', pkH)} AND c.cid = ${h}.cid AND c.cl = ${h}.cl
        AND c.col_version = ${h}.col_version ${cellSite})
      OR (${h}.col_version = 1 AND EXISTS (SELECT 1 FROM ${rowsTable(info.name)} r WHERE ${pkMatch(info, 'r', pkH)}
        AND r.i_cl = ${h}.cl ${impliedSite})
        AND NOT EXISTS (SELECT 1 FROM ${cellsTable(info.name)} c WHERE ${pkMatch(info, 'c', pkH)} AND c.cid = ${h}.cid AND c.cl = ${h}.cl))))`;
}

/** The policy of a column: 'lww' unless set. */
export const policySql = (table: string, cidExpr: string) =>
  `coalesce((SELECT policy FROM crr_policies WHERE tbl = ${quoteText(table)} AND cid = ${cidExpr}), 'lww')`;

/**
 * Forks of one table: groups of versions of a cell (same life) sharing a known parent, whose
 * values differ. `resolved`: the column's policy is lww, the row's life has ended, or a version
 * written by "Keep" names this fork and saw all its versions (versions only accumulate, so a
 * resolution that saw as many as there are now saw them all).
 */
export function forksSelect(info: TableInfo): string {
  const H = histTable(info.name);
  const pk = info.pks.map((p) => `h.${quoteId(p)}`);
  const pkF = info.pks.map((p) => `f.${quoteId(p)}`);
  const group = [...pk, 'h.cid', 'h.cl', 'h.parent_site', 'h.parent_cv'].join(', ');
  return `SELECT ${quoteText(info.name)} AS tbl, f.*, ${policySql(info.name, 'f.cid')} AS policy,
      CASE WHEN ${policySql(info.name, 'f.cid')} = 'lww' THEN 1
        WHEN NOT EXISTS (SELECT 1 FROM ${rowsTable(info.name)} r WHERE ${pkMatch(info, 'r', pkF)} AND r.cl = f.cl) THEN 1
        WHEN EXISTS (SELECT 1 FROM ${H} x WHERE ${pkMatch(info, 'x', pkF)} AND x.cid = f.cid AND x.cl = f.cl
          AND x.res_site IS f.parent_site AND x.res_cv = f.parent_cv AND x.res_members >= f.versions) THEN 1
        ELSE 0 END AS resolved
    FROM (SELECT ${pk.join(', ')}, h.cid, h.cl, h.parent_site, h.parent_cv, count(*) AS versions, max(h.seen_at) AS seen_at
          FROM ${H} h WHERE h.parent_cv IS NOT NULL
          GROUP BY ${group} HAVING count(DISTINCT quote(h.val)) > 1) f`;
}

/** The views any SQLite tool can query: their CREATE VIEW statements (crr_history, crr_conflicts). */
export function historyViewsSql(infos: TableInfo[]): string[] {
  const withCols = infos.filter((i) => i.columns.length > 0);
  const historyParts = withCols.map(
    (info) => `SELECT ${quoteText(info.name)} AS "table", ${pkText(info, 'h')} AS pk, h.cid AS cid, h.val AS val,
      s.site_id AS site_id, h.col_version AS col_version, h.cl AS cl, ps.site_id AS parent_site_id, h.parent_cv AS parent_col_version,
      h.written_at AS written_at, h.seen_at AS seen_at, ${wonSql(info, 'h')} AS won,
      rs.site_id AS resolves_parent_site_id, h.res_cv AS resolves_parent_col_version
    FROM ${histTable(info.name)} h JOIN crr_sites s ON s.ord = h.site LEFT JOIN crr_sites ps ON ps.ord = h.parent_site
      LEFT JOIN crr_sites rs ON rs.ord = h.res_site`,
  );
  const conflictParts = withCols.map((info) => {
    const H = histTable(info.name);
    const pkF = info.pks.map((p) => `f.${quoteId(p)}`);
    return `SELECT f.tbl AS "table", ${pkText(info, 'f')} AS pk, f.cid AS cid, f.cl AS cl, ps.site_id AS parent_site_id,
        f.parent_cv AS parent_col_version, f.versions AS versions, f.policy AS policy, f.resolved AS resolved, f.seen_at AS seen_at,
        (SELECT json_group_array(json_object('site_id', hex(s.site_id), 'val', quote(h.val), 'col_version', h.col_version,
            'written_at', h.written_at)) FROM ${H} h JOIN crr_sites s ON s.ord = h.site
          WHERE ${pkMatch(info, 'h', pkF)} AND h.cid = f.cid AND h.cl = f.cl AND h.parent_site IS f.parent_site AND h.parent_cv = f.parent_cv) AS competing
      FROM (${forksSelect(info)}) f LEFT JOIN crr_sites ps ON ps.ord = f.parent_site`;
  });
  const empty = (cols: string[]) => `SELECT ${cols.map((c) => `NULL AS ${c}`).join(', ')} WHERE 0`;
  const historyCols = ['"table"', 'pk', 'cid', 'val', 'site_id', 'col_version', 'cl', 'parent_site_id', 'parent_col_version', 'written_at', 'seen_at', 'won', 'resolves_parent_site_id', 'resolves_parent_col_version'];
  const conflictCols = ['"table"', 'pk', 'cid', 'cl', 'parent_site_id', 'parent_col_version', 'versions', 'policy', 'resolved', 'seen_at', 'competing'];
  return [
    `CREATE VIEW crr_history AS ${historyParts.length ? historyParts.join('\nUNION ALL\n') : empty(historyCols)}`,
    `CREATE VIEW crr_conflicts AS ${conflictParts.length ? conflictParts.join('\nUNION ALL\n') : empty(conflictCols)}`,
  ];
}
