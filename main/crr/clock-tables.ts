// Where clocks live inside the file. Per CRR table t:
//   "t__crr_rows":  one row per primary key ever seen: causal length cl (odd alive, even deleted),
//                   the clock of its sentinel ('-1') change when one is exposed, and the
//                   "implied" clock of a local insert (i_*): version 1 of every cell of life i_cl
//                   that has no explicit clock, with seq i_seq + column index.
//   "t__crr_cells": one row per cell, with the cl of the life it was written in; only cells of
//                   the row's current life count (deleting a row leaves its cells stale).
// Sites are stored as small integers (crr_sites.ord; 0 is this replica).
import type { TableInfo } from './table-info.ts';
import { quoteId } from './table-info.ts';

export const rowsTable = (table: string) => quoteId(`${table}__crr_rows`);
export const cellsTable = (table: string) => quoteId(`${table}__crr_cells`);
export const clockObjectPrefix = (table: string) => `${table}__crr_`;

/** Engine-wide state, created once per file. */
export const META_SQL = `
CREATE TABLE IF NOT EXISTS crr_sites (ord INTEGER PRIMARY KEY, site_id BLOB NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS crr_state (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
-- One row while a transaction that changed CRR data is not yet sealed: its db_version, the next
-- seq, and the highest db_version merged into it (Lamport).
CREATE TABLE IF NOT EXISTS crr_tx (id INTEGER PRIMARY KEY CHECK (id = 1), db_version INTEGER NOT NULL,
  seq INTEGER NOT NULL, max_version INTEGER NOT NULL);
-- Non-empty while the engine merges: local-write triggers stay quiet.
CREATE TABLE IF NOT EXISTS crr_merging (id INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS crr_tables (name TEXT PRIMARY KEY, columns TEXT NOT NULL) WITHOUT ROWID;
-- Merge policy per column ('lww' when absent), a last-writer-wins register replicated by sync:
-- the higher (clock, site) wins.
CREATE TABLE IF NOT EXISTS crr_policies (tbl TEXT NOT NULL, cid TEXT NOT NULL, policy TEXT NOT NULL,
  clock INTEGER NOT NULL, site BLOB NOT NULL, PRIMARY KEY (tbl, cid)) WITHOUT ROWID;
INSERT OR IGNORE INTO crr_state (key, value) VALUES ('db_version', 0);
-- cell history on (1) or off (0), and how many versions per cell it keeps
INSERT OR IGNORE INTO crr_state (key, value) VALUES ('history', 1);
INSERT OR IGNORE INTO crr_state (key, value) VALUES ('history_retention', 20);
`;

/** A pk column's declared type, for copies of it that must compare with the same affinity. */
export const declaredType = (info: TableInfo, i: number): string => info.pkTypes[i].replace(/[^\w\s(),]/g, '');

export function createClockTablesSql(info: TableInfo): string {
  const pk = info.pks.map(quoteId).join(', ');
  const pkDecl = info.pks.map((p, i) => `${quoteId(p)} ${declaredType(info, i)}`).join(', ');
  return `
CREATE TABLE IF NOT EXISTS ${rowsTable(info.name)} (${pkDecl}, cl INTEGER NOT NULL,
  s_version INTEGER, s_seq INTEGER, s_site INTEGER,
  i_cl INTEGER, i_version INTEGER, i_seq INTEGER, i_site INTEGER, PRIMARY KEY (${pk})) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ${quoteId(`${info.name}__crr_rows_i`)} ON ${rowsTable(info.name)} (i_version)
  WHERE i_version IS NOT NULL;
CREATE INDEX IF NOT EXISTS ${quoteId(`${info.name}__crr_rows_v`)} ON ${rowsTable(info.name)} (s_version)
  WHERE s_version IS NOT NULL;
CREATE TABLE IF NOT EXISTS ${cellsTable(info.name)} (${pkDecl}, cid TEXT NOT NULL, col_version INTEGER NOT NULL,
  db_version INTEGER NOT NULL, seq INTEGER NOT NULL, site INTEGER NOT NULL, cl INTEGER NOT NULL,
  PRIMARY KEY (${pk}, cid)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ${quoteId(`${info.name}__crr_cells_v`)} ON ${cellsTable(info.name)} (db_version);
`;
}

export function dropClockTablesSql(table: string): string {
  return `DROP TABLE IF EXISTS ${rowsTable(table)}; DROP TABLE IF EXISTS ${cellsTable(table)};`;
}

/** SQL matching the pk columns of `alias` against a list of expressions. */
export function pkMatch(info: TableInfo, alias: string, values: string[]): string {
  return info.pks.map((p, i) => `${alias}.${quoteId(p)} = ${values[i]}`).join(' AND ');
}
