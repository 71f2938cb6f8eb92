// Reading changes page by page with bounded memory, for sync. A page walks the clock indexes
// (db_version, then the clock's primary key) of one table and branch at a time, so no query
// sorts more than one page, however many changes a single db_version holds (a backfill, a
// million-row import). Order is by table, branch, db_version, key, not crsql_changes' global
// order: merging does not depend on order (the convergence tests shuffle deliveries).
//
// A page range (from, to] is fixed when it starts: a clock rewritten meanwhile moves above `to`
// and is read by the next range, so resuming a range from its cursor misses nothing.
import type Database from 'better-sqlite3';
import type { Change, ChangePage, ChangePageCursor } from './types.ts';
import type { SqlValue } from '../../shared/values.ts';
import { changeArms, type ChangeArm } from './changes-view.ts';
import type { TableInfo } from './table-info.ts';

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

export function fromSqlite(v: unknown): SqlValue {
  if (v === null || typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new Uint8Array(v);
  throw new TypeError(`unexpected SQLite value ${String(v)}`);
}

const toSqlite = (v: SqlValue): unknown => (v instanceof Uint8Array ? Buffer.from(v) : v);

interface ArmStatements {
  /** the next clock keys (version, keys...) of the branch */
  keys: Database.Statement;
  /** the changes of those same clocks */
  changes: Database.Statement;
}

// Two seeks, because SQLite seeks a row-value bound only without other bounds on the version:
// 'range' starts after version @from (up to @to), 'same' goes on within version @v after a key.
type Mode = 'range' | 'same';

export function createChangePager(prepare: (sql: string) => Database.Statement) {
  const cache = new WeakMap<TableInfo, Map<string, ArmStatements>>();

  function statements(info: TableInfo, armIndex: number, arm: ChangeArm, mode: Mode): ArmStatements {
    let perTable = cache.get(info);
    if (!perTable) cache.set(info, (perTable = new Map()));
    const id = `${armIndex}:${mode}`;
    let s = perTable.get(id);
    if (s) return s;
    const { table, alias, where } = arm.clock;
    const order = [arm.version, ...arm.keys].join(', ');
    const seek =
      mode === 'range'
        ? `${arm.version} > @from AND ${arm.version} <= @to`
        : `${arm.version} = @v AND (${arm.keys.join(', ')}) > (${arm.keys.map(() => '?').join(', ')})`;
    const clocks = `FROM ${table} ${alias} WHERE ${where} AND ${seek}
      AND ${arm.site} IS NOT (SELECT ord FROM crr_sites WHERE site_id = @exclude) ORDER BY ${order} LIMIT @limit`;
    s = {
      keys: prepare(`SELECT ${order} ${clocks}`).raw(true).safeIntegers(true),
      changes: prepare(`SELECT ${arm.select} FROM (SELECT * ${clocks}) ${alias} ${arm.joins} WHERE ${arm.where}`).safeIntegers(true),
    };
    perTable.set(id, s);
    return s;
  }

  /**
   * Up to about `limit` changes of the range in `cursor`, and where to go on (null: range done).
   * A cursor's key is [version] ("after this version") or [version, ...clock key] ("after this clock").
   */
  function page(tables: Map<string, TableInfo>, cursor: ChangePageCursor, limit: number, exclude?: Uint8Array): ChangePage {
    if (!(limit >= 1)) throw new RangeError('page limit must be at least 1');
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
      const arms = changeArms(info);
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
      const mode: Mode = key && key.length > 1 ? 'same' : 'range';
      const s = statements(info, armIndex, arms[armIndex], mode);
      // an implied clock yields one change per column
      const perClock = armIndex === 2 ? Math.max(1, info.columns.length) : 1;
      const clocks = Math.ceil(remaining / perClock);
      const bind = { ...base, limit: BigInt(clocks) };
      const args =
        mode === 'same'
          ? [...key!.slice(1), { ...bind, v: key![0] }]
          : [{ ...bind, from: key ? key[0] : BigInt(cursor.from) }];
      const keys = s.keys.all(...args) as unknown[][];
      if (keys.length > 0) {
        for (const r of s.changes.all(...args) as RawChange[]) out.push(toChange(r));
        key = keys[keys.length - 1];
      }
      if (keys.length < clocks) {
        if (mode === 'same') key = [key![0]];
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

