// The merge's fast paths for rows this replica does not have yet. Nothing local can win, tie or
// fork with their cells, and the general program (merge.ts) spent most of its time proving that,
// cell by cell. A clone is almost only such rows.
//  - whole rows: every cell's first version, from one writer, in one transaction of theirs (a
//    peer's insert). applyChanges stages such a row as ONE staging row (its key, its implied
//    clock, its values) instead of one per cell; rows INSERT INTO crsql_changes staged cell by
//    cell are gathered into such rows here. They are written like a local insert: the table's
//    row and one implied clock row.
//  - fresh rows: every column once, in the row's first life, but not one writer's insert (a
//    clone of edited rows; a cr-sqlite peer, whose crsql_changes shows each cell's current
//    version only). Each cell is the current version: the row is written with its values and a
//    clock, with one version row per cell, as the general program would (the bench's SQL merge,
//    110k changes, 20k rows of which have qty at version 3: the merge program took 1.28–1.37 s
//    of it, 0.34–0.46 s with this path). Staged whole from JS (fresh = 2), the first versions
//    that share the lowest slot's writer and transaction stay implied by the clock instead, as
//    after a local insert that was then edited: one version row per other cell.
//
// A row whose key this replica already has takes the general path: its cells are moved to the
// general staging table first. (Staged whole from JS, a fresh row's cells carry their clocks in
// the row's k/d/s/q columns, so its cells never touch the general staging table.) The fast paths run before the general program of the same batch,
// so the batch merges as if their rows had come in a page of their own just before the rest
// (merging does not depend on how changes are split into pages).
import type { TableInfo } from './table-info.ts';
import type { SqlValue } from '../../shared/values.ts';
import { affinity, type Affinity } from '../../shared/column-affinity.ts';
import { quoteId, quoteText, sqlTuple } from './table-info.ts';
import { declaredType, rowsTable, versionsTable } from './clock-tables.ts';
import { stagedParentCv, stagedParentSite, TX_VERSION, versionColumns } from './implied.ts';
import { CLOCK_ROW } from './clock-sql.ts';

const bareName = (table: string) => quoteId(`${table}__crr_whole`);
export const wholeTable = (table: string) => `temp.${bareName(table)}`;

/**
 * Whether a column of this affinity stores `v` as it is (conservatively: a TEXT value in a
 * numeric column may convert, so it does not count). An implied version's value is read from the
 * table, a version row's is kept as it came: a value the table converts (a REAL 7.0 in an INTEGER
 * column) stays a version row, as the general program keeps it, or replicas would differ by path.
 */
export function storedAsGiven(aff: Affinity, v: SqlValue): boolean {
  if (v === null || v instanceof Uint8Array || aff === 'blob') return true;
  if (aff === 'text') return typeof v === 'string';
  if (aff === 'real') return typeof v === 'number';
  return typeof v === 'bigint' || (typeof v === 'number' && !Number.isInteger(v));
}

/** storedAsGiven in SQL, of value `val` in the column of slot `slot` */
function storedAsGivenSql(info: TableInfo, slot: string, val: string): string {
  const cond = (aff: Affinity) =>
    aff === 'blob' ? '1'
    : aff === 'text' ? `typeof(${val}) IN ('null', 'text', 'blob')`
    : aff === 'real' ? `typeof(${val}) IN ('null', 'real', 'blob')`
    : `(typeof(${val}) IN ('null', 'integer', 'blob') OR (typeof(${val}) = 'real' AND ${val} <> CAST(${val} AS INTEGER)))`;
  return `CASE ${slot} ${info.slots.map((s, i) => `WHEN ${s} THEN ${cond(affinity(info.columnTypes[i]))}`).join(' ')} END`;
}

/** Columns of the whole-rows staging table after the key columns p0..: then one per column, in order. */
export const WHOLE_COLUMNS = ['site', 'db_version', 'iseq', 'wa'] as const;
const valueColumn = (i: number) => `c${i}`;
/** a fresh row staged whole: column i's col_version, db_version, site and seq */
const clockColumns = (i: number) => [`k${i}`, `d${i}`, `s${i}`, `q${i}`];

/**
 * The TEMP staging table of new rows (one per key and batch: applyChanges sees to that). `site`
 * and `iseq` are the lowest slot's (for a whole row, every slot's). A fresh row (`fresh`) has its
 * cells in the general staging table (1: found there), or in its clock columns (2: staged so
 * from JS, with no parent, written time or resolution, as cr-sqlite peers send them).
 */
export function wholeTableSql(info: TableInfo): string {
  const pDecl = info.pks.map((_, i) => `p${i} ${declaredType(info, i)}`).join(', ');
  const ps = info.pks.map((_, i) => `p${i}`).join(', ');
  return `
DROP TABLE IF EXISTS ${wholeTable(info.name)};
CREATE TEMP TABLE ${bareName(info.name)} (${pDecl}, site INTEGER, db_version INTEGER, iseq INTEGER, wa INTEGER, iv INTEGER${info.columns.map((_, i) => `, ${valueColumn(i)}`).join('')},
  ${info.columns.map((_, i) => clockColumns(i).map((c) => `${c} INTEGER`).join(', ')).join(', ')}${info.columns.length ? ',' : ''}
  collected INTEGER, fresh INTEGER, PRIMARY KEY (${ps})) WITHOUT ROWID;`;
}

/**
 * The statement staging `rows` fresh rows with their cells: key values, site, db_version, iseq
 * (WHOLE_COLUMNS but wa), iv, the row's values, then each column's clock (col_version, db_version,
 * site, seq), in column order. `iv`: the db_version of the first versions the row's clock
 * implies (version 1 by `site` at seq iseq + slot), NULL when it implies none; an implied cell's
 * clock columns are NULL.
 */
export function stageFreshSql(info: TableInfo, rows: number): string {
  const cols = [...info.pks.map((_, i) => `p${i}`), 'site', 'db_version', 'iseq', 'iv', ...info.columns.map((_, i) => valueColumn(i)), ...info.columns.flatMap((_, i) => clockColumns(i))];
  const tuple = `(${cols.map(() => '?').join(', ')}, 2)`;
  return `INSERT OR IGNORE INTO ${wholeTable(info.name)} (${cols.join(', ')}, fresh) VALUES ${Array(rows).fill(tuple).join(', ')}`;
}

/** The statement staging `rows` whole rows: key values, WHOLE_COLUMNS, then the row's values. */
export function stageWholeSql(info: TableInfo, rows: number): string {
  const cols = [...info.pks.map((_, i) => `p${i}`), ...WHOLE_COLUMNS, ...info.columns.map((_, i) => valueColumn(i))];
  const tuple = `(${cols.map(() => '?').join(', ')})`;
  return `INSERT OR IGNORE INTO ${wholeTable(info.name)} (${cols.join(', ')}) VALUES ${Array(rows).fill(tuple).join(', ')}`;
}

/**
 * The fast path's program for one table (a table with columns), to run before the general one;
 * `incoming` is the general program's staging table (merge.ts). `gather`: whole rows staged cell
 * by cell are gathered first (INSERT INTO crsql_changes; applyChanges stages whole rows as such).
 */
export function wholeRowsProgram(info: TableInfo, incoming: string, gather = true): string[] {
  const t = quoteId(info.name);
  const rows = rowsTable(info.name);
  const WR = wholeTable(info.name);
  const wrName = bareName(info.name);
  const P = info.pks.map((_, i) => `p${i}`);
  const pkCols = info.pks.map(quoteId);
  const n = info.columns.length;
  const known = (w: string) => `EXISTS (SELECT 1 FROM ${rows} r WHERE ${pkCols.map((c, i) => `r.${c} = ${w}.${P[i]}`).join(' AND ')})`;
  const slots = `(VALUES ${info.slots.map((s) => `(${s})`).join(', ')}) v`;
  const bySlot = (col: (i: number) => string) => `CASE v.column1 ${info.slots.map((s, i) => `WHEN ${s} THEN w.${col(i)}`).join(' ')} END`;
  const valueBySlot = bySlot(valueColumn);
  const [cvOf, dvOf, siteOf, seqOf] = [0, 1, 2, 3].map((k) => bySlot((i) => clockColumns(i)[k]));
  // a fresh row's cell as staged, or as its row's clock implies it (no clock columns)
  const [cvAt, dvAt, siteAt, seqAt] = [`coalesce(${cvOf}, 1)`, `coalesce(${dvOf}, w.iv)`, `coalesce(${siteOf}, w.site)`, `coalesce(${seqOf}, w.iseq + v.column1)`];
  const any = `EXISTS (SELECT 1 FROM ${WR})`;
  // the sentinel-less row's s_seq/s_site: those of its lowest slot's cell (as merge.ts keeps them)
  const minSlot = Math.min(...info.slots);
  const pivot = info.slots.map((s) => `, max(CASE WHEN g.slot = ${s} THEN g.val END)`).join('');
  const values = info.columns.map((_, i) => `, ${valueColumn(i)}`).join('');
  // every staged change of the key is of life 1, one per column: a new row, whole or fresh
  const newRow = `count(*) = ${n} AND count(DISTINCT g.slot) = ${n} AND min(g.slot) >= 0 AND min(g.cl) = 1 AND max(g.cl) = 1`;
  // whole: also first versions from one writer and transaction, one written time or none, nothing resolved
  const whole = gather
    ? `(min(g.col_version) = 1 AND max(g.col_version) = 1 AND min(g.site) = max(g.site) AND min(g.db_version) = max(g.db_version)
       AND min(g.seq - g.slot) = max(g.seq - g.slot) AND count(g.wa) IN (0, ${n}) AND (count(g.wa) = 0 OR min(g.wa) = max(g.wa)) AND count(g.rcv) = 0
       AND min(${storedAsGivenSql(info, 'g.slot', 'g.val')}) = 1)`
    : '0';
  const freshSql = [
    // (site, iseq: the lowest slot's, which for a whole row are every slot's; db_version: for max_version)
    `INSERT INTO ${WR} (${P.join(', ')}, ${WHOLE_COLUMNS.join(', ')}${values}, collected, fresh)
     SELECT ${P.map((p) => `g.${p}`).join(', ')}, min(CASE WHEN g.slot = ${minSlot} THEN g.site END), max(g.db_version),
       min(CASE WHEN g.slot = ${minSlot} THEN g.seq - g.slot END), CASE WHEN ${whole} THEN min(g.wa) END${pivot}, 1, CASE WHEN ${whole} THEN NULL ELSE 1 END
     FROM ${incoming} g
     -- (keys with a change per column first, by cheap aggregates: the pivot and the distinct
     -- count cost about 0.6 µs a staged change, spent in vain on a page of later versions)
     WHERE ${sqlTuple(P.map((p) => `g.${p}`))} IN (SELECT ${P.join(', ')} FROM ${incoming} GROUP BY ${P.join(', ')}
       HAVING count(*) = ${n} AND min(slot) >= 0 AND min(cl) = 1 AND max(cl) = 1)
     GROUP BY ${P.map((p) => `g.${p}`).join(', ')}
     HAVING ${newRow} AND NOT ${known('g')} AND NOT EXISTS (SELECT 1 FROM ${WR} w WHERE ${P.map((p) => `w.${p} = g.${p}`).join(' AND ')})`,
    // their cells' versions, as the general program writes a winner's
    `INSERT OR IGNORE INTO ${versionsTable(info.name)} (${versionColumns(info)})
     SELECT ${P.map((p) => `i.${p}`).join(', ')}, i.slot, 0, 1, i.col_version, i.site, i.val, max(${TX_VERSION}, i.db_version), i.seq,
       ${stagedParentSite('i')}, ${stagedParentCv('i')}, i.wa, NULL, i.rsite, i.rcv, i.rm, NULL, NULL
     FROM ${WR} w CROSS JOIN ${incoming} i ON ${P.map((p) => `i.${p} = w.${p}`).join(' AND ')} WHERE w.fresh = 1`,
    // (the same, for those staged whole: no parent (version 1: none), written time or resolution)
    `INSERT OR IGNORE INTO ${versionsTable(info.name)} (${versionColumns(info)})
     SELECT ${P.map((p) => `w.${p}`).join(', ')}, v.column1, 0, 1, ${cvOf}, ${siteOf}, ${valueBySlot}, max(${TX_VERSION}, ${dvOf}), ${seqOf},
       NULL, CASE WHEN ${cvOf} = 1 THEN 0 END, NULL, NULL, NULL, NULL, NULL, NULL, NULL
     FROM ${WR} w CROSS JOIN ${slots} WHERE w.fresh = 2 AND ${cvOf} IS NOT NULL`,
  ];
  return [
    // rows this replica has: their cells go the general way
    `INSERT OR IGNORE INTO ${incoming} (${P.join(', ')}, slot, val, col_version, db_version, site, cl, seq, psite, pcv, wa, rsite, rcv, rm)
     SELECT ${P.map((p) => `w.${p}`).join(', ')}, v.column1, ${valueBySlot}, 1, w.db_version, w.site, 1, w.iseq + v.column1, NULL, 0, w.wa, NULL, NULL, NULL
     FROM ${WR} w CROSS JOIN ${slots} WHERE w.fresh IS NULL AND ${known('w')}`,
    `INSERT OR IGNORE INTO ${incoming} (${P.join(', ')}, slot, val, col_version, db_version, site, cl, seq, psite, pcv, wa, rsite, rcv, rm)
     SELECT ${P.map((p) => `w.${p}`).join(', ')}, v.column1, ${valueBySlot}, ${cvAt}, ${dvAt}, ${siteAt}, 1, ${seqAt}, NULL, NULL, NULL, NULL, NULL, NULL
     FROM ${WR} w CROSS JOIN ${slots} WHERE w.fresh = 2 AND ${known('w')}`,
    `DELETE FROM ${WR} WHERE ${known(wrName)}`,
    // new rows staged one cell per change join them (what the INSERT INTO crsql_changes trigger
    // staged; applyChanges and the rows run() kept in JS stage new rows whole, as fresh = 2 if fresh)
    freshSql[0],
    `INSERT INTO crr_tx (id, db_version, seq, max_version, changed)
     SELECT 1, value + 1, 0, value + 1, 1 FROM ${CLOCK_ROW} WHERE ${any}
     ON CONFLICT (id) DO UPDATE SET changed = 1`,
    freshSql[1],
    freshSql[2],
    `DELETE FROM ${incoming} WHERE (${P.join(', ')}) IN (SELECT ${P.join(', ')} FROM ${WR} WHERE collected)`,
    `UPDATE crr_tx SET max_version = max(max_version, (SELECT max(db_version) FROM ${WR})) WHERE id = 1 AND ${any}`,
    `SELECT crr_note_merge(${n} * count(*), ${n} * count(*), ${quoteText(info.name)}) FROM ${WR} HAVING count(*) > 0`,
    `INSERT OR IGNORE INTO crr_merging (id) SELECT 1 WHERE ${any}`,
    `INSERT OR IGNORE INTO ${t} (${[...pkCols, ...info.columns.map(quoteId)].join(', ')})
     SELECT ${[...P, ...info.columns.map((_, i) => valueColumn(i))].join(', ')} FROM ${WR}`,
    // (a fresh row's clock implies versions only if staged so (iv): its other cells' are rows)
    `INSERT INTO ${rows} (${pkCols.join(', ')}, cl, s_version, s_seq, s_site, i_cl, i_version, i_seq, i_site, i_written)
     SELECT ${P.join(', ')}, 1, NULL, iseq + ${minSlot}, site, CASE WHEN implies THEN 1 END,
       CASE WHEN implies THEN max(${TX_VERSION}, coalesce(iv, db_version)) END, CASE WHEN implies THEN iseq END, CASE WHEN implies THEN site END,
       CASE WHEN fresh IS NULL THEN wa END
     FROM (SELECT *, fresh IS NULL OR iv IS NOT NULL AS implies FROM ${WR})`,
    `DELETE FROM crr_merging`,
    `DELETE FROM ${WR}`,
  ];
}
