// Where clocks and history live inside the file (storage format 3; the clock itself: clock-sql.ts). Per CRR table t:
//
//   "t__crr_rows"  one row per primary key ever seen: causal length cl (odd alive, even
//                  deleted); the clock of a live life's sentinel ('-1') change when one is
//                  exposed (s_*: a re-created row, a pk-only table's row); and the IMPLIED clock
//                  of a local insert (i_*): version 1 of every cell of life i_cl (columns that
//                  existed at i_version) written by site i_site at db_version i_version, seq
//                  i_seq + the column's slot. A fresh insert writes this one row and nothing
//                  else: its first versions are implied by the row itself. A delete only bumps
//                  cl in place (a row that grew would split its page).
//   "t__crr_dead"  one record per deleted life (appended): its sentinel clock and the values the
//                  row had (columns "crr_v<slot>"), so the deleted life's first versions stay
//                  readable: one compact record, not a row per cell.
//   "t__crr_v"     every other version of every cell, one row each (appended, a rowid table:
//                  cheaper to grow than a wide keyed one): the history IS the clock.
//                  A local update appends the new version; the cell's current version is its
//                  newest row with lost = 0 in the row's current life (or the implied one when
//                  it has none). lost = 1 marks a version that lost a tie (same cl and
//                  col_version) to a different value, so "newest" never needs a value compare.
//                  A version that displaced an implied first version carries that version's
//                  value (has_first, first_val): the update that overwrites a first value writes
//                  no extra row.
//   "t__crr_forks" the cells where versions written over the same parent disagree (conflicts;
//                  parent_site -1 is "no parent": a key column cannot be NULL),
//                  found by the merge (only a merge can bring a concurrent version), so listing
//                  and counting conflicts reads this small table, not the history.
//
// Columns are named by stable slots (crr_tables), so a renamed column keeps its history and a
// version row stores a small integer, not the column name. Sites are small integers
// (crr_sites.ord; 0 is this replica). Times: crr_times maps each sealed db_version to when this
// replica committed it (a version's seen time); written_at is kept only for versions written
// elsewhere (a local version was written when it was seen).
import type { TableInfo } from './table-info.ts';
import { quoteId } from './table-info.ts';
import { CLOCK_MAX } from './clock-sql.ts';
import { dropPolicyTablesSql, policyTablesSql } from './policy-columns.ts';

export const rowsTable = (table: string) => quoteId(`${table}__crr_rows`);
export const versionsTable = (table: string) => quoteId(`${table}__crr_v`);
export const forksTable = (table: string) => quoteId(`${table}__crr_forks`);
export const deadTable = (table: string) => quoteId(`${table}__crr_dead`);
export const clockObjectPrefix = (table: string) => `${table}__crr_`;
/** A deleted life's record's copy of the row's value of the column with this slot. */
export const deadValue = (slot: number) => quoteId(`crr_v${slot}`);

export const STORAGE_FORMAT = 3;

/** Engine-wide state, created once per file. */
export const META_SQL = `
CREATE TABLE IF NOT EXISTS crr_sites (ord INTEGER PRIMARY KEY, site_id BLOB NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS crr_state (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
-- One row while a transaction that changed CRR data is not yet sealed: its db_version, the next
-- seq, the highest db_version merged into it (Lamport), and whether it changed any current
-- value (a merge that only records losing versions does not advance crsql_db_version()).
CREATE TABLE IF NOT EXISTS crr_tx (id INTEGER PRIMARY KEY CHECK (id = 1), db_version INTEGER NOT NULL,
  seq INTEGER NOT NULL, max_version INTEGER NOT NULL, changed INTEGER NOT NULL DEFAULT 1);
-- Opens the marker at the clock + 1 (local-triggers.ts): the triggers that open it insert a row
-- here. SQLite sets up a trigger's whole program each time it fires, even when its WHEN is false,
-- as an opening trigger's is on every write but a transaction's first: this keeps theirs one
-- small statement (0.5 of the 1 µs such a trigger cost a write).
CREATE VIEW IF NOT EXISTS crr_open AS SELECT NULL AS id;
CREATE TRIGGER IF NOT EXISTS crr_open_marker INSTEAD OF INSERT ON crr_open
BEGIN
  INSERT OR IGNORE INTO crr_tx (id, db_version, seq, max_version, changed)
    SELECT 1, ${CLOCK_MAX} + 1, 0, ${CLOCK_MAX} + 1, 1 FROM crr_times;
END;
-- Non-empty while the engine merges: local-write triggers stay quiet.
CREATE TABLE IF NOT EXISTS crr_merging (id INTEGER PRIMARY KEY);
-- name, and a JSON description {pks, cols: [[name, slot, since db_version]], next slot}
CREATE TABLE IF NOT EXISTS crr_tables (name TEXT PRIMARY KEY, columns TEXT NOT NULL) WITHOUT ROWID;
-- Merge policy per column ('lww' when absent), a last-writer-wins register replicated by sync:
-- the higher (clock, site) wins.
CREATE TABLE IF NOT EXISTS crr_policies (tbl TEXT NOT NULL, cid TEXT NOT NULL, policy TEXT NOT NULL,
  clock INTEGER NOT NULL, site BLOB NOT NULL, PRIMARY KEY (tbl, cid)) WITHOUT ROWID;
-- when this replica committed each db_version (ms since 1970): the seen time of its versions;
-- the newest row is the clock (CLOCK_SQL). quiet = 1: the commit changed no current value (a
-- merge that only brought history), so crsql_db_version() is the newest row without it.
CREATE TABLE IF NOT EXISTS crr_times (db_version INTEGER PRIMARY KEY, at INTEGER NOT NULL, quiet INTEGER);
-- cell history on (1) or off (0), and how many versions per cell it keeps
INSERT OR IGNORE INTO crr_state (key, value) VALUES ('history', 1);
INSERT OR IGNORE INTO crr_state (key, value) VALUES ('history_retention', 20);
`;

/** A pk column's declared type, for copies of it that must compare with the same affinity. */
export const declaredType = (info: TableInfo, i: number): string => info.pkTypes[i].replace(/[^\w\s(),]/g, '');

export function createClockTablesSql(info: TableInfo): string {
  const pk = info.pks.map(quoteId).join(', ');
  const pkDecl = info.pks.map((p, i) => `${quoteId(p)} ${declaredType(info, i)}`).join(', ');
  const dead = info.slots.map((s) => `, ${deadValue(s)}`).join('');
  return `
CREATE TABLE IF NOT EXISTS ${rowsTable(info.name)} (${pkDecl}, cl INTEGER NOT NULL,
  s_version INTEGER, s_seq INTEGER, s_site INTEGER,
  i_cl INTEGER, i_version INTEGER, i_seq INTEGER, i_site INTEGER, i_written INTEGER,
  PRIMARY KEY (${pk})) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ${deadTable(info.name)} (did INTEGER PRIMARY KEY, ${pkDecl}, cl INTEGER NOT NULL,
  db_version INTEGER NOT NULL, seq INTEGER NOT NULL, site INTEGER NOT NULL${dead});
CREATE INDEX IF NOT EXISTS ${quoteId(`${info.name}__crr_dead_k`)} ON ${deadTable(info.name)} (${pk}, cl);
CREATE INDEX IF NOT EXISTS ${quoteId(`${info.name}__crr_dead_db`)} ON ${deadTable(info.name)} (db_version);
CREATE INDEX IF NOT EXISTS ${quoteId(`${info.name}__crr_rows_i`)} ON ${rowsTable(info.name)} (i_version)
  WHERE i_version IS NOT NULL;
CREATE INDEX IF NOT EXISTS ${quoteId(`${info.name}__crr_rows_s`)} ON ${rowsTable(info.name)} (s_version)
  WHERE s_version IS NOT NULL;
CREATE TABLE IF NOT EXISTS ${versionsTable(info.name)} (vid INTEGER PRIMARY KEY, ${pkDecl}, slot INTEGER NOT NULL,
  lost INTEGER NOT NULL, cl INTEGER NOT NULL, col_version INTEGER NOT NULL, site INTEGER NOT NULL, val,
  db_version INTEGER NOT NULL, seq INTEGER NOT NULL, parent_site INTEGER, parent_cv INTEGER,
  written_at INTEGER, seen_at INTEGER, res_site INTEGER, res_cv INTEGER, res_members INTEGER,
  has_first INTEGER, first_val);
CREATE UNIQUE INDEX IF NOT EXISTS ${quoteId(`${info.name}__crr_v_k`)} ON ${versionsTable(info.name)} (${pk}, slot, lost, cl, col_version, site);
CREATE INDEX IF NOT EXISTS ${quoteId(`${info.name}__crr_v_db`)} ON ${versionsTable(info.name)} (db_version);
CREATE TABLE IF NOT EXISTS ${forksTable(info.name)} (${pkDecl}, slot INTEGER NOT NULL, cl INTEGER NOT NULL,
  parent_site INTEGER NOT NULL, parent_cv INTEGER NOT NULL, seen_version INTEGER NOT NULL,
  PRIMARY KEY (${pk}, slot, cl, parent_site, parent_cv)) WITHOUT ROWID;
${policyTablesSql(info) /* counter contributions and text states (policy-columns.ts) */}
`;
}

export function dropClockTablesSql(table: string): string {
  return `DROP TABLE IF EXISTS ${rowsTable(table)}; DROP TABLE IF EXISTS ${versionsTable(table)}; DROP TABLE IF EXISTS ${forksTable(table)};
    DROP TABLE IF EXISTS ${deadTable(table)}; ${dropPolicyTablesSql(table)}`;
}

/** SQL matching the pk columns of `alias` against a list of expressions. */
export function pkMatch(info: TableInfo, alias: string, values: string[]): string {
  return info.pks.map((p, i) => `${alias}.${quoteId(p)} = ${values[i]}`).join(' AND ');
}

/** `(VALUES (name, slot, since), …)` of the table's columns, for unpivoting a row into cells. */
export function columnValues(info: TableInfo): string {
  return `(VALUES ${info.columns.map((c, i) => `('${c.replace(/'/g, "''")}', ${info.slots[i]}, ${info.since[i]})`).join(', ')})`;
}

/** A column's value in row alias `row` (the base table, NEW or OLD) by the slot held in `slotExpr`. */
export function valueBySlot(info: TableInfo, row: string, slotExpr: string): string {
  if (!info.columns.length) return 'NULL';
  return `CASE ${slotExpr} ${info.columns.map((c, i) => `WHEN ${info.slots[i]} THEN ${row}.${quoteId(c)}`).join(' ')} END`;
}

/** A deleted life's kept value of the column whose slot is `slotExpr` (its record's alias `r`). */
export function deadValueBySlot(info: TableInfo, r: string, slotExpr: string): string {
  if (!info.columns.length) return 'NULL';
  return `CASE ${slotExpr} ${info.slots.map((s) => `WHEN ${s} THEN ${r}.${deadValue(s)}`).join(' ')} END`;
}

/** The column name of a slot, as SQL. */
export function nameBySlot(info: TableInfo, slotExpr: string): string {
  if (!info.columns.length) return 'NULL';
  return `CASE ${slotExpr} ${info.columns.map((c, i) => `WHEN ${info.slots[i]} THEN '${c.replace(/'/g, "''")}'`).join(' ')} END`;
}
