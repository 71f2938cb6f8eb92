// Triggers that track local writes. They live in the file and fire for every program that
// writes it (sqlite3 CLI, DB Browser, another connection), so they are pure SQL: no app
// function, no "no such function" errors for other programs. They record clocks only;
// pk packing and site ids are derived when changes are read.
import type Database from 'better-sqlite3';
import type { TableInfo } from './table-info.ts';
import { quoteId, quoteText } from './table-info.ts';
import { cellsTable, rowsTable, pkMatch } from './clock-tables.ts';

const NOT_MERGING = `NOT EXISTS (SELECT 1 FROM crr_merging)`;
/** Opens the transaction's marker row on the first tracked write; later writes reuse it. */
const OPEN_TX = `INSERT OR IGNORE INTO crr_tx (id, db_version, seq, max_version)
    SELECT 1, value + 1, 0, value + 1 FROM crr_state WHERE key = 'db_version';`;
const V = `(SELECT db_version FROM crr_tx WHERE id = 1)`;
const S = `(SELECT seq FROM crr_tx WHERE id = 1)`;

export const triggerName = (table: string, what: string) => quoteId(`${table}__crr_${what}`);

export function localTriggersSql(info: TableInfo): string {
  const t = quoteId(info.name);
  const rows = rowsTable(info.name);
  const cells = cellsTable(info.name);
  const pkList = info.pks.map(quoteId).join(', ');
  const newPk = info.pks.map((p) => `NEW.${quoteId(p)}`);
  const oldPk = info.pks.map((p) => `OLD.${quoteId(p)}`);
  const n = info.columns.length;
  const pkOnly = n === 0;
  const sql: string[] = [];
  /** the row's current causal length */
  const rowCl = (pk: string[]) => `(SELECT cl FROM ${rows} r WHERE ${pkMatch(info, 'r', pk)})`;
  /** a cell written again in the same life gets version + 1; in a new life it starts at 1 */
  const bumpInLife = `col_version = CASE WHEN cl = excluded.cl THEN col_version + 1 ELSE 1 END`;

  // INSERT: a new row (cl 1), a re-insert of a deleted row (cl + 1, sentinel shown), or the insert
  // half of INSERT OR REPLACE over a live row (cl kept, every cell bumped). Seq numbers follow
  // cr-sqlite exactly (merged changes keep them, so they decide order on other replicas): the
  // sentinel, when this insert shows one, takes S, then one per column.
  const sentinelShown = `(SELECT count(*) FROM ${rows} r WHERE ${pkMatch(info, 'r', newPk)} AND r.s_version = ${V} AND r.s_seq = ${S})`;
  // one derived row holds the transaction's version and the first seq, read once per insert
  const columnSlots = info.columns.map((c, i) => `(${quoteText(c)}, ${i})`).join(', ');
  const cellRows = `SELECT ${newPk.join(', ')}, v.column1, 1, x.v, x.s + v.column2, 0, x.cl
      FROM (SELECT db_version AS v, seq + ${sentinelShown} AS s, ${rowCl(newPk)} AS cl FROM crr_tx WHERE id = 1) x,
        (VALUES ${columnSlots}) v WHERE true`;
  sql.push(`CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, 'insert')} AFTER INSERT ON ${t}
  WHEN ${NOT_MERGING}
BEGIN
  ${OPEN_TX}
  INSERT INTO ${rows} (${pkList}, cl, s_version, s_seq, s_site)
    VALUES (${newPk.join(', ')}, 1, ${pkOnly ? `${V}, ${S}, 0` : 'NULL, NULL, NULL'})
    ON CONFLICT DO UPDATE SET
      s_version = CASE WHEN cl % 2 = 0 THEN ${V} ELSE s_version END,
      s_seq = CASE WHEN cl % 2 = 0 THEN ${S} ELSE s_seq END,
      s_site = CASE WHEN cl % 2 = 0 THEN 0 ELSE s_site END,
      cl = CASE WHEN cl % 2 = 0 THEN cl + 1 ELSE cl END;
  ${
    pkOnly
      ? ''
      : `INSERT INTO ${cells} (${pkList}, cid, col_version, db_version, seq, site, cl)
      ${cellRows}
    ON CONFLICT DO UPDATE SET ${bumpInLife}, db_version = excluded.db_version,
      seq = excluded.seq, site = 0, cl = excluded.cl;`
  }
  UPDATE crr_tx SET seq = seq + ${n} + ${sentinelShown} WHERE id = 1;
END;`);

  // DELETE: cl + 1 with the sentinel shown. The row's cell clocks end with its life: they keep
  // the cl they were written in, which no longer matches, so they stop counting.
  sql.push(`CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, 'delete')} AFTER DELETE ON ${t}
  WHEN ${NOT_MERGING}
BEGIN
  ${OPEN_TX}
  INSERT INTO ${rows} (${pkList}, cl, s_version, s_seq, s_site) VALUES (${oldPk.join(', ')}, 2, ${V}, ${S}, 0)
    ON CONFLICT DO UPDATE SET cl = cl + (cl % 2), s_version = excluded.s_version, s_seq = excluded.s_seq, s_site = 0;
  UPDATE crr_tx SET seq = seq + 1 WHERE id = 1;
END;`);

  // UPDATE of one non-pk column to a different value: that cell's version + 1. Same-value
  // updates do not fire. Primary-key changes are handled by the trigger below. SQLite fires
  // the newest trigger first, so they are created last column first to record in column order.
  const pkSame = info.pks.map((p) => `OLD.${quoteId(p)} IS NEW.${quoteId(p)}`).join(' AND ');
  [...info.columns.entries()].reverse().forEach(([i, c]) => {
    const col = quoteId(c);
    sql.push(`CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, `update_${i}`)} AFTER UPDATE OF ${col} ON ${t}
  WHEN ${NOT_MERGING} AND OLD.${col} IS NOT NEW.${col} AND ${pkSame}
BEGIN
  ${OPEN_TX}
  INSERT INTO ${cells} (${pkList}, cid, col_version, db_version, seq, site, cl)
    VALUES (${newPk.join(', ')}, ${quoteText(c)}, 1, ${V}, ${S}, 0, ${rowCl(newPk)})
    ON CONFLICT DO UPDATE SET ${bumpInLife}, db_version = excluded.db_version,
      seq = excluded.seq, site = 0, cl = excluded.cl;
  UPDATE crr_tx SET seq = seq + 1 WHERE id = 1;
END;`);
  });

  // UPDATE of the primary key: the old key is deleted (sentinel, cl + 1), the new key created
  // (sentinel), and the cells move to the new key with THIS transaction's db_version, so a
  // peer pulling "since my last version" gets the new row whole (cr-sqlite 0.16.3 keeps their
  // old db_version and diverges). A cell whose value also changed gets version + 1.
  const pkChanged = info.pks.map((p) => `OLD.${quoteId(p)} IS NOT NEW.${quoteId(p)}`).join(' OR ');
  const bump = info.columns.length
    ? `CASE cid ${info.columns.map((c) => `WHEN ${quoteText(c)} THEN (OLD.${quoteId(c)} IS NOT NEW.${quoteId(c)})`).join(' ')} ELSE 0 END`
    : '0';
  const slot = info.columns.length
    ? `CASE cid ${info.columns.map((c, i) => `WHEN ${quoteText(c)} THEN ${i}`).join(' ')} ELSE 0 END`
    : '0';
  sql.push(`CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, 'update_pk')} AFTER UPDATE OF ${pkList} ON ${t}
  WHEN ${NOT_MERGING} AND (${pkChanged})
BEGIN
  ${OPEN_TX}
  INSERT INTO ${rows} (${pkList}, cl, s_version, s_seq, s_site) VALUES (${oldPk.join(', ')}, 2, ${V}, ${S}, 0)
    ON CONFLICT DO UPDATE SET cl = cl + (cl % 2), s_version = excluded.s_version, s_seq = excluded.s_seq, s_site = 0;
  INSERT INTO ${rows} (${pkList}, cl, s_version, s_seq, s_site) VALUES (${newPk.join(', ')}, 1, ${V}, ${S} + 1, 0)
    ON CONFLICT DO UPDATE SET cl = cl + 1 - (cl % 2), s_version = excluded.s_version, s_seq = excluded.s_seq, s_site = 0;
  DELETE FROM ${cells} WHERE ${pkMatch(info, cells, newPk)};
  UPDATE ${cells} SET ${info.pks.map((p) => `${quoteId(p)} = NEW.${quoteId(p)}`).join(', ')},
    col_version = col_version + ${bump}, db_version = ${V}, seq = ${S} + 2 + ${slot}, site = 0, cl = ${rowCl(newPk)}
    WHERE ${pkMatch(info, cells, oldPk)} AND cl = ${rowCl(oldPk)} - 1;
  UPDATE crr_tx SET seq = seq + ${n + 2} WHERE id = 1;
END;`);
  return sql.join('\n');
}

export function dropLocalTriggersSql(db: Pick<Database.Database, 'prepare'>, table: string): string {
  const names = db
    .prepare(`SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ? AND name LIKE ? ESCAPE '\\'`)
    .all(table, `${table.replace(/[\\%_]/g, (m) => '\\' + m)}\\_\\_crr\\_%`) as { name: string }[];
  return names.map((r) => `DROP TRIGGER IF EXISTS ${quoteId(r.name)};`).join('\n');
}
