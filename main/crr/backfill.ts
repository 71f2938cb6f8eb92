// Clocks for rows that existed before crsql_as_crr: one implied clock per row stands for version
// 1 of each of its cells at the upgrade's db_version, numbered in primary-key order. Rows that
// already have clocks keep them. Their values are their first versions' values (history).
import type { TableInfo } from './table-info.ts';
import { quoteId } from './table-info.ts';
import { rowsTable } from './clock-tables.ts';
import { rowSeqs } from './local-triggers.ts';
import { CLOCK_ROW } from './clock-sql.ts';

export function backfillSql(info: TableInfo): string {
  const t = quoteId(info.name);
  const pkList = info.pks.map(quoteId).join(', ');
  const K = rowSeqs(info);
  const pkOnly = info.columns.length === 0;
  const count = 'SELECT count(*) FROM temp.crr_backfill_rows';
  const missing = `FROM ${t} b WHERE NOT EXISTS (SELECT 1 FROM ${rowsTable(info.name)} r WHERE ${info.pks
    .map((p) => `r.${quoteId(p)} = b.${quoteId(p)}`)
    .join(' AND ')})`;
  return [
    `CREATE TEMP TABLE IF NOT EXISTS crr_backfill_rows AS SELECT ${pkList}, 0 AS rn ${missing} AND 0;`,
    `DELETE FROM temp.crr_backfill_rows;`,
    `INSERT INTO temp.crr_backfill_rows SELECT ${pkList}, row_number() OVER (ORDER BY ${pkList}) - 1 ${missing};`,
    // reserve K seq numbers per row at once (the marker opens only if there are rows)
    `INSERT INTO crr_tx (id, db_version, seq, max_version, changed)
       SELECT 1, value + 1, ${K} * (${count}), value + 1, 1 FROM ${CLOCK_ROW} WHERE (${count}) > 0
       ON CONFLICT (id) DO UPDATE SET seq = seq + ${K} * (${count}), changed = 1;`,
    `INSERT INTO ${rowsTable(info.name)} (${pkList}, cl, s_version, s_seq, s_site, i_cl, i_version, i_seq, i_site)
       SELECT ${info.pks.map((p) => `k.${quoteId(p)}`).join(', ')}, 1, ${pkOnly ? 'x.db_version, x.seq - (SELECT count(*) FROM temp.crr_backfill_rows) + k.rn, 0, NULL, NULL, NULL, NULL' : `NULL, NULL, NULL, 1, x.db_version, x.seq - ${K} * (SELECT count(*) FROM temp.crr_backfill_rows) + ${K} * k.rn, 0`}
       FROM temp.crr_backfill_rows k CROSS JOIN crr_tx x WHERE x.id = 1;`,
    `DROP TABLE temp.crr_backfill_rows;`,
  ].join('\n');
}
