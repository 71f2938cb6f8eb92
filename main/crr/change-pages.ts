// The sync stream: every version this replica has, page by page with bounded memory. Unlike
// crsql_changes (current versions only), it carries history too (superseded versions, losers,
// deleted lives, each with its parent and times), so a peer that pulls it holds the same cells,
// the same history and the same conflicts.
//
// A page walks one table and branch at a time along the branch's db_version index (then the
// clock's key), so no query sorts more than one page, however many changes a db_version holds
// (a backfill, a million-row import). Order is by table, branch, db_version, key, not by
// db_version overall: merging does not depend on order. A branch reads one SQL row per clock and
// unpivots it here: an implied clock is one row for all the cells of a row (its key packed once).
//
// A page range (from, to] is fixed when it starts: a clock rewritten meanwhile moves above `to`
// and is read by the next range, so resuming a range from its cursor misses nothing.
import type Database from 'better-sqlite3';
import type { Change, ChangePage, ChangePageCursor } from './types.ts';
import type { SqlValue } from '../../shared/values.ts';
import type { TableInfo } from './table-info.ts';
import { quoteId } from './table-info.ts';
import { deadTable, deadValue, rowsTable, versionsTable } from './clock-tables.ts';
import { packPrimaryKey } from './pack-pk.ts';

export function fromSqlite(v: unknown): SqlValue {
  if (v === null || typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new Uint8Array(v);
  throw new TypeError(`unexpected SQLite value ${String(v)}`);
}

const toSqlite = (v: SqlValue): unknown => (v instanceof Uint8Array ? Buffer.from(v) : v);

/** an implied first version's parent ("none"), shared by all of them: read-only */
const NO_PARENT = Object.freeze({ site_id: null, col_version: 0 });

interface RawChange {
  table: string;
  pk: Buffer;
  cid: string;
  val: unknown;
  col_version: bigint;
  db_version: bigint;
  site_id: Buffer;
  cl: bigint;
  seq: bigint;
}

/** A crsql_changes row (safe integers) as a Change. */
export function toChange(r: RawChange): Change {
  return {
    table: r.table,
    pk: new Uint8Array(r.pk),
    cid: r.cid,
    val: fromSqlite(r.val),
    col_version: Number(r.col_version),
    db_version: Number(r.db_version),
    site_id: new Uint8Array(r.site_id),
    cl: Number(r.cl),
    seq: Number(r.seq),
  };
}

/** What a branch needs from the engine while it unpivots rows. */
export interface Lookup {
  site(ord: unknown): Uint8Array;
  siteOrNull(ord: unknown): Uint8Array | null;
  /** when this replica committed db_version v (a local version's written time) */
  timeOf(v: unknown): number | null;
}

export interface Branch {
  /** the clock table scanned in (version, keys) order, its alias and filter */
  from: string;
  alias: string;
  where: string;
  version: string;
  site: string;
  keys: string[];
  /** extra columns after the keys, and joins they need */
  columns: string[];
  joins: string;
  /** changes per clock row, at most */
  perRow: number;
  expand(row: unknown[], out: Change[], lookup: Lookup): void;
}

/**
 * A value as text that keptValue reads back exactly: its storage class's letter, then an
 * integer's digits, a real as quote() writes it (it round-trips), the bytes of a text or blob in
 * hex (quote() stops a text at a NUL). (A subquery returns one value, so the row's cell states
 * and this value travel together.)
 */
function keptValueSql(v: string): string {
  return `CASE typeof(${v}) WHEN 'integer' THEN 'i' || ${v} WHEN 'real' THEN 'r' || quote(${v}) WHEN 'text' THEN 't' || hex(${v})
    WHEN 'blob' THEN 'b' || hex(${v}) ELSE 'n' END`;
}

/** keptValueSql's text as the value (an integer as a BigInt, as the statements read them). */
function keptValue(text: string): unknown {
  const body = text.slice(1);
  switch (text[0]) {
    case 'i': return BigInt(body);
    case 'r': return Number(body);
    case 't': return Buffer.from(body, 'hex').toString('utf8');
    case 'b': return Buffer.from(body, 'hex');
    case 'n': return null;
    default: throw new Error(`unreadable kept value ${JSON.stringify(text.slice(0, 20))}`);
  }
}

function branches(info: TableInfo, prepare: (sql: string) => Database.Statement, extra: ExtraBranches): Branch[] {
  const rows = rowsTable(info.name);
  const V = versionsTable(info.name);
  const D = deadTable(info.name);
  const nk = info.pks.length;
  const pkCols = (a: string) => info.pks.map((p) => `${a}.${quoteId(p)}`);
  /** the packed key of a row read by a branch, whose key columns start at `at` */
  const pkOf = (row: unknown[], at = 1) =>
    packPrimaryKey(nk === 1 ? [fromSqlite(row[at])] : row.slice(at, at + nk).map(fromSqlite));
  const nameOfSlot = new Map(info.slots.map((s, i) => [s, info.columns[i]]));
  // clock columns (never values or keys) are read as REAL: the statements read integers as
  // BigInts (values keep their storage class), and a REAL is a plain JS number, no allocation
  // for small ones; clocks are below 2^53 (input-limits.ts), so exactly
  const num = (cols: string[]) => cols.map((c) => `${c} + 0.0`);
  const sameKey = (a: string, b: string) => info.pks.map((p) => `${a}.${quoteId(p)} = ${b}.${quoteId(p)}`).join(' AND ');
  // the displaced first versions of a row's life, for a row that has several (one comes with the row)
  const firstsStmt = prepare(`SELECT slot, first_val FROM ${V} WHERE ${info.pks.map((p, i) => `${quoteId(p)} = @k${i}`).join(' AND ')}
    AND cl = @cl AND has_first = 1`).raw(true).safeIntegers(true);
  /** a row's implied first versions: one clock row for all its cells */
  const implied: Branch = {
    from: rows,
    alias: 'r',
    where: 'r.i_version IS NOT NULL',
    version: 'r.i_version',
    site: 'r.i_site',
    keys: pkCols('r'),
    columns: [
      ...num(['r.i_cl', 'r.i_seq', 'r.i_site', 'r.i_written']),
      // the implied cells' states: NULL while the life has no version rows (all implied), else
      // 'slot' per cell a version row of the life stands for, 'slot+' per cell whose implied
      // version an update displaced (its value kept in first_val), then, if any was displaced,
      // \x1f and the lowest displaced slot's value (usually the only one: an update of one
      // column) encoded by keptValueSql. One search of the version rows: a second subquery for
      // that value took 10 of a 150k-change stream's 233 ms.
      `(SELECT group_concat(x.slot || CASE WHEN x.has_first = 1 THEN '+' ELSE '' END)
          || CASE WHEN min(CASE WHEN x.has_first = 1 THEN x.slot END) IS NOT NULL THEN char(31) || ${keptValueSql('x.first_val')} ELSE '' END
        FROM ${V} x WHERE ${sameKey('x', 'r')} AND x.cl = r.i_cl AND (x.lost = 0 OR x.has_first = 1))`,
      // the row's values while the implied life is its current one, else its deleted life's
      // record: one value a cell (each value read costs more than the SQL that finds it)
      ...info.columns.map((c, i) => `CASE WHEN r.cl = r.i_cl THEN b.${quoteId(c)} ELSE d.${deadValue(info.slots[i])} END`),
    ],
    joins: `LEFT JOIN ${quoteId(info.name)} b ON ${sameKey('b', 'r')} AND r.cl = r.i_cl
      LEFT JOIN ${D} d ON ${sameKey('d', 'r')} AND d.cl = r.cl AND r.cl <> r.i_cl`,
    perRow: info.columns.length,
    expand(row, changes, lookup) {
      const k = 1 + nk;
      const [icl, iseq, isite, iwritten, read] = row.slice(k, k + 5);
      const n = info.columns.length;
      const values = row.slice(k + 5, k + 5 + n);
      const text = read === null ? null : String(read);
      const cut = text === null ? -1 : text.indexOf('\x1f');
      const states = cut < 0 ? text : text!.slice(0, cut);
      // per slot: false when a version row of the life stands for it, else (displaced) its value
      const state = new Map<number, false | { val: unknown }>();
      if (states !== null) {
        const displaced: number[] = [];
        for (const s of String(states).split(',')) {
          if (s.endsWith('+')) displaced.push(Number(s.slice(0, -1)));
          else state.set(Number(s), state.get(Number(s)) ?? false);
        }
        if (displaced.length === 1) state.set(displaced[0], { val: keptValue(text!.slice(cut + 1)) });
        else if (displaced.length > 1) {
          const key = Object.fromEntries(row.slice(1, k).map((v, j) => [`k${j}`, v]));
          for (const [slot, val] of firstsStmt.all({ ...key, cl: icl }) as [bigint, unknown][]) state.set(Number(slot), { val });
        }
      }
      const pk = pkOf(row);
      const site = lookup.site(isite);
      const version = Number(row[0]);
      const written = iwritten !== null ? Number(iwritten) : Number(isite) === 0 ? lookup.timeOf(row[0]) : null;
      info.columns.forEach((cid, i) => {
        const slot = info.slots[i];
        if (info.since[i] > version) return;
        const displaced = state.get(slot);
        if (displaced === false) return; // a version row of that life stands for it
        const val = displaced ? displaced.val : values[i];
        changes.push({
          table: info.name, pk, cid, val: fromSqlite(val), col_version: 1, db_version: version, site_id: site,
          cl: Number(icl), seq: Number(iseq) + slot, parent: NO_PARENT, written_at: written, resolves: null,
        });
      });
    },
  };
  const out: Branch[] = [
    // counter contributions and text states first: a peer has them no later than the versions
    // written with them (policy-columns.ts)
    ...extra(info),
    // implied first versions before any other version of a table: a clone then gets a row
    // whole (every first version of it, one writer) before its later versions, and merges it
    // by the fast path (whole-rows.ts); after them, an edited row was merged cell by cell
    ...(info.columns.length ? [implied] : []),
    {
      // the sentinels of live lives (re-created rows, pk-only tables' rows)
      from: rows,
      alias: 'r',
      where: 'r.s_version IS NOT NULL AND r.cl % 2 = 1',
      version: 'r.s_version',
      site: 'r.s_site',
      keys: pkCols('r'),
      columns: ['r.cl', 'r.s_seq', 'r.s_site'],
      joins: '',
      perRow: 1,
      expand(row, changes, lookup) {
        const cl = Number(row[1 + nk]);
        changes.push({
          table: info.name, pk: pkOf(row), cid: '-1', val: null, col_version: cl, db_version: Number(row[0]),
          site_id: lookup.site(row[3 + nk]), cl, seq: Number(row[2 + nk]),
        });
      },
    },
    {
      // the sentinels of deleted lives: their records
      from: D,
      alias: 'd',
      where: '1',
      version: 'd.db_version',
      site: 'd.site',
      keys: ['d.did'],
      columns: [...pkCols('d'), 'd.cl', 'd.seq', 'd.site'],
      joins: '',
      perRow: 1,
      expand(row, changes, lookup) {
        const cl = Number(row[2 + nk]);
        changes.push({
          table: info.name, pk: pkOf(row, 2), cid: '-1', val: null, col_version: cl, db_version: Number(row[0]),
          site_id: lookup.site(row[4 + nk]), cl, seq: Number(row[3 + nk]),
        });
      },
    },
  ];
  if (!info.columns.length) return out;
  out.push({
    from: V,
    alias: 'v',
    where: '1',
    version: 'v.db_version',
    site: 'v.site',
    keys: ['v.vid'],
    columns: [...pkCols('v'), ...num(['v.slot', 'v.cl', 'v.col_version', 'v.site']), 'v.val',
      ...num(['v.seq', 'v.parent_site', 'v.parent_cv', 'v.written_at']),
      `CASE WHEN v.res_cv IS NOT NULL THEN coalesce(v.res_site, '') || ',' || v.res_cv || ',' || v.res_members END`],
    joins: '',
    perRow: 1,
    expand(row, changes, lookup) {
      const k = 2 + nk;
      const cid = nameOfSlot.get(Number(row[k]));
      if (cid === undefined) return;
      const [cl, cv, site, val, seq, ps, pcv, wa, res] = row.slice(k + 1);
      changes.push({
        table: info.name, pk: pkOf(row, 2), cid, val: fromSqlite(val), col_version: Number(cv), db_version: Number(row[0]),
        site_id: lookup.site(site), cl: Number(cl), seq: Number(seq),
        parent: pcv === null ? null : { site_id: lookup.siteOrNull(ps), col_version: Number(pcv) },
        written_at: wa !== null ? Number(wa) : Number(site) === 0 ? lookup.timeOf(row[0]) : null,
        resolves: res === null ? null : resolution(String(res), lookup),
      });
    },
  });
  return out;
}

/** a resolution read as 'site,col_version,versions' (the site's number, or empty for none) */
function resolution(text: string, lookup: Lookup): Change['resolves'] {
  const [rs, rcv, rm] = text.split(',');
  return { site_id: rs === '' ? null : lookup.site(rs), col_version: Number(rcv), versions: Number(rm) };
}

interface BranchStatements {
  branch: Branch;
  range: Database.Statement;
  same: Database.Statement;
}

/** Branches of other kinds of rows a table's stream carries, read before its own. */
export type ExtraBranches = (info: TableInfo) => Branch[];

export function createChangePager(prepare: (sql: string) => Database.Statement, extra: ExtraBranches = () => []) {
  const cache = new WeakMap<TableInfo, BranchStatements[]>();
  const siteIds = new Map<number, Uint8Array>();
  const sitesStmt = prepare('SELECT ord, site_id FROM crr_sites').raw(true);
  const timeStmt = prepare('SELECT at FROM crr_times WHERE db_version >= ? ORDER BY db_version LIMIT 1').pluck().safeIntegers(false);

  function site(ord: unknown): Uint8Array {
    const o = Number(ord);
    let id = siteIds.get(o);
    if (!id) {
      for (const [k, v] of sitesStmt.all() as [number, Buffer][]) siteIds.set(Number(k), new Uint8Array(v));
      id = siteIds.get(o);
      if (!id) throw new Error(`no site with number ${o}`);
    }
    return id;
  }

  function statements(info: TableInfo): BranchStatements[] {
    let s = cache.get(info);
    if (s) return s;
    s = branches(info, prepare, extra).map((branch) => {
      const { from, alias, where, version, keys, columns, joins } = branch;
      const order = [version, ...keys].join(', ');
      const sel = (seek: string) =>
        prepare(
          `SELECT ${[version, ...keys.slice(0, info.pks.length), ...keys.slice(info.pks.length), ...columns].join(', ')}
           FROM ${from} ${alias} ${joins} WHERE ${where} AND ${seek}
             AND ${branch.site} IS NOT (SELECT ord FROM crr_sites WHERE site_id = @exclude) ORDER BY ${order} LIMIT @limit`,
        )
          .raw(true)
          .safeIntegers(true);
      return {
        branch,
        // SQLite seeks a row-value bound only without other bounds on the version: 'range' starts
        // after version @from (up to @to), 'same' goes on within version @v after a key
        range: sel(`${version} > @from AND ${version} <= @to`),
        same: sel(`${version} = @v AND (${keys.join(', ')}) > (${keys.map(() => '?').join(', ')})`),
      };
    });
    cache.set(info, s);
    return s;
  }

  /**
   * About `limit` changes of the range in `cursor` (a clock row's changes are never split), and
   * where to go on (null: range done). A cursor's key is [version] ("after this version") or
   * [version, ...clock key] ("after this clock").
   */
  function page(tables: Map<string, TableInfo>, cursor: ChangePageCursor, limit: number, exclude?: Uint8Array): ChangePage {
    if (!(limit >= 1)) throw new RangeError('page limit must be at least 1');
    // by the version as read (a BigInt or a number: Map keys compare primitives by value)
    const times = new Map<unknown, number | null>();
    const lookup: Lookup = {
      site,
      siteOrNull: (ord) => (ord === null || ord === undefined ? null : site(ord)),
      timeOf: (v) => {
        let at = times.get(v);
        if (at === undefined) times.set(v, (at = (timeStmt.get(v) as number | undefined) ?? null));
        return at;
      },
    };
    const names = [...tables.keys()].sort();
    const out: Change[] = [];
    const base = { to: BigInt(cursor.to), exclude: exclude ? Buffer.from(exclude) : null };
    let t = cursor.table === undefined ? 0 : names.findIndex((n) => n >= cursor.table!);
    if (t < 0) t = names.length;
    const resuming = cursor.table !== undefined && names[t] === cursor.table;
    let armIndex = resuming ? (cursor.arm ?? 0) : 0;
    let key: unknown[] | null = resuming && cursor.key?.length ? cursor.key.map(toSqlite) : null;
    while (t < names.length) {
      const info = tables.get(names[t])!;
      const arms = statements(info);
      if (armIndex >= arms.length) {
        t++;
        armIndex = 0;
        key = null;
        continue;
      }
      const remaining = limit - out.length;
      if (remaining <= 0) {
        return { changes: out, next: { from: cursor.from, to: cursor.to, table: names[t], arm: armIndex, key: key?.map(fromSqlite) } };
      }
      const { branch, range, same } = arms[armIndex];
      const samePosition = key !== null && key.length > 1;
      const clocks = Math.max(1, Math.ceil(remaining / Math.max(1, branch.perRow)));
      const bind = { ...base, limit: BigInt(clocks) };
      const got = (samePosition
        ? same.all(...key!.slice(1), { ...bind, v: key![0] })
        : range.all({ ...bind, from: key ? key[0] : BigInt(cursor.from) })) as unknown[][];
      for (const row of got) branch.expand(row, out, lookup);
      if (got.length > 0) key = got[got.length - 1].slice(0, 1 + branch.keys.length);
      if (got.length < clocks) {
        if (samePosition) key = [key![0]];
        else {
          armIndex++;
          key = null;
        }
      }
    }
    return { changes: out, next: null };
  }

  return { page };
}
