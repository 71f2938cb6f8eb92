// The engine's history API (CrrHistory in types.ts): reading cell history and conflicts,
// "Keep this value", merge policies and retention. The SQL lives in history-sql.ts; the model is
// described in HISTORY.md. History travels with the changes (change-pages.ts), so there is no
// separate route to serve here.
import type Database from 'better-sqlite3';
import type { SqlValue } from '../../shared/values.ts';
import type { CellVersion, Conflict, CrrHistory, MergePolicy, VersionRef } from './types.ts';
import { MERGE_POLICIES } from './types.ts';
import { quoteId, type TableInfo } from './table-info.ts';
import { forksTable, nameBySlot, pkMatch, rowsTable, versionsTable } from './clock-tables.ts';
import { forksSelect, versionsSelect, wonSql } from './history-sql.ts';
import { cellWriteSqls } from './local-triggers.ts';
import { compareValues } from './compare-values.ts';
import { fromSqlite } from './change-pages.ts';
import { notifyAll } from './notify.ts';
import type { PolicyColumns } from './policy-columns.ts';

export interface HistoryContext {
  prepare: (sql: string) => Database.Statement;
  /** the connection's (engine-wrapped) transaction, so local writes are sealed and announced */
  transaction: <T>(fn: () => T) => T;
  tables: () => Map<string, TableInfo>;
  siteId: Uint8Array;
  /** make reads current (schema repair, outside writes sealed) */
  refresh: () => void;
  /** counter and text columns: type checks, what a policy change starts, contributions */
  policy: PolicyColumns;
  /** a peer's name for a column as this copy's schema log routes it (renames followed; dropped here) */
  route: (table: string, cid: string) => { table: string; cid: string; dropped: boolean; removed?: boolean };
}

/** a policy entry meeting another for the same column: the higher clock wins, then the higher site */
export const POLICY_WINS = `ON CONFLICT DO UPDATE SET policy = excluded.policy, clock = excluded.clock, site = excluded.site
  WHERE excluded.clock > clock OR (excluded.clock = clock AND excluded.site > site)`;

type Row = Record<string, unknown>;
const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const bytes = (v: unknown) => (v instanceof Uint8Array ? new Uint8Array(v) : null);
const toSqlite = (v: SqlValue): unknown => (v instanceof Uint8Array ? Buffer.from(v) : v);
const sameBytes = (a: Uint8Array | null, b: Uint8Array | null) => (a === null || b === null ? a === b : Buffer.compare(a, b) === 0);

export function createHistory(ctx: HistoryContext) {
  const listeners = new Set<(tables: string[]) => void>();
  let pending = new Set<string>();
  const cache = new Map<string, Database.Statement>();
  const stmt = (sql: string) => {
    let s = cache.get(sql);
    if (!s) {
      s = ctx.prepare(sql).safeIntegers(true);
      cache.set(sql, s);
    }
    return s;
  };
  const run = (sql: string, ...params: unknown[]) => ctx.prepare(sql).run(...params);

  function info(table: string): TableInfo {
    const t = ctx.tables().get(table);
    if (!t) throw new Error(`no CRR table named ${JSON.stringify(table)}`);
    return t;
  }
  function slotOf(t: TableInfo, cid: string): number {
    const i = t.columns.indexOf(cid);
    if (i < 0) throw new Error(`table ${t.name} has no column ${JSON.stringify(cid)}`);
    return t.slots[i];
  }
  function checkPk(t: TableInfo, pk: SqlValue[]): void {
    if (!Array.isArray(pk) || pk.length !== t.pks.length) throw new Error(`a key of ${t.name} has ${t.pks.length} value(s)`);
  }
  const pkParams = (t: TableInfo) => t.pks.map((_, i) => `@p${i}`);
  const bindPk = (pk: SqlValue[]) => Object.fromEntries(pk.map((v, i) => [`p${i}`, toSqlite(v)]));
  function ordOf(site: Uint8Array | null): number | null {
    if (site === null) return null;
    const ord = stmt('SELECT ord FROM crr_sites WHERE site_id = ?').pluck().get(Buffer.from(site));
    return ord === undefined ? -1 : Number(ord);
  }

  /** SELECT list giving everything a CellVersion needs from versions h (versionsSelect) */
  const versionColumns = (t: TableInfo, where: string, won = true) => `${t.pks.map((p, i) => `h.${quoteId(p)} AS p${i}`).join(', ')},
    ${nameBySlot(t, 'h.slot')} AS cid, h.slot, h.cl, h.col_version, s.site_id, h.val, ps.site_id AS parent_site_id, h.parent_cv,
    h.written_at, h.seen_at, h.db_version, rs.site_id AS res_site_id, h.res_cv, h.res_members, ${won ? wonSql(t, 'h') : '0'} AS won
    FROM (${versionsSelect(t, where)}) h JOIN crr_sites s ON s.ord = h.site LEFT JOIN crr_sites ps ON ps.ord = h.parent_site
      LEFT JOIN crr_sites rs ON rs.ord = h.res_site`;

  function toVersion(t: TableInfo, r: Row): CellVersion {
    const parentCv = num(r.parent_cv);
    return {
      table: t.name,
      pk: t.pks.map((_, i) => fromSqlite(r[`p${i}`])),
      cid: String(r.cid),
      cl: Number(r.cl),
      col_version: Number(r.col_version),
      site_id: bytes(r.site_id)!,
      val: fromSqlite(r.val),
      parent: parentCv === null ? null : { site_id: bytes(r.parent_site_id), col_version: parentCv },
      // a version written here was written when it was seen
      written_at: num(r.written_at) ?? (sameBytes(bytes(r.site_id), ctx.siteId) ? num(r.seen_at) : null),
      seen_at: Number(r.seen_at ?? 0),
      db_version: Number(r.db_version),
      won: Number(r.won) === 1,
      resolves: r.res_cv === null ? null : { site_id: bytes(r.res_site_id), col_version: Number(r.res_cv), versions: Number(r.res_members) },
    };
  }

  /** cr-sqlite's order: higher col_version, then the larger value; then the larger site id */
  const byRank = (a: CellVersion, b: CellVersion) =>
    b.col_version - a.col_version || compareValues(b.val, a.val) || Buffer.compare(Buffer.from(b.site_id), Buffer.from(a.site_id));

  const keyWhere = (t: TableInfo) => pkMatch(t, 'x', pkParams(t));

  function forkVersions(t: TableInfo, pk: SqlValue[], slot: number, cl: number, parentOrd: number | null, parentCv: number): CellVersion[] {
    const rows = stmt(
      `SELECT ${versionColumns(t, keyWhere(t))} WHERE h.slot = @slot AND h.cl = @cl AND h.parent_site IS @ps AND h.parent_cv = @pcv`,
    ).all({ ...bindPk(pk), slot, cl, ps: parentOrd, pcv: parentCv }) as Row[];
    return rows.map((r) => toVersion(t, r)).sort(byRank);
  }

  function conflictsOf(t: TableInfo, unresolvedOnly: boolean, limit: number): Conflict[] {
    if (!t.columns.length) return [];
    const forks = stmt(
      `SELECT f.*, ps.site_id AS parent_site_id FROM (${forksSelect(t)}) f LEFT JOIN crr_sites ps ON ps.ord = f.parent_site
       WHERE @all OR f.resolved = 0 ORDER BY f.seen_version DESC LIMIT @limit`,
    ).all({ all: unresolvedOnly ? 0 : 1, limit }) as Row[];
    // counter and text columns keep everyone's work: their forks are history, never conflicts
    return forks.filter((f) => f.policy !== 'counter' && f.policy !== 'text').map((f) => {
      const pk = t.pks.map((p) => fromSqlite(f[p]));
      const slot = Number(f.slot);
      const versions = forkVersions(t, pk, slot, Number(f.cl), num(f.parent_site), Number(f.parent_cv));
      return {
        table: t.name,
        pk,
        cid: t.columns[t.slots.indexOf(slot)],
        cl: Number(f.cl),
        parent: { site_id: bytes(f.parent_site_id), col_version: Number(f.parent_cv) },
        versions,
        policy: String(f.policy) as MergePolicy,
        resolved: Number(f.resolved) === 1,
        seen_at: Math.max(0, ...versions.map((v) => v.seen_at)),
      };
    });
  }

  function noteChanged(tables: Iterable<string>): void {
    for (const t of tables) pending.add(t);
  }

  /** After the transaction: tell listeners which tables' history changed. */
  function flush(): void {
    if (pending.size === 0) return;
    const tables = [...pending];
    pending = new Set();
    notifyAll(listeners, tables, 'history');
  }

  function enabled(): boolean {
    return Number(stmt(`SELECT value FROM crr_state WHERE key = 'history'`).pluck().get() ?? 1) === 1;
  }

  function retention(): number {
    return Number(stmt(`SELECT value FROM crr_state WHERE key = 'history_retention'`).pluck().get() ?? 20);
  }

  /**
   * Deletes version rows beyond the newest `keep` of each cell (whose versions changed since
   * db_version `since`), never the current one, a fork's member, or a resolution.
   */
  function prune(keep: number, since = 0): number {
    let removed = 0;
    ctx.transaction(() => {
      for (const t of ctx.tables().values()) {
        if (!t.columns.length) continue;
        const V = versionsTable(t.name);
        const F = forksTable(t.name);
        const pk = t.pks.map(quoteId);
        const key = (a: string, b: string) => pk.map((c) => `${a}.${c} = ${b}.${c}`).join(' AND ');
        // the cells changed since `since` that hold at least `keep` version rows: only they can
        // lose one (checked first: pruning every touched cell's window cost a merge of 60k
        // versions a quarter of its time, to remove nothing)
        const cells = `SELECT ${[...pk, 'slot'].map((c) => `c.${c}`).join(', ')} FROM ${V} c WHERE c.db_version > @since
          AND (SELECT count(*) FROM ${V} y WHERE ${key('y', 'c')} AND y.slot = c.slot) >= @keep`;
        if (!stmt(`SELECT EXISTS (${cells})`).pluck().get({ keep, since })) continue;
        const gone = stmt(
          `DELETE FROM ${V} WHERE (${[...pk, 'slot', 'lost', 'cl', 'col_version', 'site'].join(', ')}) IN (
             SELECT ${[...pk, 'slot', 'lost', 'cl', 'col_version', 'site'].join(', ')} FROM (
               SELECT h.*, row_number() OVER (PARTITION BY ${pk.map((c) => `h.${c}`).join(', ')}, h.slot
                   ORDER BY h.cl DESC, h.col_version DESC, h.lost, s.site_id DESC) AS rn
               FROM ${V} h JOIN crr_sites s ON s.ord = h.site
               WHERE (${[...pk, 'slot'].map((c) => `h.${c}`).join(', ')}) IN (${cells})) h
             WHERE rn > @keep AND h.res_cv IS NULL
               AND NOT EXISTS (SELECT 1 FROM ${F} f WHERE ${key('f', 'h')} AND f.slot = h.slot AND f.cl = h.cl
                 AND f.parent_site = coalesce(h.parent_site, -1) AND f.parent_cv = h.parent_cv)
               AND NOT EXISTS (SELECT 1 FROM ${rowsTable(t.name)} r WHERE ${key('r', 'h')} AND r.cl = h.cl AND h.lost = 0
                 AND h.col_version = (SELECT max(y.col_version) FROM ${V} y WHERE ${key('y', 'h')} AND y.slot = h.slot AND y.lost = 0 AND y.cl = h.cl)))
            RETURNING has_first`,
        ).all({ keep, since }) as { has_first: unknown }[];
        // a deleted row that held a displaced first version's value took that version with it
        removed += gone.length + gone.filter((g) => g.has_first !== null).length;
        // a first version kept in a newer row's has_first counts as the cell's oldest version
        removed += run(
          `UPDATE ${V} SET has_first = NULL, first_val = NULL WHERE has_first = 1
             AND (${[...pk, 'slot'].join(', ')}) IN (${cells})
             AND (SELECT count(*) FROM ${V} y WHERE ${key('y', V)} AND y.slot = ${V}.slot AND (y.cl > ${V}.cl OR (y.cl = ${V}.cl AND y.col_version > 1))) >= @keep
             AND NOT EXISTS (SELECT 1 FROM ${F} f WHERE ${key('f', V)} AND f.slot = ${V}.slot AND f.cl = ${V}.cl AND f.parent_site = -1
               AND f.parent_cv = 0)`,
          { keep, since },
        ).changes;
      }
    });
    return removed;
  }

  const api: CrrHistory = {
    enabled,

    cell(table, pk, cid) {
      ctx.refresh();
      const t = info(table);
      checkPk(t, pk);
      const slot = slotOf(t, cid);
      const rows = stmt(`SELECT ${versionColumns(t, keyWhere(t))} WHERE h.slot = @slot
        ORDER BY h.cl DESC, h.col_version DESC, h.db_version DESC`).all({ ...bindPk(pk), slot }) as Row[];
      return rows.map((r) => toVersion(t, r));
    },

    activity(table, limit = 50) {
      ctx.refresh();
      const t = info(table);
      if (!t.columns.length) return [];
      // the newest versions (version rows by db_version, implied ones by their row's clock):
      // a window of recent db_versions, widened until it holds `limit` versions or everything
      const V = versionsTable(t.name);
      const top = Number(stmt(`SELECT max(coalesce((SELECT max(db_version) FROM ${V}), 0), coalesce((SELECT max(i_version) FROM ${rowsTable(t.name)}), 0))`).pluck().get());
      for (let span = 1; ; span *= 4) {
        const floor = top - span;
        const rows = stmt(
          `SELECT ${versionColumns(t, '1')} WHERE h.db_version > @floor ORDER BY h.db_version DESC, h.seen_at DESC LIMIT @limit`,
        ).all({ floor, limit }) as Row[];
        if (rows.length >= limit || floor <= 0) return rows.map((r) => toVersion(t, r));
      }
    },

    writeSize(table, dbVersion, site) {
      const t = info(table);
      const ord = ordOf(site);
      const rows = rowsTable(t.name);
      const V = versionsTable(t.name);
      const columns = t.since.filter((s) => s <= dbVersion).length;
      const implied = Number(stmt(`SELECT count(*) FROM ${rows} WHERE i_version = ? AND i_site = ?`).pluck().get(dbVersion, ord));
      const pk = t.pks.map(quoteId).join(', ');
      const v = t.columns.length
        ? (stmt(`SELECT count(*) AS cells, count(DISTINCT slot) AS slots, (SELECT count(*) FROM (SELECT DISTINCT ${pk} FROM ${V} WHERE db_version = @v AND site = @s)) AS keys
             FROM ${V} WHERE db_version = @v AND site = @s`).get({ v: dbVersion, s: ord }) as Row)
        : { cells: 0, slots: 0, keys: 0 };
      return {
        cells: implied * columns + Number(v.cells),
        rows: implied + Number(v.keys),
        columns: Math.max(implied ? columns : 0, Number(v.slots)),
      };
    },

    conflicts(options = {}) {
      ctx.refresh();
      const tables = options.table ? [info(options.table)] : [...ctx.tables().values()];
      const limit = options.limit ?? 1000;
      return tables
        .flatMap((t) => conflictsOf(t, options.unresolvedOnly ?? false, limit))
        .sort((a, b) => b.seen_at - a.seen_at)
        .slice(0, limit);
    },

    unresolvedCount() {
      ctx.refresh();
      let n = 0;
      for (const t of ctx.tables().values()) {
        if (t.columns.length) n += Number(stmt(`SELECT count(*) FROM (${forksSelect(t)}) WHERE resolved = 0`).pluck().get());
      }
      return n;
    },

    resolve(ref, keep) {
      const t = info(ref.table);
      checkPk(t, ref.pk);
      const slot = slotOf(t, ref.cid);
      const i = t.slots.indexOf(slot);
      ctx.transaction(() => {
        const parentOrd = ordOf(ref.parent.site_id);
        if (parentOrd === -1) throw new Error('no such conflict: its parent version is unknown here');
        const versions = forkVersions(t, ref.pk, slot, ref.cl, parentOrd, ref.parent.col_version);
        if (versions.length < 2) throw new Error('no such conflict (it may have been pruned or the row re-created)');
        const chosen = versions.find((v) => sameBytes(v.site_id, keep));
        if (!chosen) throw new Error('the value to keep is not one of the conflict’s versions');
        const alive = stmt(`SELECT cl FROM ${rowsTable(t.name)} r WHERE ${pkMatch(t, 'r', pkParams(t))}`).pluck().get(bindPk(ref.pk));
        if (alive === undefined || Number(alive) !== ref.cl) throw new Error('the row was deleted or re-created since this conflict: nothing to keep');
        const where = pkMatch(t, 'x', pkParams(t));
        const current = stmt(`SELECT ${quoteId(ref.cid)} FROM ${quoteId(t.name)} x WHERE ${where}`).pluck().get(bindPk(ref.pk));
        const params = { ...bindPk(ref.pk), val: toSqlite(chosen.val), old: current };
        if (compareValues(fromSqlite(current), chosen.val) === 0) {
          // the same value: the UPDATE trigger would not fire; write the version directly
          for (const sql of cellWriteSqls(t, i, pkParams(t), '@val', '@old', enabled())) ctx.prepare(sql).run(params);
        } else {
          ctx.prepare(`UPDATE ${quoteId(t.name)} AS x SET ${quoteId(ref.cid)} = @val WHERE ${where}`).run(params);
        }
        const V = versionsTable(t.name);
        run(
          `UPDATE ${V} SET res_site = @ps, res_cv = @pcv, res_members = @n
           WHERE ${pkMatch(t, V, pkParams(t))} AND slot = @slot AND lost = 0 AND cl = @cl AND site = 0
             AND col_version = (SELECT max(y.col_version) FROM ${V} y WHERE ${pkMatch(t, 'y', pkParams(t))} AND y.slot = @slot AND y.lost = 0 AND y.cl = @cl)`,
          { ...bindPk(ref.pk), ps: parentOrd, pcv: ref.parent.col_version, n: versions.length, slot, cl: ref.cl },
        );
        noteChanged([t.name]);
      });
    },

    setPolicy(table, cid, policy) {
      const t = info(table);
      slotOf(t, cid);
      if (!MERGE_POLICIES.includes(policy)) throw new Error(`unknown merge policy ${JSON.stringify(policy)} (one of ${MERGE_POLICIES.join(', ')})`);
      const refusal = ctx.policy.refusal(table, cid, policy);
      if (refusal) throw new Error(`cannot merge ${table}.${cid} as ${policy}: ${refusal}`);
      ctx.transaction(() => {
        const was = stmt('SELECT policy FROM crr_policies WHERE tbl = ? AND cid = ?').pluck().get(table, cid) ?? 'lww';
        // setting the policy it has is nothing (a new setting would start a new text epoch)
        if (was === policy) return;
        const clock = Number(stmt('SELECT coalesce(max(clock), 0) + 1 FROM crr_policies').pluck().get());
        run(
          `INSERT INTO crr_policies (tbl, cid, policy, clock, site) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT DO UPDATE SET policy = excluded.policy, clock = excluded.clock, site = excluded.site`,
          table,
          cid,
          policy,
          clock,
          Buffer.from(ctx.siteId),
        );
        ctx.policy.policyChanged(table, cid, policy, true);
        noteChanged([table]);
      });
    },

    contributions(table, pk, cid) {
      ctx.refresh();
      const t = info(table);
      checkPk(t, pk);
      slotOf(t, cid);
      return ctx.policy.contributions(table, pk, cid);
    },

    policies() {
      return (stmt('SELECT tbl, cid, policy, clock, site FROM crr_policies ORDER BY tbl, cid').all() as Row[]).map((r) => ({
        table: String(r.tbl),
        cid: String(r.cid),
        policy: String(r.policy) as MergePolicy,
        clock: Number(r.clock),
        site_id: bytes(r.site)!,
      }));
    },

    applyPolicies(entries) {
      let changed = 0;
      const tables = new Set<string>();
      ctx.transaction(() => {
        for (const e of entries) {
          if (!e || typeof e.table !== 'string' || typeof e.cid !== 'string' || !MERGE_POLICIES.includes(e.policy)) {
            throw new TypeError('policy entry malformed');
          }
          if (!Number.isSafeInteger(e.clock) || !(e.site_id instanceof Uint8Array) || e.site_id.length !== 16) throw new TypeError('policy entry malformed');
          // a peer that has not applied a rename or drop made here still names the old column
          const to = ctx.route(e.table, e.cid);
          if (to.dropped || to.removed) continue;
          const r = run(`INSERT INTO crr_policies (tbl, cid, policy, clock, site) VALUES (?, ?, ?, ?, ?) ${POLICY_WINS}`, to.table, to.cid, e.policy, e.clock, Buffer.from(e.site_id));
          if (r.changes) {
            changed++;
            tables.add(to.table);
            ctx.policy.policyChanged(to.table, to.cid, e.policy, false);
          }
        }
        noteChanged(tables);
      });
      return changed;
    },

    prune(keep) {
      return prune(keep ?? retention());
    },

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { api, noteChanged, flush, prune, retention };
}

export type { VersionRef };
