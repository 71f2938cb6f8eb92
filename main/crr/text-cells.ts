// Merge policy `text` (TEXT columns): character-level merging. Per CRR table t, "t__crr_text"
// holds one CRDT state (text-crdt.ts) per (cell, row life, policy epoch), compacted, stamped
// with the db_version that last changed it and the site that did (so a peer is not sent back
// what it sent). The table's column keeps the plain text.
//
// Local writes, by any program, are recorded by the ordinary local-write triggers (the new full
// text as the cell's next version): a character diff cannot be computed in pure SQL. The engine
// derives the character edits on its own connection from (the state's text, the column's text)
// before anything else happens to the transaction's versions: when it seals them (before the
// commit of its own writes, or at the poll that notices another program's commit) and before it
// merges in the same transaction (so an edit made by another program between polls is diffed
// against what that program replaced, not against a peer's edits). Those edits are this replica's
// Yjs ops (its own client id); the merged state travels in the sync stream as a change of kind
// 'text', whose merge is idempotent (re-delivery, duplicates, any order).
//
// After a merge, the column is made to hold the state's text (as a local version, so the current
// version and cr-sqlite peers see it too). The policy epoch is the policy setting's clock: when a
// column becomes `text` again after a spell of `lww`, states of the earlier spell no longer count
// (their text is not the column's any more), and the first edit starts a new state.
import type Database from 'better-sqlite3';
import type { SqlValue } from '../../shared/values.ts';
import { bytesToHex } from '../../shared/values.ts';
import type { Change } from './types.ts';
import type { TableInfo } from './table-info.ts';
import { quoteId } from './table-info.ts';
import { pkMatch, rowsTable, versionsTable } from './clock-tables.ts';
import type { Branch } from './change-pages.ts';
import { fromSqlite } from './change-pages.ts';
import { packPrimaryKey } from './pack-pk.ts';
import { bindKey, cellBranch, cellTableSql, keyParams, statementsPerTable } from './cell-rows.ts';
import { TX_VERSION } from './implied.ts';
import { clientOfSite, editTo, genesis, genesisClient, mergeStates, StateRefused, textOfState } from './text-crdt.ts';
import { ChangeRefused } from './input-limits.ts';

export const textTable = (table: string) => quoteId(`${table}__crr_text`);

export const textTablesSql = (info: TableInfo) => cellTableSql(info, textTable(info.name), 'text', 'crr_epoch', 'crr_state BLOB NOT NULL, site INTEGER NOT NULL');

/** The text a cell's value stands for: NULL, numbers' text forms aside, a non-text value is empty. */
const textOf = (v: unknown): string => (typeof v === 'string' ? v : '');
/** whether a column value agrees with a state's text (NULL or a blob agree with an empty text) */
export const agrees = (value: unknown, text: string) => textOf(value) === text && (typeof value === 'string' || text === '');

export interface TextContext {
  prepare: (sql: string) => Database.Statement;
  siteId: Uint8Array;
  siteOrd: (site: Uint8Array) => number;
  /** opens the transaction's marker if it is not (what the state rows are stamped with) */
  openMarker: () => void;
  /** the open transaction's version (undefined: none open) */
  txVersion: () => number | undefined;
}

const toSqlite = (v: SqlValue): unknown => (v instanceof Uint8Array ? Buffer.from(v) : v);
type Key = unknown[];

export function createTextCells(ctx: TextContext) {
  const client = clientOfSite(ctx.siteId);
  const stmt = statementsPerTable(ctx.prepare);
  const T = (info: TableInfo) => textTable(info.name);

  // the texts of the states this transaction stored, so settling a cell does not parse its state again
  let stored = { version: -1, texts: new Map<string, string>() };
  const storedKey = (info: TableInfo, pk: Key, slot: number, cl: number, epoch: number) => `${info.name}\0${packedHex(pk)}\0${slot}\0${cl}\0${epoch}`;
  function textOfStored(info: TableInfo, pk: Key, slot: number, cl: number, epoch: number): string | null {
    const known = stored.version === ctx.txVersion() ? stored.texts.get(storedKey(info, pk, slot, cl, epoch)) : undefined;
    if (known !== undefined) return known;
    const state = loadState(info, pk, slot, cl, epoch);
    return state ? textOfState(state) : null;
  }

  function loadState(info: TableInfo, pk: Key, slot: number, cl: number, epoch: number): Uint8Array | null {
    const s = stmt(info, 'load', () => `SELECT crr_state FROM ${T(info)} WHERE ${pkMatch(info, T(info), keyParams(info))} AND slot = @slot AND cl = @cl AND crr_epoch = @epoch`)
      .pluck()
      .get({ ...bindKey(pk), slot, cl, epoch }) as Buffer | undefined;
    return s ? new Uint8Array(s) : null;
  }

  function storeState(info: TableInfo, pk: Key, slot: number, cl: number, epoch: number, state: Uint8Array, siteOrd: number, text?: string): void {
    ctx.openMarker();
    const v = ctx.txVersion()!;
    if (stored.version !== v) stored = { version: v, texts: new Map() };
    stored.texts.set(storedKey(info, pk, slot, cl, epoch), text ?? textOfState(state));
    stmt(info, 'store', () => `INSERT INTO ${T(info)} (${info.pks.map(quoteId).join(', ')}, slot, cl, crr_epoch, crr_state, site, db_version)
      VALUES (${keyParams(info).join(', ')}, @slot, @cl, @epoch, @state, @site, ${TX_VERSION})
      ON CONFLICT DO UPDATE SET crr_state = excluded.crr_state, site = excluded.site, db_version = excluded.db_version`)
      .run({ ...bindKey(pk), slot, cl, epoch, state: Buffer.from(state), site: siteOrd });
  }

  /** The live row's life, the column's value and its implied clock, or null when the row is not alive. */
  function cell(info: TableInfo, pk: Key, slot: number): { cl: number; value: unknown; iVersion: number | null; iSite: number | null } | null {
    const col = quoteId(info.columns[info.slots.indexOf(slot)]);
    const r = stmt(info, `cell${slot}`, () => `SELECT r.cl AS cl, b.${col} AS value, CASE WHEN r.i_cl = r.cl THEN r.i_version END AS iv, r.i_site AS isite
      FROM ${rowsTable(info.name)} r JOIN ${quoteId(info.name)} b ON ${info.pks.map((p) => `b.${quoteId(p)} = r.${quoteId(p)}`).join(' AND ')}
      WHERE ${pkMatch(info, 'r', keyParams(info))} AND r.cl % 2 = 1`).get(bindKey(pk)) as { cl: bigint; value: unknown; iv: bigint | null; isite: bigint | null } | undefined;
    return r ? { cl: Number(r.cl), value: r.value, iVersion: r.iv === null ? null : Number(r.iv), iSite: r.isite === null ? null : Number(r.isite) } : null;
  }

  /**
   * The state a cell's first edit under the policy starts from: a genesis of the version the
   * edit replaced (its text inserted by a client id derived from the version's identity), which
   * every replica that edits from that same version builds byte for byte. A row inserted in this
   * transaction starts from its insert's version (so a replica that edits it first from there
   * builds the same). Returns the state and whether it holds anything.
   */
  function startingState(info: TableInfo, pk: Key, slot: number, cl: number, epoch: number, c: { value: unknown; iVersion: number | null; iSite: number | null }, v: number): Uint8Array | null {
    const V = versionsTable(info.name);
    const first = stmt(info, 'first', () => `SELECT v.has_first AS has_first, v.first_val AS first_val, v.parent_cv AS pcv, s.site_id AS psite,
        (SELECT p.val FROM ${V} p WHERE ${pkMatch(info, 'p', keyParams(info))} AND p.slot = @slot AND p.cl = @cl
          AND p.col_version = v.parent_cv AND p.site IS v.parent_site LIMIT 1) AS pval
      FROM ${V} v LEFT JOIN crr_sites s ON s.ord = v.parent_site
      WHERE ${pkMatch(info, 'v', keyParams(info))} AND v.slot = @slot AND v.cl = @cl AND v.site = 0 AND v.db_version = @v
      ORDER BY v.col_version LIMIT 1`)
      .get({ ...bindKey(pk), slot, cl, v }) as { has_first: unknown; first_val: unknown; pcv: unknown; psite: Buffer | null; pval: unknown } | undefined;
    let from: [site: string, cv: number, text: string];
    if (c.iVersion === v && c.iSite === 0) {
      // inserted here in this transaction: its first version (updated since: kept in has_first)
      from = [bytesToHex(ctx.siteId), 1, textOf(first && first.has_first !== null ? first.first_val : c.value)];
    } else if (first && first.pcv !== null && Number(first.pcv) > 0) {
      from = [first.psite ? bytesToHex(new Uint8Array(first.psite)) : '', Number(first.pcv), textOf(first.has_first !== null ? first.first_val : first.pval)];
    } else return null;
    return genesis(genesisClient([info.name, packedHex(pk), slot, cl, epoch, ...from]), from[2]);
  }

  /**
   * Local writes of transaction version `v` to text column `slot` (policy epoch `epoch`) become
   * this replica's character edits: each written cell's state is edited to the column's text.
   * `done` remembers cells already brought to a text in this transaction.
   */
  function derive(info: TableInfo, slot: number, epoch: number, v: number, done: Map<string, string>): void {
    const pkCols = info.pks.map(quoteId).join(', ');
    const written = stmt(info, `written${slot}`, () => `SELECT ${pkCols} FROM ${versionsTable(info.name)} WHERE db_version = @v AND site = 0 AND slot = @slot
      UNION SELECT ${pkCols} FROM ${rowsTable(info.name)} WHERE i_version = @v AND i_site = 0`)
      .raw(true)
      .all({ v, slot }) as Key[];
    for (const pk of written) {
      const key = `${info.name}\0${packedHex(pk)}:${slot}`;
      const c = cell(info, pk, slot);
      if (!c) continue;
      const to = textOf(c.value);
      if (done.get(key) === to) continue;
      done.set(key, to);
      let state = loadState(info, pk, slot, c.cl, epoch);
      const had = state !== null;
      state ??= startingState(info, pk, slot, c.cl, epoch, c, v) ?? genesis(0, '');
      const edited = editTo(state, client, to);
      if (edited) storeState(info, pk, slot, c.cl, epoch, edited, 0, to);
      else if (!had && to !== '') storeState(info, pk, slot, c.cl, epoch, state, 0, to);
    }
  }

  /** Merges incoming states; returns how many changed what this replica holds. */
  function merge(info: TableInfo, items: { change: Change; pk: SqlValue[] }[]): number {
    let changed = 0;
    for (const { change, pk } of items) {
      const key = pk.map(toSqlite);
      const slot = info.slots[info.columns.indexOf(change.cid)];
      const ours = loadState(info, key, slot, change.cl, change.col_version);
      let m: ReturnType<typeof mergeStates>;
      try {
        m = mergeStates(ours, change.val as Uint8Array);
      } catch (err) {
        // the whole batch rolls back with it
        if (err instanceof StateRefused) throw new ChangeRefused(`a text state of ${info.name}.${change.cid}: ${err.message}`);
        throw err;
      }
      if (!m.grew) continue;
      storeState(info, key, slot, change.cl, change.col_version, m.state, m.covers ? ctx.siteOrd(change.site_id) : 0, m.text);
      changed++;
    }
    return changed;
  }

  /**
   * Makes a text cell hold its state's text after a merge: `restore` writes the text (a local
   * version); `adopt` (a change merged through INSERT INTO crsql_changes: a cr-sqlite peer's
   * write) records the column's new text as this replica's character edits.
   */
  function settle(info: TableInfo, pk: Key, slot: number, epoch: number, mode: 'restore' | 'adopt', done: Map<string, string>): void {
    const c = cell(info, pk, slot);
    if (!c) return;
    const text = textOfStored(info, pk, slot, c.cl, epoch);
    if (text === null) return;
    const key = `${info.name}\0${packedHex(pk)}:${slot}`;
    if (agrees(c.value, text)) {
      done.set(key, textOf(c.value));
      return;
    }
    if (mode === 'adopt') {
      const edited = editTo(loadState(info, pk, slot, c.cl, epoch)!, client, textOf(c.value));
      if (edited) storeState(info, pk, slot, c.cl, epoch, edited, 0, textOf(c.value));
      done.set(key, textOf(c.value));
      return;
    }
    const col = quoteId(info.columns[info.slots.indexOf(slot)]);
    stmt(info, `write${slot}`, () => `UPDATE ${quoteId(info.name)} SET ${col} = @text WHERE ${pkMatch(info, quoteId(info.name), keyParams(info))}`)
      .run({ ...bindKey(pk), text });
    done.set(key, text);
  }

  return { derive, merge, settle };
}

const packedHex = (pk: Key) => bytesToHex(packPrimaryKey(pk.map(fromSqlite)));

/** The sync stream's branch for text states: one change per (cell, life, epoch), kind 'text'. */
export const textBranch = (info: TableInfo): Branch =>
  cellBranch(info, { table: textTable(info.name), last: 'crr_epoch', site: 'site', columns: ['site', 'crr_state'], kind: 'text' }, ([epoch, site, state], lookup) => ({
    val: new Uint8Array(state as Buffer), col_version: Number(epoch), site_id: lookup.site(site),
  }));
