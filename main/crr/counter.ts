// Merge policy `counter` (numeric columns): a cell's value is the sum of every replica's
// contributions in the row's current life. Per CRR table t, "t__crr_counts" holds one row per
// (cell, life, contributing site): how many writes it counted (crr_writes) and their sum (crr_total). A
// replica only ever changes its own row, so merging keeps, per site, the row with more writes
// (a state-based PN-counter): re-deliveries, duplicates and any delivery order give the same sum.
//
// Any write counts, whatever program made it: pure-SQL triggers (in the file, like the
// local-write triggers) add NEW - (the cell's sum) to this replica's row, in the life the row
// is in after the write, for every number written to a column whose policy is counter. So a
// fresh insert or a re-insert (a new life) starts from the inserted value, an UPDATE adds its
// difference, a REPLACE sets the sum to its value. Writes of anything but a number (NULL, text,
// a blob) count nothing, and the engine puts the sum back (a counter holds a number).
//
// The table's column holds the sum, so the file stays readable by any tool, and the cell's
// current version (crsql_changes, cell history) must hold it too: after a merge, every cell whose
// sum is not what the merge left in the column is written with its sum as a local version (a
// cr-sqlite peer gets it as an ordinary change with a higher col_version and converges on it).
// Conflicts are not raised for these cells (history.ts): nothing is lost.
import type Database from 'better-sqlite3';
import type { SqlValue } from '../../shared/values.ts';
import type { Change } from './types.ts';
import type { TableInfo } from './table-info.ts';
import { quoteId, quoteText } from './table-info.ts';
import { columnValues, pkMatch, rowsTable, valueBySlot } from './clock-tables.ts';
import { reserveSql, triggerName } from './local-triggers.ts';
import type { Branch } from './change-pages.ts';
import { fromSqlite } from './change-pages.ts';
import { bindKey, cellBranch, cellTableSql, keyParams, statementsPerTable } from './cell-rows.ts';
import { TX_VERSION } from './implied.ts';

export const countsTable = (table: string) => quoteId(`${table}__crr_counts`);

export const counterTablesSql = (info: TableInfo) => cellTableSql(info, countsTable(info.name), 'counts', 'site', 'crr_writes INTEGER NOT NULL, crr_total NOT NULL');

/** The row's life after the write that fired the trigger (whichever trigger ran first). */
const lifeAfterWrite = (info: TableInfo) =>
  `coalesce((SELECT CASE WHEN r.cl % 2 = 1 THEN r.cl ELSE r.cl + 1 END FROM ${rowsTable(info.name)} r WHERE ${pkMatch(info, 'r', info.pks.map((p) => `NEW.${quoteId(p)}`))}), 1)`;

/**
 * The triggers that count local writes (pure SQL). One per kind of write and table, present only
 * while a column of the table has the counter policy (a table without one pays nothing for them:
 * they cost ~8% on every insert and update when present), and quiet for its other columns. They
 * may fire before or after the local-write triggers (created with them, they fire after; added
 * by a policy change, before): lifeAfterWrite reads the row's life either way.
 */
/** A column of the table merges as counter (one parameter: the table's name). */
export const HAS_COUNTER_SQL = `SELECT 1 FROM crr_policies WHERE tbl = ? AND policy = 'counter' LIMIT 1`;

export const dropCounterTriggersSql = (table: string): string[] =>
  ['counter_insert', 'counter_update'].map((w) => `DROP TRIGGER IF EXISTS ${triggerName(table, w)}`);

export function counterTriggersSql(info: TableInfo): string[] {
  if (!info.columns.length) return [];
  const t = quoteId(info.name);
  const C = countsTable(info.name);
  const newPk = info.pks.map((p) => `NEW.${quoteId(p)}`);
  const sum = `(SELECT sum(c.crr_total) FROM ${C} c WHERE ${pkMatch(info, 'c', newPk)} AND c.slot = v.slot AND c.cl = l.cl)`;
  const body = `${reserveSql(0)};
  INSERT INTO ${C} (${info.pks.map(quoteId).join(', ')}, slot, cl, site, crr_writes, crr_total, db_version)
    SELECT ${newPk.join(', ')}, v.slot, l.cl, 0, 1, v.val - coalesce(${sum}, 0), x.db_version
    FROM crr_tx x CROSS JOIN (SELECT ${lifeAfterWrite(info)} AS cl) l
      CROSS JOIN (SELECT v.column2 AS slot, ${valueBySlot(info, 'NEW', 'v.column2')} AS val FROM ${columnValues(info)} v
        WHERE EXISTS (SELECT 1 FROM crr_policies p WHERE p.tbl = ${quoteText(info.name)} AND p.cid = v.column1 AND p.policy = 'counter')) v
    WHERE x.id = 1 AND typeof(v.val) IN ('integer', 'real') AND v.val - coalesce(${sum}, 0) <> 0
    ON CONFLICT DO UPDATE SET crr_writes = crr_writes + 1, crr_total = crr_total + excluded.crr_total, db_version = excluded.db_version;`;
  const when = `WHEN NOT EXISTS (SELECT 1 FROM crr_merging)
    AND EXISTS (SELECT 1 FROM crr_policies WHERE tbl = ${quoteText(info.name)} AND policy = 'counter')`;
  return [
    `CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, 'counter_insert')} AFTER INSERT ON ${t}
  ${when}
BEGIN
  ${body}
END;`,
    `CREATE TRIGGER IF NOT EXISTS ${triggerName(info.name, 'counter_update')} AFTER UPDATE ON ${t}
  ${when}
BEGIN
  ${body}
END;`,
  ];
}

/** One site's contribution to a counter cell in the row's current life. */
export interface Contribution {
  site_id: Uint8Array;
  /** how many of its writes counted */
  writes: number;
  total: SqlValue;
}

export interface CounterContext {
  prepare: (sql: string) => Database.Statement;
  siteOrd: (site: Uint8Array) => number;
  site: (ord: number) => Uint8Array;
  /** opens the transaction's marker if it is not (what merged contributions are stamped with) */
  openMarker: () => void;
}

const toSqlite = (v: SqlValue): unknown => (v instanceof Uint8Array ? Buffer.from(v) : v);

export function createCounters(ctx: CounterContext) {
  const stmt = statementsPerTable(ctx.prepare);
  const C = (info: TableInfo) => countsTable(info.name);
  const sumOf = (info: TableInfo, alias: string, slot: string, cl: string) =>
    `(SELECT sum(c.crr_total) FROM ${C(info)} c WHERE ${info.pks.map((p) => `c.${quoteId(p)} = ${alias}.${quoteId(p)}`).join(' AND ')} AND c.slot = ${slot} AND c.cl = ${cl})`;

  /** Merges incoming contributions (validated); returns how many changed what this replica holds. */
  function merge(info: TableInfo, items: { change: Change; pk: SqlValue[] }[]): number {
    const has = stmt(info, 'has', () => `SELECT crr_writes AS n, crr_total AS total FROM ${C(info)} WHERE ${pkMatch(info, C(info), keyParams(info))} AND slot = @slot AND cl = @cl AND site = @site`);
    const upsert = stmt(info, 'merge', () => `INSERT INTO ${C(info)} (${info.pks.map(quoteId).join(', ')}, slot, cl, site, crr_writes, crr_total, db_version)
      VALUES (${keyParams(info).join(', ')}, @slot, @cl, @site, @n, @total, ${TX_VERSION})
      ON CONFLICT DO UPDATE SET crr_writes = excluded.crr_writes, crr_total = excluded.crr_total, db_version = excluded.db_version
        WHERE excluded.crr_writes > crr_writes OR (excluded.crr_writes = crr_writes AND excluded.crr_total > crr_total)`);
    const newer = stmt(info, 'newer', () => `SELECT @n > @hn OR (@n = @hn AND @total > @ht)`).pluck();
    let changed = 0;
    for (const { change, pk } of items) {
      const slot = info.slots[info.columns.indexOf(change.cid)];
      const at = { ...bindKey(pk), slot, cl: change.cl, site: ctx.siteOrd(change.site_id) };
      const total = toSqlite(change.val);
      const held = has.get(at) as { n: bigint; total: unknown } | undefined;
      // (the marker is opened only for what changes something: a re-delivery stamps nothing)
      if (held && newer.get({ n: change.col_version, hn: held.n, total, ht: held.total }) !== 1n) continue;
      ctx.openMarker();
      changed += upsert.run({ ...at, n: change.col_version, total }).changes;
    }
    return changed;
  }

  /** The cell's value now, its sum in the row's live life (null: no contribution), and that life. */
  function cellState(info: TableInfo, pk: SqlValue[], slot: number): { value: unknown; sum: unknown; cl: number } | null {
    const i = info.slots.indexOf(slot);
    const row = stmt(info, `state${slot}`, () => `SELECT b.${quoteId(info.columns[i])} AS value, ${sumOf(info, 'r', String(slot), 'r.cl')} AS sum, r.cl AS cl
      FROM ${quoteId(info.name)} b JOIN ${rowsTable(info.name)} r ON ${info.pks.map((p) => `r.${quoteId(p)} = b.${quoteId(p)}`).join(' AND ')}
      WHERE ${pkMatch(info, 'b', keyParams(info))} AND r.cl % 2 = 1`).get(bindKey(pk)) as { value: unknown; sum: unknown; cl: bigint } | undefined;
    return row ? { value: row.value, sum: row.sum, cl: Number(row.cl) } : null;
  }

  /**
   * Makes a counter cell hold its sum after a merge. `restore`: the column is written with the
   * sum (a local version). `adopt` (a change merged through INSERT INTO crsql_changes, how a
   * cr-sqlite peer's writes come in): a number the merge left in the column counts as this
   * replica's write of it (its difference to the sum); anything else gets the sum back.
   */
  function settle(info: TableInfo, pk: SqlValue[], slot: number, mode: 'restore' | 'adopt'): void {
    const s = cellState(info, pk, slot);
    if (!s) return;
    const numeric = typeof s.value === 'bigint' || typeof s.value === 'number';
    if (mode === 'adopt' && numeric && s.value !== s.sum) {
      const delta = stmt(info, 'delta', () => `SELECT @value - coalesce(@sum, 0)`).pluck().get({ value: s.value, sum: s.sum });
      if (delta !== 0n && delta !== 0) {
        ctx.openMarker();
        stmt(info, 'own', () => `INSERT INTO ${C(info)} (${info.pks.map(quoteId).join(', ')}, slot, cl, site, crr_writes, crr_total, db_version)
          VALUES (${keyParams(info).join(', ')}, @slot, @cl, 0, 1, @delta, ${TX_VERSION})
          ON CONFLICT DO UPDATE SET crr_writes = crr_writes + 1, crr_total = crr_total + excluded.crr_total, db_version = excluded.db_version`).run({ ...bindKey(pk), slot, cl: s.cl, delta });
      }
      return;
    }
    if (s.sum === null || s.sum === undefined) return;
    if (numeric && stmt(info, 'same', () => `SELECT @a IS @b`).pluck().get({ a: s.value, b: s.sum }) === 1n) return;
    const i = info.slots.indexOf(slot);
    stmt(info, `write${slot}`, () => `UPDATE ${quoteId(info.name)} SET ${quoteId(info.columns[i])} = @sum WHERE ${pkMatch(info, quoteId(info.name), keyParams(info))}`)
      .run({ ...bindKey(pk), sum: s.sum });
  }

  /**
   * The column's policy became counter. `local`: set here, so the column "starts from its current
   * value": this replica counts, for every live row, the difference between the value and the
   * sum. Set by a peer: its own counts arrived before its policy (the sync stream sends policies
   * after the changes), so only rows that have no contribution at all count their value here.
   */
  function started(info: TableInfo, slot: number, local: boolean): void {
    const i = info.slots.indexOf(slot);
    const col = `b.${quoteId(info.columns[i])}`;
    const sum = sumOf(info, 'r', String(slot), 'r.cl');
    ctx.openMarker();
    ctx.prepare(`INSERT INTO ${C(info)} (${info.pks.map(quoteId).join(', ')}, slot, cl, site, crr_writes, crr_total, db_version)
      SELECT ${info.pks.map((p) => `b.${quoteId(p)}`).join(', ')}, ${slot}, r.cl, 0, 1, ${col} - coalesce(${sum}, 0), ${TX_VERSION}
      FROM ${quoteId(info.name)} b JOIN ${rowsTable(info.name)} r ON ${info.pks.map((p) => `r.${quoteId(p)} = b.${quoteId(p)}`).join(' AND ')}
      WHERE r.cl % 2 = 1 AND typeof(${col}) IN ('integer', 'real') AND ${col} - coalesce(${sum}, 0) <> 0
        ${local ? '' : `AND ${sum} IS NULL`}
      ON CONFLICT DO UPDATE SET crr_writes = crr_writes + 1, crr_total = crr_total + excluded.crr_total, db_version = excluded.db_version`).run();
    // every other row whose value is not its sum gets it
    const keys = ctx.prepare(`SELECT ${info.pks.map((p) => `b.${quoteId(p)}`).join(', ')} FROM ${quoteId(info.name)} b
      JOIN ${rowsTable(info.name)} r ON ${info.pks.map((p) => `r.${quoteId(p)} = b.${quoteId(p)}`).join(' AND ')}
      WHERE r.cl % 2 = 1 AND ${sum} IS NOT NULL AND ${col} IS NOT ${sum}`).raw(true).safeIntegers(true).all() as unknown[][];
    for (const k of keys) settle(info, k.map(fromSqlite), slot, 'restore');
  }

  function contributions(info: TableInfo, pk: SqlValue[], slot: number): Contribution[] {
    const rows = stmt(info, 'list', () => `SELECT c.site, c.crr_writes AS n, c.crr_total AS total FROM ${C(info)} c JOIN ${rowsTable(info.name)} r
        ON ${info.pks.map((p) => `r.${quoteId(p)} = c.${quoteId(p)}`).join(' AND ')} AND r.cl = c.cl
      WHERE ${pkMatch(info, 'c', keyParams(info))} AND c.slot = @slot ORDER BY c.site`).all({ ...bindKey(pk), slot }) as { site: bigint; n: bigint; total: unknown }[];
    return rows.map((r) => ({ site_id: ctx.site(Number(r.site)), writes: Number(r.n), total: fromSqlite(r.total) }));
  }

  return { merge, settle, started, contributions };
}

/** The sync stream's branch for contributions: one change per (cell, life, site), kind 'counter'. */
export const counterBranch = (info: TableInfo): Branch =>
  cellBranch(info, { table: countsTable(info.name), last: 'site', site: 'site', columns: ['crr_writes', 'crr_total'], kind: 'counter' }, ([site, n, total], lookup) => ({
    val: fromSqlite(total), col_version: Number(n), site_id: lookup.site(site),
  }));
