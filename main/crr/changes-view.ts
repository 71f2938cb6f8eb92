// crsql_changes on the engine's connection: a TEMP view over the clock tables (it may call the
// engine's pure JS functions because only this connection sees it) and a TEMP INSTEAD OF INSERT
// trigger that stages the incoming change and runs the merge program (merge.ts).
import type { TableInfo } from './table-info.ts';
import { quoteId, quoteText } from './table-info.ts';
import { cellsTable, rowsTable } from './clock-tables.ts';
import { mergeProgram, mergeTablesSql, stageNewSql } from './merge.ts';


function viewBranches(info: TableInfo): string {
  const t = quoteId(info.name);
  const pkArgs = (alias: string) => info.pks.map((p) => `${alias}.${quoteId(p)}`).join(', ');
  const join = (a: string, b: string) => info.pks.map((p) => `${a}.${quoteId(p)} = ${b}.${quoteId(p)}`).join(' AND ');
  const val = info.columns.length
    ? `CASE c.cid ${info.columns.map((col) => `WHEN ${quoteText(col)} THEN b.${quoteId(col)}`).join(' ')} END`
    : 'NULL';
  // sentinels first: a resurrection and its cells can share db_version and seq
  return `SELECT ${quoteText(info.name)} AS "table", crr_pack_pk(${pkArgs('r')}) AS pk, '-1' AS cid, NULL AS val,
    r.cl AS col_version, r.s_version AS db_version, s.site_id AS site_id, r.cl AS cl, r.s_seq AS seq
  FROM ${rowsTable(info.name)} r JOIN crr_sites s ON s.ord = r.s_site WHERE r.s_version IS NOT NULL
UNION ALL
SELECT ${quoteText(info.name)}, crr_pack_pk(${pkArgs('c')}), c.cid, ${val}, c.col_version, c.db_version, s.site_id, r.cl, c.seq
  FROM ${cellsTable(info.name)} c JOIN ${rowsTable(info.name)} r ON ${join('r', 'c')} AND r.cl = c.cl
    LEFT JOIN ${t} b ON ${join('b', 'c')} JOIN crr_sites s ON s.ord = c.site${
    info.columns.length
      ? `
UNION ALL
SELECT ${quoteText(info.name)}, crr_pack_pk(${pkArgs('r')}), v.column1, ${val.replace('c.cid', 'v.column1')}, 1, r.i_version, s.site_id, r.cl,
    r.i_seq + v.column2
  FROM ${rowsTable(info.name)} r CROSS JOIN (VALUES ${info.columns.map((c, i) => `(${quoteText(c)}, ${i})`).join(', ')}) v
    LEFT JOIN ${t} b ON ${join('b', 'r')} JOIN crr_sites s ON s.ord = r.i_site
  WHERE r.i_cl = r.cl AND r.i_version IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${cellsTable(info.name)} c
    WHERE ${join('c', 'r')} AND c.cid = v.column1 AND c.cl = r.cl)`
      : ''
  }`;
}

/** TEMP objects for the current set of CRR tables; safe to run again after any change. */
export function changesViewSql(tables: TableInfo[]): string {
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
  ${[...tables.map(stageNewSql), ...tables.flatMap(mergeProgram).map((sql) => `${sql};`)].join('\n  ')}
END;`);
  out.push(`CREATE TEMP TRIGGER crsql_changes_update INSTEAD OF UPDATE ON crsql_changes
BEGIN SELECT RAISE(ABORT, 'crsql_changes only supports INSERT and SELECT: UPDATE is not allowed'); END;`);
  out.push(`CREATE TEMP TRIGGER crsql_changes_delete INSTEAD OF DELETE ON crsql_changes
BEGIN SELECT RAISE(ABORT, 'crsql_changes only supports INSERT and SELECT: DELETE is not allowed'); END;`);
  return out.join('\n');
}
