// Cell history and conflicts, as SQL over the clock tables (see HISTORY.md for the model and
// clock-tables.ts for the storage). A cell's versions are its version rows plus, while it has
// one, the implied first version of the row's life i_cl (still implied: its value is the row's;
// displaced by an update: its value kept in that update's row; of a deleted life: kept in the
// rows table). Two versions conflict when they share a parent; the merge records such cells in
// t__crr_forks. The views crr_history and crr_conflicts read these tables for any SQLite tool.
import type { TableInfo } from './table-info.ts';
import { quoteId, quoteText } from './table-info.ts';
import { columnValues, deadTable, deadValueBySlot, forksTable, nameBySlot, rowsTable, valueBySlot, versionsTable } from './clock-tables.ts';
import { affinity } from '../../shared/column-affinity.ts';

/** When this replica committed db_version `v` (ms since 1970): the seen time of its versions. */
export const timeOfSql = (v: string) => `(SELECT t.at FROM crr_times t WHERE t.db_version >= ${v} ORDER BY t.db_version LIMIT 1)`;

/** The policy of a column: 'lww' unless set. */
export const policySql = (table: string, cidExpr: string) =>
  `coalesce((SELECT policy FROM crr_policies WHERE tbl = ${quoteText(table)} AND cid = ${cidExpr}), 'lww')`;

/** A row's key as SQL literal text, e.g. `42` or `'a', X'01'`: readable in any SQLite tool. */
export const pkText = (info: TableInfo, alias: string) => info.pks.map((p) => `quote(${alias}.${quoteId(p)})`).join(` || ', ' || `);

const sameKey = (info: TableInfo, a: string, b: string) => info.pks.map((p) => `${a}.${quoteId(p)} = ${b}.${quoteId(p)}`).join(' AND ');

/**
 * Every version of one table's cells as rows of (pk columns, slot, cl, col_version, site, val,
 * lost, db_version, parent_site, parent_cv, written_at, seen_at, res_site, res_cv, res_members).
 * `where` filters the rows table / version rows alike (it may name the pk columns through alias x).
 */
export function versionsSelect(info: TableInfo, where = '1'): string {
  const V = versionsTable(info.name);
  const rows = rowsTable(info.name);
  const pkX = info.pks.map((p) => `x.${quoteId(p)}`).join(', ');
  // an implied first version: its value, or NULL state when a version row of its life stands for it
  const state = `(SELECT max(coalesce(y.has_first, 0)) FROM ${V} y WHERE ${sameKey(info, 'y', 'x')} AND y.slot = v.column2
      AND y.cl = x.i_cl AND (y.lost = 0 OR y.has_first = 1))`;
  const firstVal = `(SELECT y.first_val FROM ${V} y WHERE ${sameKey(info, 'y', 'x')} AND y.slot = v.column2 AND y.cl = x.i_cl AND y.has_first = 1)`;
  return `SELECT ${pkX}, x.slot AS slot, x.cl AS cl, x.col_version AS col_version, x.site AS site, x.val AS val, x.lost AS lost,
      x.db_version AS db_version, x.parent_site AS parent_site, x.parent_cv AS parent_cv, x.written_at AS written_at,
      coalesce(x.seen_at, ${timeOfSql('x.db_version')}) AS seen_at, x.res_site AS res_site, x.res_cv AS res_cv, x.res_members AS res_members
    FROM ${V} x WHERE ${where}
    UNION ALL
    SELECT ${pkX}, v.column2, x.i_cl, 1, x.i_site,
      CASE WHEN ${state} = 1 THEN ${firstVal} WHEN x.cl = x.i_cl THEN ${valueBySlot(info, 'b', 'v.column2')}
        ELSE ${deadValueBySlot(info, 'd', 'v.column2')} END,
      0, x.i_version, NULL, 0, x.i_written, ${timeOfSql('x.i_version')}, NULL, NULL, NULL
    FROM ${rows} x CROSS JOIN ${columnValues(info)} v LEFT JOIN ${quoteId(info.name)} b ON ${sameKey(info, 'b', 'x')}
      LEFT JOIN ${deadTable(info.name)} d ON ${sameKey(info, 'd', 'x')} AND d.cl = x.cl
    WHERE ${where} AND x.i_cl IS NOT NULL AND v.column3 <= x.i_version AND coalesce(${state}, 1) = 1`;
}

/**
 * 1 when version h "won": the cell holds its value at its version now (its row is alive in h's
 * life and the cell's current version has h's col_version and value). Two writers that wrote the
 * same value at the same version both won. The value is compared as the column's affinity stored
 * it ('5' in an INTEGER column holds 5, 3 in a TEXT one '3'); a column without affinity stores
 * values as given, so there the storage class must match too (5 IS 5.0).
 */
export function wonSql(info: TableInfo, h: string): string {
  const V = versionsTable(info.name);
  const rows = rowsTable(info.name);
  const key = (a: string) => info.pks.map((p) => `${a}.${quoteId(p)} = ${h}.${quoteId(p)}`).join(' AND ');
  const current = `coalesce((SELECT max(c.col_version) FROM ${V} c WHERE ${key('c')} AND c.slot = ${h}.slot AND c.lost = 0 AND c.cl = ${h}.cl),
      CASE WHEN r.i_cl = r.cl THEN 1 END)`;
  const holds = info.columns.map((c, i) => {
    const col = `b.${quoteId(c)}`;
    const aff = affinity(info.columnTypes[i]);
    const held =
      aff === 'blob' ? `${col} IS ${h}.val AND typeof(${col}) = typeof(${h}.val)`
      // (h.val, of a column without a type, gets no TEXT affinity in a comparison: numbers become text here)
      : aff === 'text' ? `${col} IS CASE WHEN typeof(${h}.val) IN ('integer', 'real') THEN CAST(${h}.val AS TEXT) ELSE ${h}.val END`
      : `${col} IS ${h}.val`;
    return `WHEN ${info.slots[i]} THEN ${held}`;
  });
  return `EXISTS (SELECT 1 FROM ${rows} r JOIN ${quoteId(info.name)} b ON ${sameKey(info, 'b', 'r')}
      WHERE ${key('r')} AND r.cl = ${h}.cl AND ${current} = ${h}.col_version AND CASE ${h}.slot ${holds.join(' ')} END)`;
}

/**
 * The forks (conflicts) of one table with their state: pk columns, slot, cl, parent_site,
 * parent_cv, versions (how many), policy, resolved, seen_at. `resolved`: the column's policy is
 * lww, the row's life has ended, or a version written by "Keep" names this fork and saw all its
 * versions (versions only accumulate, so one that saw as many as there are now saw them all).
 */
export function forksSelect(info: TableInfo, where = '1'): string {
  const F = forksTable(info.name);
  const V = versionsTable(info.name);
  const rows = rowsTable(info.name);
  const key = (a: string) => sameKey(info, a, 'f');
  const members = `(SELECT count(*) FROM ${V} m WHERE ${key('m')} AND m.slot = f.slot AND m.cl = f.cl AND m.parent_site IS nullif(f.parent_site, -1)
      AND m.parent_cv = f.parent_cv)
    + (f.parent_cv = 0 AND EXISTS (SELECT 1 FROM ${rows} r WHERE ${key('r')} AND r.i_cl = f.cl
      AND NOT EXISTS (SELECT 1 FROM ${V} y WHERE ${key('y')} AND y.slot = f.slot AND y.cl = f.cl AND y.col_version = 1 AND y.site = r.i_site)
      AND (EXISTS (SELECT 1 FROM ${V} y WHERE ${key('y')} AND y.slot = f.slot AND y.cl = f.cl AND y.has_first = 1)
        OR NOT EXISTS (SELECT 1 FROM ${V} y WHERE ${key('y')} AND y.slot = f.slot AND y.cl = f.cl AND y.lost = 0))))`;
  const cid = nameBySlot(info, 'f.slot');
  // (counter and text keep everyone's work: nothing to resolve)
  return `SELECT g.*, CASE WHEN g.policy IN ('lww', 'counter', 'text') THEN 1
        WHEN NOT EXISTS (SELECT 1 FROM ${rows} r WHERE ${sameKey(info, 'r', 'g')} AND r.cl = g.cl) THEN 1
        WHEN EXISTS (SELECT 1 FROM ${V} x WHERE ${sameKey(info, 'x', 'g')} AND x.slot = g.slot AND x.cl = g.cl
          AND x.res_site IS g.parent_site AND x.res_cv = g.parent_cv AND x.res_members >= g.versions) THEN 1
        ELSE 0 END AS resolved
    FROM (SELECT ${info.pks.map((p) => `f.${quoteId(p)}`).join(', ')}, f.slot, f.cl, f.parent_cv, f.seen_version,
            nullif(f.parent_site, -1) AS parent_site, ${members} AS versions, ${policySql(info.name, cid)} AS policy,
            ${timeOfSql('f.seen_version')} AS seen_at
          FROM ${F} f WHERE ${where}) g`;
}

/** The views any SQLite tool can query: their CREATE VIEW statements (crr_history, crr_conflicts). */
export function historyViewsSql(infos: TableInfo[]): string[] {
  const withCols = infos.filter((i) => i.columns.length > 0);
  const historyParts = withCols.map(
    (info) => `SELECT ${quoteText(info.name)} AS "table", ${pkText(info, 'h')} AS pk, ${nameBySlot(info, 'h.slot')} AS cid, h.val AS val,
      s.site_id AS site_id, h.col_version AS col_version, h.cl AS cl, ps.site_id AS parent_site_id, h.parent_cv AS parent_col_version,
      h.written_at AS written_at, h.seen_at AS seen_at, ${wonSql(info, 'h')} AS won,
      rs.site_id AS resolves_parent_site_id, h.res_cv AS resolves_parent_col_version
    FROM (${versionsSelect(info)}) h JOIN crr_sites s ON s.ord = h.site LEFT JOIN crr_sites ps ON ps.ord = h.parent_site
      LEFT JOIN crr_sites rs ON rs.ord = h.res_site`,
  );
  const conflictParts = withCols.map((info) => {
    const key = sameKey(info, 'h', 'f');
    return `SELECT ${quoteText(info.name)} AS "table", ${pkText(info, 'f')} AS pk, ${nameBySlot(info, 'f.slot')} AS cid, f.cl AS cl,
        ps.site_id AS parent_site_id, f.parent_cv AS parent_col_version, f.versions AS versions, f.policy AS policy,
        f.resolved AS resolved, f.seen_at AS seen_at,
        (SELECT json_group_array(json_object('site_id', hex(s.site_id), 'val', quote(h.val), 'col_version', h.col_version,
            'written_at', h.written_at)) FROM (${versionsSelect(info, sameKey(info, 'x', 'f'))}) h
          JOIN crr_sites s ON s.ord = h.site
          WHERE ${key} AND h.slot = f.slot AND h.cl = f.cl AND h.parent_site IS f.parent_site AND h.parent_cv = f.parent_cv) AS competing
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
