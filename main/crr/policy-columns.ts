// Columns whose merge policy is `counter` (counter.ts) or `text` (text-cells.ts): what the
// engine does for them around local writes, merges and seals, in one place. index.ts calls it
// at a few hooks; nothing here runs for tables without such a column.
//
// In the sync stream their state travels as changes of their own kind (Change.kind):
//   'counter'  one site's contribution to a cell in one row life: cid the column, val the sum of
//              its counted writes, col_version how many (merge keeps the higher), cl the life,
//              site_id the contributor;
//   'text'     a text cell's CRDT state (a Yjs update, val as a blob) in one row life and policy
//              epoch (col_version): merging states is idempotent; site_id the replica that last
//              changed it (a peer is not sent back what it sent).
// Both come before a table's cell versions in every page range (change-pages.ts), so a replica
// has a cell's contributions and text state no later than the versions written with them.
// crsql_changes (cr-sqlite's view) does not show them: a cr-sqlite peer sees the resulting
// value as an ordinary cell version.
//
// A write arriving from a cr-sqlite peer for such a column (a version without contributions or
// text state) is merged by cr-sqlite's rules like any version and kept in the cell's history:
//   - through INSERT INTO crsql_changes (how a cr-sqlite peer's changes come in), a value it
//     leaves in the column counts as the merging replica's own write ("adopt"): a counter
//     counts its difference to the sum, a text its character edits, and our other replicas get
//     those as that replica's contributions or edits;
//   - through applyChanges (our sync, where it is only relayed), the column is put back to the
//     counter's sum or the text state's text ("restore"): the replica that merged it through
//     crsql_changes counted it already. A cr-sqlite peer then receives that value as a newer
//     version and converges on it.
// So a cr-sqlite peer's write counts once when one of our replicas merges it through
// crsql_changes; merged into two of them that way, it counts twice (bridge a cr-sqlite peer
// through one replica).
import type Database from 'better-sqlite3';
import type { SqlValue } from '../../shared/values.ts';
import { policyFits } from '../../shared/column-affinity.ts';
import type { Change } from './types.ts';
import type { TableInfo } from './table-info.ts';
import { quoteId } from './table-info.ts';
import { ChangeRefused } from './input-limits.ts';
import { HAS_COUNTER_SQL, counterBranch, counterTablesSql, counterTriggersSql, countsTable, createCounters, dropCounterTriggersSql, type Contribution } from './counter.ts';
import { createTextCells, textBranch, textTablesSql, textTable } from './text-cells.ts';
import { fromSqlite } from './change-pages.ts';
import { wholeTable } from './whole-rows.ts';
import { CLOCK_ROW } from './clock-sql.ts';

export type { Contribution } from './counter.ts';

/** Tables beside a CRR table for its counter and text columns (clock-tables.ts creates them). */
export const policyTablesSql = (info: TableInfo) => counterTablesSql(info) + textTablesSql(info);
export const dropPolicyTablesSql = (table: string) => `DROP TABLE IF EXISTS ${countsTable(table)}; DROP TABLE IF EXISTS ${textTable(table)};`;
/** A dropped column's contributions and text states (by its slot). */
export const dropPolicyCellsSql = (table: string, slot: number) =>
  `DELETE FROM ${countsTable(table)} WHERE slot = ${slot}; DELETE FROM ${textTable(table)} WHERE slot = ${slot};`;
/** Pure-SQL triggers counting local writes (local-triggers.ts creates them first). */
export const policyTriggersSql = counterTriggersSql;
/** Their sites in a range of db_versions (@a..@b), UNION-ed into what a commit event reports (index.ts). */
export const policyCommitSitesSql = (info: TableInfo) =>
  `SELECT site FROM ${countsTable(info.name)} WHERE db_version BETWEEN @a AND @b UNION SELECT site FROM ${textTable(info.name)} WHERE db_version BETWEEN @a AND @b UNION `;
/** The sync stream's branches for them, read before a table's other branches (change-pages.ts). */
export const policyBranches = (info: TableInfo) => (info.columns.length ? [counterBranch(info), textBranch(info)] : []);

/** the largest text state a peer may send (bytes): a frame holds at most 4 MB anyway */
const MAX_STATE = 8 << 20;

export interface PolicyContext {
  prepare: (sql: string) => Database.Statement;
  tables: () => Map<string, TableInfo>;
  siteId: Uint8Array;
  /** cell history on: text merging starts from the version an edit replaced */
  history: boolean;
}

interface Column {
  info: TableInfo;
  slot: number;
  policy: 'counter' | 'text';
  /** the policy setting's clock: text states belong to one epoch */
  epoch: number;
}

type Cell = { table: string; pk: unknown[]; slot: number };
const toSqlite = (v: SqlValue): unknown => (v instanceof Uint8Array ? Buffer.from(v) : v);

export function createPolicyColumns(ctx: PolicyContext) {
  const policiesStmt = ctx.prepare(`SELECT tbl, cid, policy, clock FROM crr_policies WHERE policy IN ('counter', 'text')`).safeIntegers(false);
  const markerStmt = ctx.prepare('SELECT db_version FROM crr_tx WHERE id = 1').pluck().safeIntegers(false);
  const openStmt = ctx.prepare(`INSERT INTO crr_tx (id, db_version, seq, max_version, changed)
    SELECT 1, value + 1, 0, value + 1, 1 FROM ${CLOCK_ROW} WHERE 1 ON CONFLICT (id) DO UPDATE SET changed = 1`);
  const siteInsert = ctx.prepare('INSERT OR IGNORE INTO crr_sites (site_id) VALUES (?)');
  const siteOrdStmt = ctx.prepare('SELECT ord FROM crr_sites WHERE site_id = ?').pluck().safeIntegers(false);
  const siteStmt = ctx.prepare('SELECT site_id FROM crr_sites WHERE ord = ?').pluck();
  const noteStmt = ctx.prepare('SELECT crr_note_merge(?, 0, ?)');
  const types = new WeakMap<TableInfo, Map<string, string>>();

  const siteOrd = (site: Uint8Array): number => {
    siteInsert.run(Buffer.from(site));
    return siteOrdStmt.get(Buffer.from(site)) as number;
  };
  const site = (ord: number) => new Uint8Array(siteStmt.get(ord) as Buffer);
  const openMarker = () => openStmt.run();
  const counters = createCounters({ prepare: ctx.prepare, siteOrd, site, openMarker });
  const texts = createTextCells({ prepare: ctx.prepare, siteId: ctx.siteId, siteOrd, openMarker, txVersion: () => markerStmt.get() as number | undefined });

  function declaredTypes(info: TableInfo): Map<string, string> {
    let m = types.get(info);
    if (!m) {
      const rows = ctx.prepare('SELECT name, type FROM pragma_table_info(?)').all(info.name) as { name: string; type: string }[];
      types.set(info, (m = new Map(rows.map((r) => [r.name, r.type]))));
    }
    return m;
  }

  /** Whether `policy` can hold for this column here (its type; text merging needs cell history). */
  function fits(info: TableInfo, cid: string, policy: string): boolean {
    if (policy === 'text' && !ctx.history) return false;
    return policyFits(policy, declaredTypes(info).get(cid) ?? '');
  }

  /** The counter and text columns in force, by table. */
  function columns(): Map<string, Column[]> {
    const out = new Map<string, Column[]>();
    for (const p of policiesStmt.all() as { tbl: string; cid: string; policy: 'counter' | 'text'; clock: number }[]) {
      const info = ctx.tables().get(p.tbl);
      const i = info ? info.columns.indexOf(p.cid) : -1;
      if (!info || i < 0 || !fits(info, p.cid, p.policy)) continue;
      let list = out.get(p.tbl);
      if (!list) out.set(p.tbl, (list = []));
      list.push({ info, slot: info.slots[i], policy: p.policy, epoch: p.clock });
    }
    return out;
  }

  // cells already brought to a text in the open transaction (its marker's version)
  let memo = { version: -1, done: new Map<string, string>() };
  const doneIn = (version: number) => {
    if (memo.version !== version) memo = { version, done: new Map() };
    return memo.done;
  };

  /**
   * Local writes of the open transaction (marker version v): text edits derived from them, and
   * counters that were given something other than a number get their sum back.
   */
  function localWrites(cols: Map<string, Column[]>, v: number): void {
    for (const list of cols.values()) {
      for (const c of list) {
        if (c.policy === 'text') texts.derive(c.info, c.slot, c.epoch, v, doneIn(v));
        else {
          const V = quoteId(`${c.info.name}__crr_v`);
          const keys = ctx.prepare(`SELECT DISTINCT ${c.info.pks.map(quoteId).join(', ')} FROM ${V} WHERE db_version = ? AND site = 0 AND slot = ?
            AND typeof(val) NOT IN ('integer', 'real')`).raw(true).safeIntegers(true).all(v, c.slot) as unknown[][];
          for (const k of keys) counters.settle(c.info, k.map(fromSqlite), c.slot, 'restore');
        }
      }
    }
  }

  return {
    /** whether a change is a contribution or a text state rather than a cell version */
    isExtra: (c: Change) => c.kind !== undefined,

    /** checks a contribution or text state from a peer beyond input-limits.ts's checks */
    validate(c: Change, i: number): void {
      if (c.kind === 'counter') {
        if (!(typeof c.val === 'bigint' || (typeof c.val === 'number' && Number.isFinite(c.val)))) throw new ChangeRefused(`change ${i}: a counter contribution must be a number`);
        if (c.col_version < 1) throw new ChangeRefused(`change ${i}: a counter contribution counts at least one write`);
      } else if (c.kind === 'text') {
        // (its contents are checked where it is merged: text-crdt.ts)
        if (!(c.val instanceof Uint8Array) || c.val.length > MAX_STATE) throw new ChangeRefused(`change ${i}: a text state must be a blob of at most ${MAX_STATE} bytes`);
      } else throw new ChangeRefused(`change ${i}: unknown kind ${JSON.stringify(c.kind)}`);
      if (c.cid === '-1') throw new ChangeRefused(`change ${i}: a ${c.kind} change names a column`);
    },

    /** Before a merge: this transaction's local writes so far become edits (index.ts). */
    beforeMerge(): void {
      const v = markerStmt.get() as number | undefined;
      if (v === undefined) return;
      const cols = columns();
      if (cols.size) localWrites(cols, v);
    },

    /** Before a seal (marker version v); returns whether it wrote anything. */
    beforeSeal(v: number): boolean {
      const cols = columns();
      if (!cols.size) return false;
      localWrites(cols, v);
      return true;
    },

    /**
     * Merges a batch's contributions and text states (validated), then settles every counter
     * and text cell the batch touched (`plain`: its cell versions) so the column holds the sum
     * or the text ("restore": applyChanges is our sync).
     */
    merge(extra: { change: Change; pk: SqlValue[] }[], plain: Change[], plainPks: SqlValue[][]): void {
      const cols = columns();
      if (!cols.size && !extra.length) return;
      const byTable = new Map<string, { change: Change; pk: SqlValue[] }[]>();
      for (const e of extra) {
        let list = byTable.get(e.change.table);
        if (!list) byTable.set(e.change.table, (list = []));
        list.push(e);
      }
      for (const [table, items] of byTable) {
        const info = ctx.tables().get(table)!;
        const changed = counters.merge(info, items.filter((x) => x.change.kind === 'counter')) + texts.merge(info, items.filter((x) => x.change.kind === 'text'));
        if (changed) noteStmt.get(changed, table);
      }
      const cells: Cell[] = [];
      const cellOf = (change: Change, pk: SqlValue[]) => {
        const info = ctx.tables().get(change.table);
        if (!info || change.cid === '-1' || !cols.has(change.table)) return;
        cells.push({ table: change.table, pk: pk.map(toSqlite), slot: info.slots[info.columns.indexOf(change.cid)] });
      };
      for (const { change, pk } of extra) cellOf(change, pk);
      plain.forEach((change, i) => cellOf(change, plainPks[i]));
      settle(cols, cells, 'restore');
    },

    /** The counter and text cells INSERT INTO crsql_changes staged (read before they merge). */
    stagedCells(tables: Iterable<string>): Cell[] {
      const cols = columns();
      const out: Cell[] = [];
      for (const t of tables) {
        const list = cols.get(t);
        if (!list) continue;
        const info = list[0].info;
        const P = info.pks.map((_, i) => `p${i}`).join(', ');
        // (rows staged whole, from JS: changes-insert.ts, have every cell)
        const rows = ctx.prepare(`SELECT ${P}, slot FROM temp.${quoteId(`${t}__crr_in`)} WHERE slot IN (${list.map((c) => c.slot).join(', ')})
          UNION SELECT ${P}, v.column1 FROM ${wholeTable(t)} CROSS JOIN (VALUES ${list.map((c) => `(${c.slot})`).join(', ')}) v`)
          .raw(true).safeIntegers(true).all() as unknown[][];
        for (const r of rows) out.push({ table: t, pk: r.slice(0, -1), slot: Number(r[r.length - 1]) });
      }
      return out;
    },

    /** After INSERT INTO crsql_changes merged: what it left in those cells counts here ("adopt"). */
    adopt(cells: Cell[]): void {
      if (cells.length) settle(columns(), cells, 'adopt');
    },

    /** A column's policy changed (here: `local`, or from a peer), inside the transaction that changed it. */
    policyChanged(table: string, cid: string, policy: string, local: boolean): void {
      const info = ctx.tables().get(table);
      if (!info) return;
      // the counting triggers exist while a column of the table is a counter
      const counting = ctx.prepare(HAS_COUNTER_SQL).get(table) !== undefined;
      for (const sql of counting ? counterTriggersSql(info) : dropCounterTriggersSql(table)) ctx.prepare(sql).run();
      if (policy !== 'counter' || !fits(info, cid, policy)) return;
      counters.started(info, info.slots[info.columns.indexOf(cid)], local);
    },

    /** Whether `policy` can be set on this column here; the reason when not. */
    refusal(table: string, cid: string, policy: string): string | null {
      const info = ctx.tables().get(table);
      if (!info || (policy !== 'counter' && policy !== 'text')) return null;
      if (policy === 'text' && !ctx.history) return 'text merging needs cell history (this file has it switched off)';
      if (!fits(info, cid, policy)) {
        return policy === 'counter' ? `column ${cid} is not numeric (counter needs INTEGER, REAL or NUMERIC)` : `column ${cid} is not a TEXT column`;
      }
      return null;
    },

    /** Who contributed what to a counter cell in its row's current life. */
    contributions(table: string, pk: SqlValue[], cid: string): Contribution[] {
      const info = ctx.tables().get(table);
      if (!info || !info.columns.includes(cid)) return [];
      return counters.contributions(info, pk, info.slots[info.columns.indexOf(cid)]);
    },
  };

  function settle(cols: Map<string, Column[]>, cells: Cell[], mode: 'restore' | 'adopt'): void {
    const v = markerStmt.get() as number | undefined;
    const done = doneIn(v ?? -1);
    const seen = new Set<string>();
    for (const cell of cells) {
      const col = cols.get(cell.table)?.find((c) => c.slot === cell.slot);
      if (!col) continue;
      const key = `${cell.table}\0${JSON.stringify(cell.pk, (_, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Buffer ? x.toString('hex') : x))}\0${cell.slot}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (col.policy === 'counter') counters.settle(col.info, cell.pk.map((x) => fromSqlite(x)), cell.slot, mode);
      else texts.settle(col.info, cell.pk, cell.slot, col.epoch, mode, done);
    }
  }
}

export type PolicyColumns = ReturnType<typeof createPolicyColumns>;
