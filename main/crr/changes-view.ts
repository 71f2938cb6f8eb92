// crsql_changes on the engine's connection: a TEMP view over the clock tables (it may call the
// engine's pure JS functions because only this connection sees it) and a TEMP INSTEAD OF INSERT
// trigger that stages the incoming change and runs the merge program (merge.ts).
import type { TableInfo } from './table-info.ts';
import { quoteId, quoteText } from './table-info.ts';
import { cellsTable, rowsTable } from './clock-tables.ts';
import { mergeProgram, mergeTablesSql, stageNewSql } from './merge.ts';
import { validateNewSql } from './input-limits.ts';


/**
 * One branch of crsql_changes: the sentinel clocks, the explicit cell clocks, or the implied
 * cell clocks of local inserts. `version` and `keys` name the columns of the clock index that
 * orders the branch (db_version, then the clock's primary key), for keyset paging (change-pages.ts).
 */
export interface ChangeArm {
  select: string;
  /** joins after the clock table (`clock.table clock.alias`) */
  joins: string;
  where: string;
  version: string;
  site: string;
  keys: string[];
  /** the table scanned in `version, keys` order, aliased as in `from` */
  clock: { table: string; alias: string; where: string };
}

export function changeArms(info: TableInfo): ChangeArm[] {
  const t = quoteId(info.name);
  const pkArgs = (alias: string) => info.pks.map((p) => `${alias}.${quoteId(p)}`).join(', ');
  const pkCols = (alias: string) => info.pks.map((p) => `${alias}.${quoteId(p)}`);
  const join = (a: string, b: string) => info.pks.map((p) => `${a}.${quoteId(p)} = ${b}.${quoteId(p)}`).join(' AND ');
  const val = info.columns.length
    ? `CASE c.cid ${info.columns.map((col) => `WHEN ${quoteText(col)} THEN b.${quoteId(col)}`).join(' ')} END`
    : 'NULL';
  const name = quoteText(info.name);
  // sentinels first: a resurrection and its cells can share db_version and seq
  const arms: ChangeArm[] = [
    {
      select: `${name} AS "table", crr_pack_pk(${pkArgs('r')}) AS pk, '-1' AS cid, NULL AS val,
    r.cl AS col_version, r.s_version AS db_version, s.site_id AS site_id, r.cl AS cl, r.s_seq AS seq`,
      joins: 'JOIN crr_sites s ON s.ord = r.s_site',
      where: 'r.s_version IS NOT NULL',
      version: 'r.s_version',
      site: 'r.s_site',
      keys: pkCols('r'),
      clock: { table: rowsTable(info.name), alias: 'r', where: 'r.s_version IS NOT NULL' },
    },
    {
      select: `${name} AS "table", crr_pack_pk(${pkArgs('c')}) AS pk, c.cid AS cid, ${val} AS val, c.col_version AS col_version,
    c.db_version AS db_version, s.site_id AS site_id, r.cl AS cl, c.seq AS seq`,
      joins: `JOIN ${rowsTable(info.name)} r ON ${join('r', 'c')} AND r.cl = c.cl
    LEFT JOIN ${t} b ON ${join('b', 'c')} JOIN crr_sites s ON s.ord = c.site`,
      where: '1',
      version: 'c.db_version',
      site: 'c.site',
      keys: [...pkCols('c'), 'c.cid'],
      clock: { table: cellsTable(info.name), alias: 'c', where: '1' },
    },
  ];
  if (info.columns.length) {
    arms.push({
      select: `${name} AS "table", crr_pack_pk(${pkArgs('r')}) AS pk, v.column1 AS cid, ${val.replace('c.cid', 'v.column1')} AS val,
    1 AS col_version, r.i_version AS db_version, s.site_id AS site_id, r.cl AS cl, r.i_seq + v.column2 AS seq`,
      joins: `CROSS JOIN (VALUES ${info.columns.map((c, i) => `(${quoteText(c)}, ${i})`).join(', ')}) v
    LEFT JOIN ${t} b ON ${join('b', 'r')} JOIN crr_sites s ON s.ord = r.i_site`,
      where: `r.i_cl = r.cl AND r.i_version IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${cellsTable(info.name)} c
    WHERE ${join('c', 'r')} AND c.cid = v.column1 AND c.cl = r.cl)`,
      version: 'r.i_version',
      site: 'r.i_site',
      keys: pkCols('r'),
      clock: { table: rowsTable(info.name), alias: 'r', where: 'r.i_cl = r.cl AND r.i_version IS NOT NULL' },
    });
  }
  return arms;
}

function viewBranches(info: TableInfo): string {
  return changeArms(info)
    .map((a) => `SELECT ${a.select}\n  FROM ${a.clock.table} ${a.clock.alias} ${a.joins} WHERE ${a.where}`)
    .join('\nUNION ALL\n');
}

/** TEMP objects for the current set of CRR tables; safe to run again after any change. */
export function changesViewSql(tables: TableInfo[], history = true): string {
  const out: string[] = [
    'DROP VIEW IF EXISTS temp.crsql_changes;',
    `CREATE TEMP VIEW crsql_changes AS ${
      tables.length
        ? tables.map(viewBranches).join('\nUNION ALL\n')
        : `SELECT NULL AS "table", NULL AS pk, NULL AS cid, NULL AS val, NULL AS col_version, NULL AS db_version,
             NULL AS site_id, NULL AS cl, NULL AS seq WHERE 0`
    };`,
  ];
  for (const info of tables) out.push(mergeTablesSql(info));
  const names = tables.map((t) => quoteText(t.name)).join(', ');
  out.push(`CREATE TEMP TRIGGER crsql_changes_insert INSTEAD OF INSERT ON crsql_changes
BEGIN
  SELECT RAISE(ABORT, 'crsql_changes: no CRR table by that name (could not find the schema information for it)')
    WHERE NEW."table" NOT IN (${names});
  ${validateNewSql()}
  ${[...tables.map(stageNewSql), ...tables.flatMap((t) => mergeProgram(t, history)).map((sql) => `${sql};`)].join('\n  ')}
END;`);
  out.push(`CREATE TEMP TRIGGER crsql_changes_update INSTEAD OF UPDATE ON crsql_changes
BEGIN SELECT RAISE(ABORT, 'crsql_changes only supports INSERT and SELECT: UPDATE is not allowed'); END;`);
  out.push(`CREATE TEMP TRIGGER crsql_changes_delete INSTEAD OF DELETE ON crsql_changes
BEGIN SELECT RAISE(ABORT, 'crsql_changes only supports INSERT and SELECT: DELETE is not allowed'); END;`);
  return out.join('\n');
}
