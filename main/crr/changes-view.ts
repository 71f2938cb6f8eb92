// crsql_changes on the engine's connection: a TEMP view of every cell's CURRENT version (as
// cr-sqlite shows them: no history) over the clock tables, and TEMP INSTEAD OF triggers. The
// INSERT trigger only checks and stages the incoming row (merge.ts merges the statement's
// batch once, when the statement ends: index.ts).
import type { TableInfo } from './table-info.ts';
import { quoteId, quoteText } from './table-info.ts';
import { columnValues, deadTable, nameBySlot, pkMatch, rowsTable, versionsTable } from './clock-tables.ts';
import { mergeTablesSql, stageNewSql } from './merge.ts';
import { validateNewSql } from './input-limits.ts';
import { packPrimaryKeySql } from './pack-pk.ts';
import { hasVersionIn } from './implied.ts';

/** The packed pk of alias `a`'s key columns, in SQL (crr_pack_part for REAL/BLOB values). */
export const packedPk = (info: TableInfo, a: string) => packPrimaryKeySql(info.pks.map((p) => `${a}.${quoteId(p)}`), 'crr_pack_part');

/** The current versions of one table as crsql_changes rows: sentinels, explicit cells, implied cells. */
function currentBranches(info: TableInfo): string[] {
  const name = quoteText(info.name);
  const rows = rowsTable(info.name);
  const V = versionsTable(info.name);
  const join = (a: string, b: string) => info.pks.map((p) => `${a}.${quoteId(p)} = ${b}.${quoteId(p)}`).join(' AND ');
  const D = deadTable(info.name);
  const branches = [
    // the sentinel of a live life (a re-created row, a pk-only table's row) ...
    `SELECT ${name} AS "table", ${packedPk(info, 'r')} AS pk, '-1' AS cid, NULL AS val, r.cl AS col_version, r.s_version AS db_version,
      s.site_id AS site_id, r.cl AS cl, r.s_seq AS seq
    FROM ${rows} r JOIN crr_sites s ON s.ord = r.s_site WHERE r.s_version IS NOT NULL AND r.cl % 2 = 1`,
    // ... and of a deleted one (its record: there is one per deleted row, for its current life)
    `SELECT ${name}, ${packedPk(info, 'd')}, '-1', NULL, d.cl, d.db_version, s.site_id, d.cl, d.seq
    FROM ${D} d JOIN crr_sites s ON s.ord = d.site`,
  ];
  if (info.columns.length) {
    const pkC = info.pks.map((p) => `c.${quoteId(p)}`);
    branches.push(
      // a cell's newest non-lost version in the row's (live) life
      `SELECT ${name}, ${packedPk(info, 'c')}, ${nameBySlot(info, 'c.slot')}, c.val, c.col_version, c.db_version, s.site_id, c.cl, c.seq
    FROM ${V} c JOIN ${rows} r ON ${join('r', 'c')} AND r.cl = c.cl JOIN crr_sites s ON s.ord = c.site
    WHERE c.lost = 0 AND c.col_version = (SELECT max(y.col_version) FROM ${V} y WHERE ${pkMatch(info, 'y', pkC)} AND y.slot = c.slot
      AND y.lost = 0 AND y.cl = c.cl)`,
      // the implied first versions of a live row's cells that have no version row in its life
      `SELECT ${name}, ${packedPk(info, 'r')}, v.column1, ${valueOfColumn(info, 'b')}, 1, r.i_version, s.site_id, r.cl, r.i_seq + v.column2
    FROM ${rows} r CROSS JOIN ${quoteId(info.name)} b CROSS JOIN ${columnValues(info)} v JOIN crr_sites s ON s.ord = r.i_site
    WHERE ${join('b', 'r')} AND r.i_cl = r.cl AND v.column3 <= r.i_version AND NOT ${hasVersionIn(info, 'r', 'v.column2', 'r.cl')}`,
    );
  }
  return branches;
}

/** The base row's value of the column named by the VALUES list's `v.column2` slot. */
function valueOfColumn(info: TableInfo, b: string): string {
  return `CASE v.column2 ${info.columns.map((c, i) => `WHEN ${info.slots[i]} THEN ${b}.${quoteId(c)}`).join(' ')} END`;
}

/**
 * TEMP objects for the current set of CRR tables; safe to run again after any change. The
 * INSERT trigger stages; the engine merges a statement's staged rows when it ends.
 */
export function changesViewSql(tables: TableInfo[]): string {
  const out: string[] = [
    'DROP VIEW IF EXISTS temp.crsql_changes;',
    `CREATE TEMP VIEW crsql_changes AS ${
      tables.length
        ? tables.flatMap(currentBranches).join('\nUNION ALL\n')
        : `SELECT NULL AS "table", NULL AS pk, NULL AS cid, NULL AS val, NULL AS col_version, NULL AS db_version,
             NULL AS site_id, NULL AS cl, NULL AS seq WHERE 0`
    };`,
  ];
  for (const info of tables) out.push(mergeTablesSql(info));
  out.push(stagingTriggerSql(tables));
  out.push(`CREATE TEMP TRIGGER crsql_changes_update INSTEAD OF UPDATE ON crsql_changes
BEGIN SELECT RAISE(ABORT, 'crsql_changes only supports INSERT and SELECT: UPDATE is not allowed'); END;`);
  out.push(`CREATE TEMP TRIGGER crsql_changes_delete INSTEAD OF DELETE ON crsql_changes
BEGIN SELECT RAISE(ABORT, 'crsql_changes only supports INSERT and SELECT: DELETE is not allowed'); END;`);
  return out.join('\n');
}

function stagingTriggerSql(tables: TableInfo[]): string {
  const names = tables.map((t) => quoteText(t.name)).join(', ');
  return `CREATE TEMP TRIGGER crsql_changes_insert INSTEAD OF INSERT ON crsql_changes
BEGIN
  SELECT RAISE(ABORT, 'crsql_changes: no CRR table by that name (could not find the schema information for it)')
    WHERE NEW."table" NOT IN (${names || 'NULL'});
  ${validateNewSql()}
  ${tables.map(stageNewSql).join('\n  ')}
  SELECT crr_staged(NEW."table");
END;`;
}

/**
 * Inside db.exec of several statements the engine sees no statement end: for its duration a
 * second trigger merges each staged row at once (`mergeNow`: the tables' merge programs). It
 * exists only then: the mere presence of a second INSTEAD OF trigger with a program this size
 * cost every INSERT INTO crsql_changes 3 µs (7.8 µs with it, 4.9 without), the same with a WHEN
 * that is always false (SQLite enters the trigger's program for every row). SQLite fires the newest
 * trigger first, so the staging trigger is created again after it.
 */
export function mergeNowSql(tables: TableInfo[], mergeNow: string[]): string | null {
  if (!mergeNow.length) return null;
  return `DROP TRIGGER IF EXISTS temp.crsql_changes_merge_now;
CREATE TEMP TRIGGER crsql_changes_merge_now INSTEAD OF INSERT ON crsql_changes
BEGIN
  ${mergeNow.map((sql) => `${sql};`).join('\n  ')}
END;
DROP TRIGGER IF EXISTS temp.crsql_changes_insert;
${stagingTriggerSql(tables)}`;
}
export const MERGE_NOW_END = 'DROP TRIGGER IF EXISTS temp.crsql_changes_merge_now;';
