// The engine's history API (CrrHistory in types.ts): reading cell history and conflicts,
// "Keep this value", merge policies, and the rows the history route of sync carries.
// The SQL lives in history-sql.ts; the model is described in HISTORY.md.
import type Database from 'better-sqlite3';
import type { SqlValue } from '../../shared/values.ts';
import type { CellVersion, Conflict, CrrHistory, HistoryEntry, MergePolicy, VersionRef } from './types.ts';
import { MERGE_POLICIES } from './types.ts';
import { quoteId, type TableInfo } from './table-info.ts';
import { pkMatch } from './clock-tables.ts';
import { forksSelect, histTable, isCurrentSql, NOW_MS, wonSql } from './history-sql.ts';
import { cellWriteSqls } from './local-triggers.ts';
import { packPrimaryKey, unpackPrimaryKey } from './pack-pk.ts';
import { compareValues } from './compare-values.ts';
import { fromSqlite } from './change-pages.ts';
import { notifyAll } from './notify.ts';

export interface HistoryContext {
  prepare: (sql: string) => Database.Statement;
  /** the connection's (engine-wrapped) transaction, so local writes are sealed and announced */
  transaction: <T>(fn: () => T) => T;
  tables: () => Map<string, TableInfo>;
  siteId: Uint8Array;
  /** make reads current (schema repair, outside writes sealed) */
  refresh: () => void;
}

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
  function column(t: TableInfo, cid: string): void {
    if (!t.columns.includes(cid)) throw new Error(`table ${t.name} has no column ${JSON.stringify(cid)}`);
  }
  function checkPk(t: TableInfo, pk: SqlValue[]): void {
    if (!Array.isArray(pk) || pk.length !== t.pks.length) throw new Error(`a key of ${t.name} has ${t.pks.length} value(s)`);
  }
  const pkParams = (t: TableInfo) => t.pks.map((_, i) => `@p${i}`);
  const bindPk = (pk: SqlValue[]) => Object.fromEntries(pk.map((v, i) => [`p${i}`, toSqlite(v)]));
  function ordOf(site: Uint8Array | null, create = false): number | null {
    if (site === null) return null;
    if (create) run('INSERT OR IGNORE INTO crr_sites (site_id) VALUES (?)', Buffer.from(site));
    const ord = stmt('SELECT ord FROM crr_sites WHERE site_id = ?').pluck().get(Buffer.from(site));
    return ord === undefined ? -1 : Number(ord);
  }

  /** SELECT list giving everything a CellVersion needs from history row h */
  const versionColumns = (t: TableInfo, won = true) => `h.hid, ${t.pks.map((p, i) => `h.${quoteId(p)} AS p${i}`).join(', ')}, h.cid, h.cl,
    h.col_version, s.site_id, h.val, ps.site_id AS parent_site_id, h.parent_cv, h.written_at, h.seen_at,
    rs.site_id AS res_site_id, h.res_cv, h.res_members, ${won ? wonSql(t, 'h') : '0'} AS won
    FROM ${histTable(t.name)} h JOIN crr_sites s ON s.ord = h.site LEFT JOIN crr_sites ps ON ps.ord = h.parent_site
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
      written_at: num(r.written_at),
      seen_at: Number(r.seen_at),
      won: Number(r.won) === 1,
      resolves: r.res_cv === null ? null : { site_id: bytes(r.res_site_id), col_version: Number(r.res_cv), versions: Number(r.res_members) },
    };
  }

  /** cr-sqlite's order: higher col_version, then the larger value; then the larger site id */
  const byRank = (a: CellVersion, b: CellVersion) =>
    b.col_version - a.col_version || compareValues(b.val, a.val) || Buffer.compare(Buffer.from(b.site_id), Buffer.from(a.site_id));

  function forkVersions(t: TableInfo, pk: SqlValue[], cid: string, cl: number, parentOrd: number | null, parentCv: number): CellVersion[] {
    const rows = stmt(
      `SELECT ${versionColumns(t)} WHERE ${pkMatch(t, 'h', pkParams(t))} AND h.cid = @cid AND h.cl = @cl
         AND h.parent_site IS @ps AND h.parent_cv = @pcv`,
    ).all({ ...bindPk(pk), cid, cl, ps: parentOrd, pcv: parentCv }) as Row[];
    return rows.map((r) => toVersion(t, r)).sort(byRank);
  }

  function conflictsOf(t: TableInfo, unresolvedOnly: boolean, limit: number): Conflict[] {
    if (!t.columns.length) return [];
    const forks = stmt(
      `SELECT f.*, ps.site_id AS parent_site_id FROM (${forksSelect(t)}) f LEFT JOIN crr_sites ps ON ps.ord = f.parent_site
       WHERE @all OR f.resolved = 0 ORDER BY f.seen_at DESC LIMIT @limit`,
    ).all({ all: unresolvedOnly ? 0 : 1, limit }) as Row[];
    return forks.map((f) => {
      const pk = t.pks.map((p) => fromSqlite(f[p]));
      const parentOrd = num(f.parent_site);
      return {
        table: t.name,
        pk,
        cid: String(f.cid),
        cl: Number(f.cl),
        parent: { site_id: bytes(f.parent_site_id), col_version: Number(f.parent_cv) },
        versions: forkVersions(t, pk, String(f.cid), Number(f.cl), parentOrd, Number(f.parent_cv)),
        policy: String(f.policy) as MergePolicy,
        resolved: Number(f.resolved) === 1,
        seen_at: Number(f.seen_at),
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

  function applyOne(e: HistoryEntry): boolean {
    const t = ctx.tables().get(e.table);
    if (!t || !t.columns.includes(e.cid)) return false;
    const pk = unpackPrimaryKey(e.pk);
    if (pk.length !== t.pks.length) throw new TypeError(`history: a key of ${t.name} has ${t.pks.length} value(s)`);
    const site = ordOf(e.site_id, true)!;
    const parentSite = e.parent ? ordOf(e.parent.site_id, true) : null;
    const resSite = e.resolves ? ordOf(e.resolves.site_id, true) : null;
    const H = histTable(t.name);
    const key = { ...bindPk(pk), cid: e.cid, cl: e.cl, cv: e.col_version, site };
    const existing = stmt(
      `SELECT hid, parent_cv, written_at, res_cv FROM ${H} h
       WHERE ${pkMatch(t, 'h', pkParams(t))} AND cid = @cid AND cl = @cl AND col_version = @cv AND site = @site`,
    ).get(key) as Row | undefined;
    const fields = {
      val: toSqlite(e.val),
      ps: parentSite,
      pcv: e.parent ? e.parent.col_version : null,
      wa: e.written_at,
      rs: resSite,
      rcv: e.resolves ? e.resolves.col_version : null,
      rm: e.resolves ? e.resolves.versions : null,
    };
    if (!existing) {
      stmt(
        `INSERT INTO ${H} (${t.pks.map(quoteId).join(', ')}, cid, cl, col_version, site, val, parent_site, parent_cv, written_at,
           seen_at, res_site, res_cv, res_members)
         VALUES (${pkParams(t).join(', ')}, @cid, @cl, @cv, @site, @val, @ps, @pcv, @wa, ${NOW_MS}, @rs, @rcv, @rm)`,
      ).run({ ...key, ...fields });
      return true;
    }
    const learnsParent = existing.parent_cv === null && e.parent !== null;
    const learnsRes = existing.res_cv === null && e.resolves !== null;
    const learnsTime = existing.written_at === null && e.written_at !== null;
    if (!learnsParent && !learnsRes && !learnsTime) return false;
    // a row that learns its parent or resolution moves to a new hid, so it travels on to others
    const move = learnsParent || learnsRes;
    stmt(
      `UPDATE ${H} SET hid = CASE WHEN @move THEN (SELECT max(hid) + 1 FROM ${H}) ELSE hid END,
         parent_site = CASE WHEN parent_cv IS NULL THEN @ps ELSE parent_site END, parent_cv = coalesce(parent_cv, @pcv),
         written_at = coalesce(written_at, @wa),
         res_site = CASE WHEN res_cv IS NULL THEN @rs ELSE res_site END, res_cv = coalesce(res_cv, @rcv),
         res_members = coalesce(res_members, @rm)
       WHERE hid = @hid`,
    ).run({ ...fields, move: move ? 1 : 0, hid: existing.hid });
    return true;
  }

  function validEntry(e: HistoryEntry, i: number): void {
    const where = `history entry ${i}`;
    if (!e || typeof e !== 'object' || typeof e.table !== 'string' || typeof e.cid !== 'string') throw new TypeError(`${where}: malformed`);
    if (!(e.pk instanceof Uint8Array)) throw new TypeError(`${where}: pk must be bytes`);
    if (!(e.site_id instanceof Uint8Array) || e.site_id.length !== 16) throw new TypeError(`${where}: site_id must be 16 bytes`);
    for (const k of ['cl', 'col_version'] as const) {
      if (!Number.isSafeInteger(e[k]) || e[k] < 1) throw new TypeError(`${where}: ${k} must be a positive integer`);
    }
    const ref = (r: VersionRef | null, what: string) => {
      if (r === null) return;
      if (typeof r !== 'object' || !Number.isSafeInteger(r.col_version) || r.col_version < 0) throw new TypeError(`${where}: ${what} malformed`);
      if (r.site_id !== null && !(r.site_id instanceof Uint8Array && r.site_id.length === 16)) throw new TypeError(`${where}: ${what} site malformed`);
    };
    ref(e.parent, 'parent');
    ref(e.resolves, 'resolves');
    if (e.resolves && (!Number.isSafeInteger(e.resolves.versions) || e.resolves.versions < 2)) throw new TypeError(`${where}: resolves.versions malformed`);
    if (e.written_at !== null && !Number.isFinite(e.written_at)) throw new TypeError(`${where}: written_at malformed`);
  }

  const api: CrrHistory = {
    enabled,

    cell(table, pk, cid) {
      ctx.refresh();
      const t = info(table);
      checkPk(t, pk);
      column(t, cid);
      const rows = stmt(`SELECT ${versionColumns(t)} WHERE ${pkMatch(t, 'h', pkParams(t))} AND h.cid = @cid
        ORDER BY h.cl DESC, h.col_version DESC, h.hid DESC`).all({ ...bindPk(pk), cid }) as Row[];
      return rows.map((r) => toVersion(t, r));
    },

    activity(table, limit = 50) {
      ctx.refresh();
      const t = info(table);
      const rows = stmt(`SELECT ${versionColumns(t)} ORDER BY h.hid DESC LIMIT ?`).all(limit) as Row[];
      return rows.map((r) => toVersion(t, r));
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
      column(t, ref.cid);
      ctx.transaction(() => {
        const parentOrd = ordOf(ref.parent.site_id);
        if (parentOrd === -1) throw new Error('no such conflict: its parent version is unknown here');
        const versions = forkVersions(t, ref.pk, ref.cid, ref.cl, parentOrd, ref.parent.col_version);
        if (versions.length < 2) throw new Error('no such conflict (it may have been pruned or the row re-created)');
        const chosen = versions.find((v) => sameBytes(v.site_id, keep));
        if (!chosen) throw new Error('the value to keep is not one of the conflict’s versions');
        const alive = stmt(`SELECT cl FROM ${quoteId(`${t.name}__crr_rows`)} r WHERE ${pkMatch(t, 'r', pkParams(t))}`)
          .pluck()
          .get(bindPk(ref.pk));
        if (alive === undefined || Number(alive) !== ref.cl) throw new Error('the row was deleted or re-created since this conflict: nothing to keep');
        const where = pkMatch(t, 'x', pkParams(t));
        const current = stmt(`SELECT ${quoteId(ref.cid)} FROM ${quoteId(t.name)} x WHERE ${where}`).pluck().get(bindPk(ref.pk));
        const params = { ...bindPk(ref.pk), val: toSqlite(chosen.val) };
        if (compareValues(fromSqlite(current), chosen.val) === 0) {
          // the same value: the UPDATE trigger would not fire; write the version directly
          for (const sql of cellWriteSqls(t, ref.cid, pkParams(t), '@val', enabled())) ctx.prepare(sql).run(params);
        } else {
          ctx.prepare(`UPDATE ${quoteId(t.name)} AS x SET ${quoteId(ref.cid)} = @val WHERE ${where}`).run(params);
        }
        if (enabled()) {
          run(
            `UPDATE ${histTable(t.name)} SET res_site = @ps, res_cv = @pcv, res_members = @n WHERE hid =
               (SELECT max(hid) FROM ${histTable(t.name)} h WHERE ${pkMatch(t, 'h', pkParams(t))} AND cid = @cid AND cl = @cl AND site = 0)`,
            { ...bindPk(ref.pk), ps: parentOrd, pcv: ref.parent.col_version, n: versions.length, cid: ref.cid, cl: ref.cl },
          );
        }
      });
    },

    setPolicy(table, cid, policy) {
      const t = info(table);
      column(t, cid);
      if (!MERGE_POLICIES.includes(policy)) throw new Error(`unknown merge policy ${JSON.stringify(policy)} (one of ${MERGE_POLICIES.join(', ')})`);
      ctx.transaction(() => {
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
      noteChanged([table]);
      });
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
        const r = run(
          `INSERT INTO crr_policies (tbl, cid, policy, clock, site) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT DO UPDATE SET policy = excluded.policy, clock = excluded.clock, site = excluded.site
           WHERE excluded.clock > clock OR (excluded.clock = clock AND excluded.site > site)`,
          e.table,
          e.cid,
          e.policy,
          e.clock,
          Buffer.from(e.site_id),
        );
        if (r.changes) {
          changed++;
          tables.add(e.table);
        }
      }
      noteChanged(tables);
      });
      return changed;
    },

    since(table, afterHid, limit, options = {}) {
      ctx.refresh();
      const t = ctx.tables().get(table);
      if (!t || !t.columns.length) return { entries: [], last: afterHid };
      // the bound first: another program may commit between two statements, and a row it adds
      // must not fall between what we read and where we say we stopped
      const top = Number(stmt(`SELECT coalesce(max(hid), 0) FROM ${histTable(t.name)}`).pluck().get());
      // a first version that is still the cell's value, in a db_version the change route has
      // already sent, reached the peer as a change (and it has no parent): it need not travel twice
      const rows = stmt(
        `SELECT ${versionColumns(t, false)} WHERE h.hid > @after AND h.hid <= @top AND h.parent_cv IS NOT NULL AND s.site_id IS NOT @exclude
           AND NOT (h.col_version = 1 AND h.res_cv IS NULL AND ${isCurrentSql(t, 'h', '@sent')})
         ORDER BY h.hid LIMIT @limit`,
      ).all({ after: afterHid, top, exclude: options.excludeSite ? Buffer.from(options.excludeSite) : null, sent: options.changesSentThrough ?? -1, limit }) as Row[];
      // nothing more to send below the bound: skip to it, past rows that were filtered out
      const last = rows.length < limit ? Math.max(top, afterHid) : Number(rows[rows.length - 1].hid);
      const entries = rows.map((r): HistoryEntry => {
        const { pk, seen_at: _seen, won: _won, ...rest } = toVersion(t, r);
        return { ...rest, pk: packPrimaryKey(pk) };
      });
      return { entries, last };
    },

    apply(entries) {
      if (!Array.isArray(entries)) throw new TypeError('history.apply expects an array');
      entries.forEach(validEntry);
      let n = 0;
      const tables = new Set<string>();
      ctx.transaction(() => {
        for (const e of entries) {
          if (applyOne(e)) {
            n++;
            tables.add(e.table);
          }
        }
        noteChanged(tables);
      });
      return n;
    },

    prune(retention) {
      const keep = retention ?? Number(stmt(`SELECT value FROM crr_state WHERE key = 'history_retention'`).pluck().get() ?? 20);
      let removed = 0;
      ctx.transaction(() => {
        for (const t of ctx.tables().values()) {
          if (!t.columns.length) continue;
          const H = histTable(t.name);
          const pkH = t.pks.map((p) => `h.${quoteId(p)}`);
          removed += run(
            `DELETE FROM ${H} WHERE hid IN (SELECT hid FROM (
               SELECT h.hid, h.res_cv, row_number() OVER (PARTITION BY ${pkH.join(', ')}, h.cid
                 ORDER BY h.cl DESC, h.col_version DESC, s.site_id DESC) AS rn,
                 EXISTS (SELECT 1 FROM ${H} x WHERE ${pkMatch(t, 'x', pkH)} AND x.cid = h.cid AND x.cl = h.cl
                   AND x.parent_site IS h.parent_site AND x.parent_cv = h.parent_cv AND x.hid <> h.hid) AS sibling
               FROM ${H} h JOIN crr_sites s ON s.ord = h.site)
             WHERE rn > ? AND NOT sibling AND res_cv IS NULL)`,
            keep,
          ).changes;
        }
      });
      return removed;
    },

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return { api, noteChanged, flush };
}
