// Triggers that track local writes. They live in the file and fire for every program that
// writes it (sqlite3 CLI, DB Browser, another connection), so they are pure SQL: no app
// function, no "no such function" errors for other programs. pk packing and site ids are
// derived when changes are read.
//
// Each write advances the transaction's marker, reserving its seq numbers, then writes one clock
// row (clock-tables.ts):
//   fresh insert  one rows-table row: its cells' first versions are implied by it
//   update        one version row (the history is the clock); the first update of a cell
//                 carries the implied first value it displaces
//   delete        cl + 1 in place, and one record of the deleted life (its sentinel and values)
// Rarer writes (re-insert of a deleted key, REPLACE over a live row, a primary-key change)
// make the implied versions they end explicit first (implied.ts). No UPDATE or DELETE here (or
// in the TEMP merge trigger) names its target with an alias: SQLite's RENAME COLUMN fails on
// any trigger that does.
//
// No statement here can fail a constraint: every write is OR IGNORE, and an insert that could
// meet an existing row is guarded by NOT EXISTS (so an outer INSERT OR REPLACE, whose policy
// SQLite applies to the trigger's statements too, never replaces a clock row). A trigger
// statement that may abort makes SQLite keep a statement journal for every row the outer
// statement writes (a copy of each page it touches): UPSERTs here made a delete after updates
// 12x a plain one, 4x without.
//
// The marker is opened by triggers of its own per kind of write (openTriggersSql), created after
// the others so that SQLite, which fires a table's newest trigger first, runs it before them.
// Opening it in each trigger cost 10-25% of every local write: an INSERT into crr_tx followed,
// in the same trigger, by a statement reading crr_tx (measured on 20k rows: 1.5-3 µs a write).
//
// The rare inserts (a re-insert, a REPLACE over a live row) record behind a view of their own
// (rarePathSql): SQLite sets up a trigger's whole program, a register for every value its
// statements use, each time the trigger fires, even when its WHEN is false, so their large bodies
// cost every fresh insert 1.2-2 µs (20k rows in one transaction, same runs: 8.5 -> 7.3, 11.7 -> 9.6 µs a row).
import type Database from 'better-sqlite3';
import type { TableInfo } from './table-info.ts';
import { quoteId } from './table-info.ts';
import { columnValues, deadTable, deadValue, deadValueBySlot, pkMatch, rowsTable, valueBySlot, versionsTable } from './clock-tables.ts';
import { currentVersionVid, materializeImpliedSql, TX_SEQ, TX_VERSION, versionColumns } from './implied.ts';
import { policyTriggersSql } from './policy-columns.ts';

const NOT_MERGING = `NOT EXISTS (SELECT 1 FROM crr_merging)`;

/** Opens the transaction's marker (its first tracked write; crr_open in clock-tables.ts). */
const OPEN_SQL = `INSERT OR IGNORE INTO crr_open VALUES (1)`;

/** Reserves `k` seq numbers in the open marker (k: a number or an SQL expression); the write's are [seq - k, seq). */
const claimSql = (k: number | string) => `UPDATE OR IGNORE crr_tx SET seq = seq + ${k}, changed = 1 WHERE id = 1`;

/**
 * Opens the marker if need be and reserves `k` seq numbers: for a write no open trigger precedes
 * (a BEFORE trigger, a counter's trigger added later, a statement run with parameters). Two
 * statements (no UPSERT: see above; the guard keeps an outer REPLACE off the marker).
 */
export const reserveSqls = (k: number): string[] => [`INSERT OR IGNORE INTO crr_open SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM crr_tx WHERE id = 1)`, claimSql(k)];
export const reserveSql = (k: number) => reserveSqls(k).join(';\n  ');

/**
 * The triggers that open the marker, one per kind of write, created last (fired first): for
 * every write some trigger here records. Their WHEN guards the insert, so an outer REPLACE
 * cannot replace an open marker. An UPDATE opens it per column it sets, as each column's own
 * trigger records (a value that stays the same records nothing, and no other column's value,
 * a large blob perhaps, is compared).
 */
function openTriggersSql(info: TableInfo): string[] {
  const t = quoteId(info.name);
  const when = `WHEN ${NOT_MERGING} AND NOT EXISTS (SELECT 1 FROM crr_tx)`;
  const differs = (cols: string[]) => cols.map((c) => `OLD.${quoteId(c)} IS NOT NEW.${quoteId(c)}`).join(' OR ');
  const opener = (what: string, event: string, cond = '') => `CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, `open_${what}`)} AFTER ${event} ON ${t}
  ${when}${cond}
BEGIN
  ${OPEN_SQL};
END;`;
  return [
    opener('insert', 'INSERT'),
    opener('delete', 'DELETE'),
    opener('update_pk', `UPDATE OF ${info.pks.map(quoteId).join(', ')}`, ` AND (${differs(info.pks)})`),
    ...info.columns.map((c, i) => opener(`update_${info.slots[i]}`, `UPDATE OF ${quoteId(c)}`, ` AND (${differs([c])})`)),
  ];
}

/** Ends the live life of key `pk` in the rows table (cl + 1), if it has a row there. */
const endTrackedLifeSql = (info: TableInfo, pk: string[]) => {
  const rows = rowsTable(info.name);
  return `UPDATE OR IGNORE ${rows} SET cl = cl + (cl % 2) WHERE ${pkMatch(info, rows, pk)}`;
};

/** Ends the live life of key `pk` in the rows table (cl + 1; a key it lacks gets cl 2). */
const endLifeSql = (info: TableInfo, pk: string[]) => {
  const rows = rowsTable(info.name);
  return `${endTrackedLifeSql(info, pk)};
  INSERT OR IGNORE INTO ${rows} (${info.pks.map(quoteId).join(', ')}, cl) SELECT ${pk.join(', ')}, 2
    WHERE NOT EXISTS (SELECT 1 FROM ${rows} r WHERE ${pkMatch(info, 'r', pk)})`;
};

export const triggerName = (table: string, what: string) => quoteId(`${table}__crr_${what}`);

/** the views the rare inserts record behind (rarePathSql), each with the table's trigger that fills it */
const RARE_PATHS = { reinsert: 'reinsert', replace: 'replace_before' } as const;
type RarePath = keyof typeof RARE_PATHS;
const rareView = (table: string, what: RarePath) => quoteId(`${table}__crr_do_${what}`);
/** Drops a table's rare-path views, and with them their INSTEAD OF triggers. */
export const dropRarePathsSql = (table: string) =>
  (Object.keys(RARE_PATHS) as RarePath[]).map((w) => `DROP VIEW IF EXISTS ${rareView(table, w)};`).join('\n');

/**
 * A rare write recorded behind a view: the trigger on the table (`event`, `when`) passes the row's
 * values (`values`: the key's and columns' values, in that order, from `from`) to the view, whose
 * INSTEAD OF trigger runs `body` with them as NEW. The view has the table's column names.
 */
function rarePathSql(info: TableInfo, what: RarePath, event: string, when: string, values: string[], from: string, body: string[]): string[] {
  const view = rareView(info.name, what);
  const names = [...info.pks, ...info.columns].map(quoteId);
  return [
    `CREATE VIEW IF NOT EXISTS ${view} AS SELECT ${names.map((n) => `NULL AS ${n}`).join(', ')};`,
    `CREATE TRIGGER IF NOT EXISTS ${quoteId(`${info.name}__crr_do_${what}_record`)} INSTEAD OF INSERT ON ${view}
BEGIN
  ${body.map((s) => `${s};`).join('\n  ')}
END;`,
    `CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, RARE_PATHS[what])} ${event} ON ${quoteId(info.name)}
  WHEN ${when}
BEGIN
  INSERT INTO ${view} SELECT ${values.join(', ')}${from};
END;`,
  ];
}

/**
 * seq numbers a fresh insert reserves: one per slot (cr-sqlite's numbering, which decides the
 * order of changes on other replicas: a first insert shows no sentinel), or the sentinel of a
 * pk-only table. A re-insert or a REPLACE reserves one more: its sentinel comes first.
 */
export const rowSeqs = (info: TableInfo) => (info.slots.length ? Math.max(...info.slots) + 1 : 1);

/** `history`: keep superseded versions (cell history); off, a cell keeps only its current version. */
/** `counters`: a column of the table merges as counter (HAS_COUNTER_SQL). */
export function localTriggersSql(info: TableInfo, history = true, counters = false): string {
  const t = quoteId(info.name);
  const rows = rowsTable(info.name);
  const V = versionsTable(info.name);
  const pkList = info.pks.map(quoteId).join(', ');
  const newPk = info.pks.map((p) => `NEW.${quoteId(p)}`);
  const oldPk = info.pks.map((p) => `OLD.${quoteId(p)}`);
  const pkOnly = info.columns.length === 0;
  const K = rowSeqs(info);
  const K1 = K + 1;
  // counter columns' triggers, when the table has such a column (counter.ts)
  const sql: string[] = counters ? [...policyTriggersSql(info)] : [];
  const rowIs = (pk: string[], cond: string) => `EXISTS (SELECT 1 FROM ${rows} r WHERE ${pkMatch(info, 'r', pk)} AND ${cond})`;
  const D = deadTable(info.name);
  const deadCols = info.slots.map(deadValue);
  /** the statement that records a deleted life of key `pk` (its cl already even in the rows table) */
  const deadRecord = (pk: string[], seq: string) => `INSERT OR IGNORE INTO ${D} (${pkList}, cl, db_version, seq, site${deadCols.map((d) => `, ${d}`).join('')})
    SELECT ${pk.join(', ')}, r.cl, x.db_version, ${seq}, 0${info.columns.map((c) => `, OLD.${quoteId(c)}`).join('')}
    FROM crr_tx x CROSS JOIN ${rows} r WHERE x.id = 1 AND ${pkMatch(info, 'r', pk)}`;
  /**
   * a deleted life's values are written out (implied.ts) when the row leaves it; then its record
   * goes (`onlyIf`: a further condition on that, for a trigger that also records other writes)
   */
  const endDeadLife = (pk: string[], onlyIf = '') => {
    const dropRecord = `DELETE FROM ${D} WHERE ${pkMatch(info, D, pk)}${onlyIf ? ` AND ${onlyIf}` : ''}`;
    return history
      ? [
          ...materializeImpliedSql(info, `${rows} r LEFT JOIN ${D} d ON ${pkMatch(info, 'd', pk)} AND d.cl = r.cl`, `${pkMatch(info, 'r', pk)} AND r.cl % 2 = 0`,
            deadValueBySlot(info, 'd', 'v.column2'), true),
          dropRecord,
        ]
      : [prunedSql(info, pk, 'NULL').replace(/;$/, ''), dropRecord];
  };

  // INSERT of a key never seen: one rows-table row (the implied clock; a pk-only table shows its sentinel).
  // Its values, not a SELECT from the marker: an INSERT ... SELECT in a trigger costs about 1 µs
  // more than the same row as VALUES with the marker read by subqueries (20k rows in one
  // transaction: 6.6 -> 5.6 µs a row). The open trigger has run (it fires first), so the marker is there.
  sql.push(`CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, 'insert')} AFTER INSERT ON ${t}
  WHEN ${NOT_MERGING} AND NOT ${rowIs(newPk, '1')}
BEGIN
  ${claimSql(K)};
  INSERT OR IGNORE INTO ${rows} (${pkList}, cl, s_version, s_seq, s_site, i_cl, i_version, i_seq, i_site)
    VALUES (${newPk.join(', ')}, 1, ${pkOnly ? `${TX_VERSION}, ${TX_SEQ} - ${K}, 0, NULL, NULL, NULL, NULL` : `NULL, NULL, NULL, 1, ${TX_VERSION}, ${TX_SEQ} - ${K}, 0`});
END;`);

  // INSERT of a deleted key: a new life (cl + 1, sentinel shown, a new implied clock); the
  // deleted life's implied versions are written out first, from the values its record kept.
  // Every statement is guarded by the life being a deleted one: with columns, this trigger also
  // records a REPLACE over a live row (one trigger for both: a fresh insert pays one lookup and
  // one trigger for them, not two).
  const deadLife = `EXISTS (SELECT 1 FROM ${rows} r WHERE ${pkMatch(info, 'r', newPk)} AND r.cl % 2 = 0)`;
  const reinsertSqls = [
    ...endDeadLife(newPk, deadLife),
    `UPDATE OR IGNORE ${rows} SET cl = cl + 1, s_version = x.db_version, s_seq = x.seq - ${K1}, s_site = 0,
      i_cl = ${pkOnly ? 'NULL' : 'cl + 1'}, i_version = ${pkOnly ? 'NULL' : 'x.db_version'}, i_seq = ${pkOnly ? 'NULL' : `x.seq - ${K}`},
      i_site = ${pkOnly ? 'NULL' : '0'}, i_written = NULL
    FROM crr_tx x WHERE x.id = 1 AND ${pkMatch(info, rows, newPk)} AND ${rows}.cl % 2 = 0`,
  ];

  const newRow = [...newPk, ...info.columns.map((c) => `NEW.${quoteId(c)}`)];
  if (pkOnly) {
    sql.push(...rarePathSql(info, 'reinsert', `AFTER INSERT`, `${NOT_MERGING} AND ${rowIs(newPk, 'r.cl % 2 = 0')}`, newRow, '', [claimSql(K1), ...reinsertSqls]));
  } else {
    // INSERT OR REPLACE over a live row deletes it without a DELETE trigger: before the old
    // values go, its implied versions become explicit (harmless when the insert is then
    // ignored or becomes an UPSERT's update: the same versions, stored explicitly) ...
    // (the row's values as they are before the insert, from the table, are the view's NEW)
    sql.push(
      ...rarePathSql(info, 'replace', 'BEFORE INSERT', `${NOT_MERGING} AND ${rowIs(newPk, 'r.cl % 2 = 1 AND r.i_cl = r.cl')}`,
        [...info.pks, ...info.columns].map((c) => `b.${quoteId(c)}`), ` FROM ${t} b WHERE ${pkMatch(info, 'b', newPk)}`,
        [...reserveSqls(0), materializeImpliedSql(info, `${rows} r`, pkMatch(info, 'r', newPk), valueBySlot(info, 'NEW', 'v.column2'), false)[0]]),
    );
    // ... and after it every cell gets its next version (cr-sqlite bumps them all). The REPLACE
    // statements come first: they leave the life as it is, so the re-insert's guards still hold.
    // A re-insert reserves one seq more (its sentinel comes first).
    sql.push(...rarePathSql(info, 'reinsert', 'AFTER INSERT', `${NOT_MERGING} AND ${rowIs(newPk, '1')}`, newRow, '', [
      claimSql(`${K} + (SELECT 1 - r.cl % 2 FROM ${rows} r WHERE ${pkMatch(info, 'r', newPk)})`),
      `INSERT OR IGNORE INTO ${V} (${versionColumns(info)})
    SELECT ${newPk.join(', ')}, v.column2, 0, r.cl, coalesce(c.col_version, 0) + 1, 0, ${valueBySlot(info, 'NEW', 'v.column2')},
      x.db_version, x.seq - ${K} + v.column2, c.site, coalesce(c.col_version, 0), NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM crr_tx x CROSS JOIN ${rows} r CROSS JOIN ${columnValues(info)} v
      LEFT JOIN ${V} c ON ${pkMatch(info, 'c', newPk)} AND c.slot = v.column2 AND c.lost = 0 AND c.cl = r.cl
        AND c.col_version = (SELECT max(y.col_version) FROM ${V} y WHERE ${pkMatch(info, 'y', newPk)} AND y.slot = v.column2 AND y.lost = 0 AND y.cl = r.cl)
    WHERE x.id = 1 AND ${pkMatch(info, 'r', newPk)} AND r.cl % 2 = 1`,
      ...(history ? [] : [prunedSql(info, newPk, 'NULL').replace(/;$/, '')]),
      ...reinsertSqls,
    ]));
  }

  // DELETE: the row's next life (cl + 1, in place), and a record of the deleted life: its
  // sentinel clock and values, so the life's implied first versions remain readable (and travel).
  sql.push(`CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, 'delete')} AFTER DELETE ON ${t}
  WHEN ${NOT_MERGING}
BEGIN
  ${claimSql(1)};
  ${endTrackedLifeSql(info, oldPk)};
  ${deadRecord(oldPk, 'x.seq - 1')};
END;`);
  // ... and before it (created after it, so fired first), a key the rows table lacks (a row
  // written while the table was not tracked) gets its row, which the delete then ends (cl 2).
  // A trigger of its own, not an INSERT ... WHERE NOT EXISTS in the delete's body: that statement
  // reads the table it inserts into, so SQLite runs it through a temporary table, about 1.5 µs a
  // delete even when it inserts nothing.
  sql.push(`CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, 'delete_untracked')} AFTER DELETE ON ${t}
  WHEN ${NOT_MERGING} AND NOT ${rowIs(oldPk, '1')}
BEGIN
  INSERT OR IGNORE INTO ${rows} (${pkList}, cl) VALUES (${oldPk.join(', ')}, 1);
END;`);

  // UPDATE of one non-pk column to a different value: its next version. Same-value updates do
  // not fire. SQLite fires the newest trigger first, so they are created last column first to
  // record in column order. Primary-key changes are handled by the trigger below.
  const pkSame = info.pks.map((p) => `OLD.${quoteId(p)} IS NEW.${quoteId(p)}`).join(' AND ');
  [...info.columns.entries()].reverse().forEach(([i, c]) => {
    const col = quoteId(c);
    sql.push(`CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, `update_${info.slots[i]}`)} AFTER UPDATE OF ${col} ON ${t}
  WHEN ${NOT_MERGING} AND OLD.${col} IS NOT NEW.${col} AND ${pkSame}
BEGIN
  ${cellWriteSqls(info, i, newPk, `NEW.${col}`, `OLD.${col}`, history, true).join(';\n  ')};
END;`);
  });

  // UPDATE of the primary key: the old key is deleted (sentinel, cl + 1, its values kept), the
  // new key begins a life (sentinel) whose cells are written with THIS transaction's
  // db_version, so a peer pulling "since my last version" gets the new row whole (cr-sqlite
  // 0.16.3 keeps their old db_version and diverges). A cell keeps its version number, + 1 if
  // its value changed too. A new key that had been deleted ends that life first.
  const pkChanged = info.pks.map((p) => `OLD.${quoteId(p)} IS NOT NEW.${quoteId(p)}`).join(' OR ');
  const changedBySlot = info.columns.length
    ? `CASE v.column2 ${info.columns.map((c, i) => `WHEN ${info.slots[i]} THEN (OLD.${quoteId(c)} IS NOT NEW.${quoteId(c)})`).join(' ')} END`
    : '0';
  const K3 = K + 2;
  sql.push(`CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, 'update_pk')} AFTER UPDATE OF ${pkList} ON ${t}
  WHEN ${NOT_MERGING} AND (${pkChanged})
BEGIN
  ${claimSql(K3)};
  ${endDeadLife(newPk).map((s) => `${s};`).join('\n  ')}
  ${
    pkOnly
      ? ''
      : `INSERT OR IGNORE INTO ${V} (${versionColumns(info)})
    SELECT ${newPk.join(', ')}, v.column2, 0, coalesce((SELECT n.cl + 1 + (n.cl % 2) FROM ${rows} n WHERE ${pkMatch(info, 'n', newPk)}), 1),
      coalesce(c.col_version, CASE WHEN r.i_cl = r.cl AND v.column3 <= r.i_version THEN 1 END, 0) + ${changedBySlot}, 0,
      ${valueBySlot(info, 'NEW', 'v.column2')}, x.db_version, x.seq - ${K3 - 2} + v.column2, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM crr_tx x CROSS JOIN ${rows} r CROSS JOIN ${columnValues(info)} v
      LEFT JOIN ${V} c ON ${pkMatch(info, 'c', oldPk)} AND c.slot = v.column2 AND c.lost = 0 AND c.cl = r.cl
        AND c.col_version = (SELECT max(y.col_version) FROM ${V} y WHERE ${pkMatch(info, 'y', oldPk)} AND y.slot = v.column2 AND y.lost = 0 AND y.cl = r.cl)
    WHERE x.id = 1 AND ${pkMatch(info, 'r', oldPk)}
      AND coalesce(c.col_version, CASE WHEN r.i_cl = r.cl AND v.column3 <= r.i_version THEN 1 END, 0) + ${changedBySlot} > 0;`
  }
  ${endLifeSql(info, oldPk)};
  ${deadRecord(oldPk, `x.seq - ${K3}`)};
  UPDATE OR IGNORE ${rows} SET cl = cl + 1 + (cl % 2), s_version = x.db_version, s_seq = x.seq - ${K3 - 1}, s_site = 0,
      i_cl = NULL, i_version = NULL, i_seq = NULL, i_site = NULL, i_written = NULL
    FROM crr_tx x WHERE x.id = 1 AND ${pkMatch(info, rows, newPk)};
  INSERT OR IGNORE INTO ${rows} (${pkList}, cl, s_version, s_seq, s_site)
    SELECT ${newPk.join(', ')}, 1, x.db_version, x.seq - ${K3 - 1}, 0 FROM crr_tx x
    WHERE x.id = 1 AND NOT EXISTS (SELECT 1 FROM ${rows} r WHERE ${pkMatch(info, 'r', newPk)});
  ${history ? '' : prunedSql(info, newPk, 'NULL')}
END;`);
  // last: fired first (see above)
  sql.push(...openTriggersSql(info));
  return sql.join('\n');
}

/**
 * A local write of the cell in column position `i`: its next version, whose parent is the
 * cell's current version (its newest non-lost version row in the row's life, else the implied
 * first version, else none). Overwriting an implied first version keeps its value in the new
 * row (has_first). The body of the column's UPDATE trigger (`opened`: the open trigger ran);
 * run with parameters, it also records a write that keeps the same value ("Keep this value").
 */
export function cellWriteSqls(info: TableInfo, i: number, pk: string[], val: string, oldVal: string, history: boolean, opened = false): string[] {
  const rows = rowsTable(info.name);
  const V = versionsTable(info.name);
  const slot = info.slots[i];
  const implied = `(r.i_cl = r.cl AND ${info.since[i]} <= r.i_version)`;
  return [
    ...(opened ? [claimSql(1)] : reserveSqls(1)),
    `INSERT OR IGNORE INTO ${V} (${versionColumns(info)})
    SELECT ${pk.join(', ')}, ${slot}, 0, r.cl,
      CASE WHEN c.col_version IS NOT NULL THEN c.col_version + 1 WHEN ${implied} THEN 2 ELSE 1 END, 0, ${val}, x.db_version, x.seq - 1,
      CASE WHEN c.col_version IS NOT NULL THEN c.site WHEN ${implied} THEN r.i_site END,
      CASE WHEN c.col_version IS NOT NULL THEN c.col_version WHEN ${implied} THEN 1 ELSE 0 END, NULL, NULL, NULL, NULL, NULL,
      ${history ? `CASE WHEN c.col_version IS NULL AND ${implied} THEN 1 END, CASE WHEN c.col_version IS NULL AND ${implied} THEN ${oldVal} END` : 'NULL, NULL'}
    FROM crr_tx x CROSS JOIN ${rows} r
      LEFT JOIN ${V} c ON ${pkMatch(info, 'c', pk)} AND c.slot = ${slot} AND c.lost = 0 AND c.cl = r.cl
    WHERE x.id = 1 AND ${pkMatch(info, 'r', pk)}
    -- the newest of them: read backwards along the cell's index, one seek (a max() subquery to
    -- join on was a second one: 5.4 -> 4.5 µs an update, 7.1 -> 5.6 for a cell updated again)
    ORDER BY c.col_version DESC LIMIT 1`,
    ...(history ? [] : [keepCurrentSql(info, pk, slot)]),
  ];
}

/**
 * History off, after an update of one cell: the cell keeps only its current version, the one just
 * written (every other row of the cell goes: older versions, lost ones, older lives'). The current
 * one is found once, instead of testing each row of the cell against its life and its newest
 * version (prunedSql).
 */
function keepCurrentSql(info: TableInfo, pk: string[], slot: number): string {
  const V = versionsTable(info.name);
  const rows = rowsTable(info.name);
  // no alias on the target: SQLite's RENAME COLUMN cannot parse a trigger with one
  return `DELETE FROM ${V} WHERE ${pkMatch(info, V, pk)} AND ${V}.slot = ${slot}
      AND ${V}.vid IS NOT ${currentVersionVid(info, pk, String(slot), `(SELECT r.cl FROM ${rows} r WHERE ${pkMatch(info, 'r', pk)})`)}`;
}

/** History off: a cell keeps only its current version (and nothing of older lives). */
function prunedSql(info: TableInfo, pk: string[], slot: string): string {
  const V = versionsTable(info.name);
  const rows = rowsTable(info.name);
  // no alias on the target: SQLite's RENAME COLUMN cannot parse a trigger with one
  return `DELETE FROM ${V} WHERE ${pkMatch(info, V, pk)} AND (${slot} IS NULL OR ${V}.slot = ${slot}) AND (${V}.lost = 1
      OR ${V}.cl <> (SELECT r.cl FROM ${rows} r WHERE ${pkMatch(info, 'r', pk)})
      OR ${V}.col_version < (SELECT max(y.col_version) FROM ${V} y WHERE ${pkMatch(info, 'y', pk)} AND y.slot = ${V}.slot AND y.lost = 0
        AND y.cl = ${V}.cl));`;
}

export function dropLocalTriggersSql(db: { prepare: (sql: string) => Database.Statement }, table: string): string {
  const names = db
    .prepare(`SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ? AND name LIKE ? ESCAPE '\\'`)
    .all(table, `${table.replace(/[\\%_]/g, (m) => '\\' + m)}\\_\\_crr\\_%`) as { name: string }[];
  return names.map((r) => `DROP TRIGGER IF EXISTS ${quoteId(r.name)};`).join('\n') + '\n' + dropRarePathsSql(table);
}
