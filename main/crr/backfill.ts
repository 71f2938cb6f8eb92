// Clocks for rows that existed before crsql_as_crr: every cell gets version 1 at the upgrade's
// db_version, numbered in primary-key order. Rows that already have clocks keep them.
import type { TableInfo } from './table-info.ts';
import { quoteId } from './table-info.ts';
import { rowsTable } from './clock-tables.ts';
import { insertHistorySql, NOW_MS, valueByCid } from './history-sql.ts';

/** `history`: the existing values also become the first version of their cells in the history. */
export function backfillSql(info: TableInfo, history = true): string {
  const t = quoteId(info.name);
  const pkList = info.pks.map(quoteId).join(', ');
  const n = info.columns.length;
  const numbered = `(SELECT ${pkList}, row_number() OVER (ORDER BY ${pkList}) - 1 AS rn FROM ${t} b
     WHERE NOT EXISTS (SELECT 1 FROM ${rowsTable(info.name)} r WHERE ${info.pks.map((p) => `r.${quoteId(p)} = b.${quoteId(p)}`).join(' AND ')}))`;
  const V = `(SELECT db_version FROM crr_tx WHERE id = 1)`;
  const S = `(SELECT seq FROM crr_tx WHERE id = 1)`;
  const parts = [
    `INSERT OR IGNORE INTO crr_tx (id, db_version, seq, max_version)
       SELECT 1, value + 1, 0, value + 1 FROM crr_state WHERE key = 'db_version' AND EXISTS (SELECT 1 FROM ${numbered});`,
    `CREATE TEMP TABLE IF NOT EXISTS crr_backfill_rows AS SELECT * FROM ${numbered} WHERE 0;`,
    `DELETE FROM temp.crr_backfill_rows;`,
    `INSERT INTO temp.crr_backfill_rows SELECT * FROM ${numbered};`,
    // one implied clock per row stands for version 1 of each of its cells
    `INSERT INTO ${rowsTable(info.name)} (${pkList}, cl, s_version, s_seq, s_site, i_cl, i_version, i_seq, i_site)
       SELECT ${pkList}, 1, ${n === 0 ? `${V}, ${S} + rn, 0` : 'NULL, NULL, NULL'}, 1, ${V}, ${S} + rn * ${Math.max(n, 1)}, 0
       FROM temp.crr_backfill_rows;`,
    ...(history && n > 0
      ? [
          `${insertHistorySql(info)}
       SELECT ${info.pks.map((p) => `b.${quoteId(p)}`).join(', ')}, v.column1, 1, 1, 0, ${valueByCid(info, 'b', 'v.column1')}, NULL, 0, ${NOW_MS}, ${NOW_MS}
       FROM temp.crr_backfill_rows k JOIN ${t} b ON ${info.pks.map((p) => `b.${quoteId(p)} = k.${quoteId(p)}`).join(' AND ')}
       CROSS JOIN (VALUES ${info.columns.map((c) => `('${c.replace(/'/g, "''")}')`).join(', ')}) v;`,
        ]
      : []),
    `UPDATE crr_tx SET seq = seq + (SELECT count(*) FROM temp.crr_backfill_rows) * ${Math.max(n, 1)} WHERE id = 1;`,
    `DROP TABLE temp.crr_backfill_rows;`,
  ];
  return parts.join('\n');
}
