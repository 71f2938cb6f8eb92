// Triggers that track local writes. They live in the file and fire for every program that
// writes it (sqlite3 CLI, DB Browser, another connection), so they are pure SQL: no app
// function, no "no such function" errors for other programs. They record clocks only;
// pk packing and site ids are derived when changes are read.
//
// A fresh insert writes ONE clock row: the row's "implied" clock (i_cl, i_version, i_seq) stands
// for version 1 of every cell of that life that has no explicit clock in t__crr_cells. Cells get
// explicit clocks only when they diverge (an update, a merge, a REPLACE).
import type Database from 'better-sqlite3';
import type { TableInfo } from './table-info.ts';
import { quoteId, quoteText } from './table-info.ts';
import { cellsTable, rowsTable, pkMatch } from './clock-tables.ts';
import { insertHistorySqls, movedHistorySql, updateHistorySql } from './history-sql.ts';

const NOT_MERGING = `NOT EXISTS (SELECT 1 FROM crr_merging)`;
/** Opens the transaction's marker row on the first tracked write; later writes reuse it. */
const OPEN_TX = `INSERT OR IGNORE INTO crr_tx (id, db_version, seq, max_version)
    SELECT 1, value + 1, 0, value + 1 FROM crr_state WHERE key = 'db_version';`;
const V = `(SELECT db_version FROM crr_tx WHERE id = 1)`;
const S = `(SELECT seq FROM crr_tx WHERE id = 1)`;

export const triggerName = (table: string, what: string) => quoteId(`${table}__crr_${what}`);

/** `history`: also record every new cell version in the table's history (history-sql.ts). */
export function localTriggersSql(info: TableInfo, history = true): string {
  const t = quoteId(info.name);
  const rows = rowsTable(info.name);
  const cells = cellsTable(info.name);
  const pkList = info.pks.map(quoteId).join(', ');
  const newPk = info.pks.map((p) => `NEW.${quoteId(p)}`);
  const oldPk = info.pks.map((p) => `OLD.${quoteId(p)}`);
  const n = info.columns.length;
  const pkOnly = n === 0;
  const sql: string[] = [];
  const columnSlots = info.columns.map((c, i) => `(${quoteText(c)}, ${i})`).join(', ');
  /** the version a cell's next local write gets, from its explicit clock (c) or the row's implied one (r) */
  const nextVersion = `CASE WHEN c.cl = r.cl THEN c.col_version + 1 WHEN r.i_cl = r.cl THEN 2 ELSE 1 END`;
  const hist = history ? insertHistorySqls(info, newPk, columnSlots) : { before: '', after: '' };
  const upsertCell = `ON CONFLICT DO UPDATE SET col_version = excluded.col_version, db_version = excluded.db_version,
      seq = excluded.seq, site = 0, cl = excluded.cl`;

  // INSERT: a fresh row (cl 1, implied cell clocks), a re-insert of a deleted row (cl + 1,
  // sentinel shown, implied cell clocks), or the insert half of INSERT OR REPLACE over a live
  // row (the row's clock is still alive when this trigger starts: every cell gets version + 1).
  // Seq numbers follow cr-sqlite exactly (merged changes keep them, so they decide order on
  // other replicas): a re-insert's sentinel takes S and its cells S + 1 on; otherwise cells from S.
  const alive = `EXISTS (SELECT 1 FROM ${rows} r WHERE ${pkMatch(info, 'r', newPk)} AND r.cl % 2 = 1)`;
  const thisRow = `FROM ${rows} r WHERE ${pkMatch(info, 'r', newPk)}`;
  const wasDeleted = `cl % 2 = 0`;
  sql.push(`CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, 'insert')} AFTER INSERT ON ${t}
  WHEN ${NOT_MERGING}
BEGIN
  ${OPEN_TX}
  ${
    pkOnly
      ? ''
      : `${hist.before}
  INSERT INTO ${cells} (${pkList}, cid, col_version, db_version, seq, site, cl)
    SELECT ${newPk.join(', ')}, v.column1, ${nextVersion}, ${V}, ${S} + v.column2, 0, r.cl
    FROM ${rows} r CROSS JOIN (VALUES ${columnSlots}) v
      LEFT JOIN ${cells} c ON ${pkMatch(info, 'c', newPk)} AND c.cid = v.column1
    WHERE ${pkMatch(info, 'r', newPk)} AND r.cl % 2 = 1
    ${upsertCell};
  UPDATE crr_tx SET seq = seq + ${n} WHERE id = 1 AND ${alive};`
  }
  INSERT INTO ${rows} (${pkList}, cl, s_version, s_seq, s_site, i_cl, i_version, i_seq, i_site)
    VALUES (${newPk.join(', ')}, 1, ${pkOnly ? `${V}, ${S}, 0` : 'NULL, NULL, NULL'}, 1, ${V}, ${S}, 0)
    ON CONFLICT DO UPDATE SET
      s_version = CASE WHEN ${wasDeleted} THEN ${V} ELSE s_version END,
      s_seq = CASE WHEN ${wasDeleted} THEN ${S} ELSE s_seq END,
      s_site = CASE WHEN ${wasDeleted} THEN 0 ELSE s_site END,
      i_cl = CASE WHEN ${wasDeleted} THEN cl + 1 ELSE i_cl END,
      i_version = CASE WHEN ${wasDeleted} THEN ${V} ELSE i_version END,
      i_seq = CASE WHEN ${wasDeleted} THEN ${S} + 1 ELSE i_seq END,
      i_site = CASE WHEN ${wasDeleted} THEN 0 ELSE i_site END,
      cl = CASE WHEN ${wasDeleted} THEN cl + 1 ELSE cl END;
  ${hist.after}
  UPDATE crr_tx SET seq = seq + (SELECT CASE
      WHEN r.s_version = ${V} AND r.s_seq = ${S} THEN ${pkOnly ? 1 : n + 1}
      WHEN r.i_cl = r.cl AND r.i_version = ${V} AND r.i_seq = ${S} THEN ${n}
      ELSE 0 END ${thisRow}) WHERE id = 1;
END;`);

  // DELETE: cl + 1 with the sentinel shown. The row's cell clocks (explicit and implied) keep
  // the life they were written in, which no longer matches, so they stop counting.
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
  ${cellWriteSqls(info, c, newPk, `NEW.${col}`, history).join(';\n  ')};
END;`);
  });

  // UPDATE of the primary key: the old key is deleted (sentinel, cl + 1), the new key created
  // (sentinel), and the cells move to the new key with THIS transaction's db_version, so a
  // peer pulling "since my last version" gets the new row whole (cr-sqlite 0.16.3 keeps their
  // old db_version and diverges). A cell whose value also changed gets version + 1. Implied
  // clocks are made explicit first, so the move handles one kind of clock.
  const pkChanged = info.pks.map((p) => `OLD.${quoteId(p)} IS NOT NEW.${quoteId(p)}`).join(' OR ');
  const bump = info.columns.length
    ? `CASE cid ${info.columns.map((c) => `WHEN ${quoteText(c)} THEN (OLD.${quoteId(c)} IS NOT NEW.${quoteId(c)})`).join(' ')} ELSE 0 END`
    : '0';
  const slot = info.columns.length
    ? `CASE cid ${info.columns.map((c, i) => `WHEN ${quoteText(c)} THEN ${i}`).join(' ')} ELSE 0 END`
    : '0';
  const rowCl = (pk: string[]) => `(SELECT cl FROM ${rows} r WHERE ${pkMatch(info, 'r', pk)})`;
  sql.push(`CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, 'update_pk')} AFTER UPDATE OF ${pkList} ON ${t}
  WHEN ${NOT_MERGING} AND (${pkChanged})
BEGIN
  ${OPEN_TX}
  ${
    pkOnly
      ? ''
      : `INSERT INTO ${cells} (${pkList}, cid, col_version, db_version, seq, site, cl)
    SELECT ${oldPk.join(', ')}, v.column1, 1, r.i_version, r.i_seq + v.column2, r.i_site, r.cl
    FROM ${rows} r CROSS JOIN (VALUES ${columnSlots}) v
    WHERE ${pkMatch(info, 'r', oldPk)} AND r.i_cl = r.cl
    ON CONFLICT DO UPDATE SET col_version = excluded.col_version, db_version = excluded.db_version,
      seq = excluded.seq, site = excluded.site, cl = excluded.cl WHERE cl <> excluded.cl;`
  }
  INSERT INTO ${rows} (${pkList}, cl, s_version, s_seq, s_site) VALUES (${oldPk.join(', ')}, 2, ${V}, ${S}, 0)
    ON CONFLICT DO UPDATE SET cl = cl + (cl % 2), s_version = excluded.s_version, s_seq = excluded.s_seq, s_site = 0;
  INSERT INTO ${rows} (${pkList}, cl, s_version, s_seq, s_site) VALUES (${newPk.join(', ')}, 1, ${V}, ${S} + 1, 0)
    ON CONFLICT DO UPDATE SET cl = cl + 1 - (cl % 2), s_version = excluded.s_version, s_seq = excluded.s_seq, s_site = 0;
  DELETE FROM ${cells} WHERE ${pkMatch(info, cells, newPk)};
  UPDATE ${cells} SET ${info.pks.map((p) => `${quoteId(p)} = NEW.${quoteId(p)}`).join(', ')},
    col_version = col_version + ${bump}, db_version = ${V}, seq = ${S} + 2 + ${slot}, site = 0, cl = ${rowCl(newPk)}
    WHERE ${pkMatch(info, cells, oldPk)} AND cl = ${rowCl(oldPk)} - 1;
  ${history ? movedHistorySql(info, newPk) : ''}
  UPDATE crr_tx SET seq = seq + ${n + 2} WHERE id = 1;
END;`);
  return sql.join('\n');
}

/**
 * A local write of one cell: its version + 1 (and its history). The body of the column's UPDATE
 * trigger; run with parameters, it also records a write that keeps the same value ("Keep").
 */
export function cellWriteSqls(info: TableInfo, c: string, pk: string[], val: string, history: boolean): string[] {
  const rows = rowsTable(info.name);
  const cells = cellsTable(info.name);
  const nextVersion = `CASE WHEN c.cl = r.cl THEN c.col_version + 1 WHEN r.i_cl = r.cl THEN 2 ELSE 1 END`;
  return [
    OPEN_TX.replace(/;$/, ''),
    ...(history ? [updateHistorySql(info, c, pk, val).replace(/;$/, '')] : []),
    `INSERT INTO ${cells} (${info.pks.map(quoteId).join(', ')}, cid, col_version, db_version, seq, site, cl)
    SELECT ${pk.join(', ')}, ${quoteText(c)}, ${nextVersion}, ${V}, ${S}, 0, r.cl
    FROM ${rows} r LEFT JOIN ${cells} c ON ${pkMatch(info, 'c', pk)} AND c.cid = ${quoteText(c)}
    WHERE ${pkMatch(info, 'r', pk)}
    ON CONFLICT DO UPDATE SET col_version = excluded.col_version, db_version = excluded.db_version,
      seq = excluded.seq, site = 0, cl = excluded.cl`,
    `UPDATE crr_tx SET seq = seq + 1 WHERE id = 1`,
  ];
}

export function dropLocalTriggersSql(db: Pick<Database.Database, 'prepare'>, table: string): string {
  const names = db
    .prepare(`SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ? AND name LIKE ? ESCAPE '\\'`)
    .all(table, `${table.replace(/[\\%_]/g, (m) => '\\' + m)}\\_\\_crr\\_%`) as { name: string }[];
  return names.map((r) => `DROP TRIGGER IF EXISTS ${quoteId(r.name)};`).join('\n');
}
