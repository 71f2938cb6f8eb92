// Prepared `INSERT INTO crsql_changes (…its 9 columns…) VALUES (?, …)` run once per change, inside
// a transaction: how cr-sqlite peers and their tools merge. The INSTEAD OF trigger that stages a
// row (changes-view.ts) stages it cell by cell, and the batch merge then groups the cells back
// into rows. The engine wraps the connection's statements, so a run() of this shape whose values
// pass the trigger's checks is kept in JS instead and staged, when any other statement is about
// to run, as applyChanges stages a page (apply.ts): a new row whose cells come one after another
// as one staging row, in runs of many rows. The batch merge (index.ts mergeStaged) is the same.
//
// What the statement gives stays the trigger's: the first run() of a batch goes through it, and so
// does every later one whose values the checks below do not pass, so errors are the trigger's own.
// The others return what the first returned (a view's INSERT reports no change and leaves
// last_insert_rowid as it was; nothing else runs on the connection in between).
import type { SqlValue } from '../../shared/values.ts';
import type { Change } from './types.ts';
import type { TableInfo } from './table-info.ts';
import { unpackPrimaryKey } from './pack-pk.ts';
import { MAX_CLOCK } from './input-limits.ts';

const FIELDS = ['table', 'pk', 'cid', 'val', 'col_version', 'db_version', 'site_id', 'cl', 'seq'] as const;
type Field = (typeof FIELDS)[number];

const SHAPE = /^\s*INSERT\s+INTO\s+(?:temp\s*\.\s*)?("?)crsql_changes\1\s*\(([^)]*)\)\s*VALUES\s*\(([^)]*)\)\s*;?\s*$/i;

/**
 * For a statement of this shape, the field each positional parameter binds (every field named
 * once, every value a bare `?`); null for any other statement.
 */
export function insertFields(sql: string): Field[] | null {
  const m = SHAPE.exec(sql);
  if (!m) return null;
  const names = m[2].split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1').toLowerCase());
  const values = m[3].split(',').map((v) => v.trim());
  if (names.length !== FIELDS.length || values.length !== FIELDS.length || values.some((v) => v !== '?')) return null;
  if (new Set(names).size !== FIELDS.length || !names.every((n) => (FIELDS as readonly string[]).includes(n))) return null;
  return names as Field[];
}

export interface ChangesInsertContext {
  tables: () => ReadonlyMap<string, TableInfo>;
  /** a table between crsql_begin_alter and crsql_commit_alter (the trigger does not know it) */
  altering: (table: string) => boolean;
  /** the highest db_version the trigger lets in (this replica's, plus the jump bound), or null */
  bound: () => number | null;
  /** stages validated rows with what the trigger staged (apply.ts stageAsSql); the tables staged */
  stage: (changes: Change[], keys: SqlValue[][]) => Iterable<string>;
  /** marks a table as having staged rows (the trigger's crr_staged) */
  staged: (table: string) => void;
  inTransaction: () => boolean;
}

/** a version field as the trigger's check takes it (an integer from 0 to 2^48), else null */
function version(x: unknown): number | null {
  const n = typeof x === 'bigint' ? (x >= 0n && x <= BigInt(MAX_CLOCK) ? Number(x) : -1) : typeof x === 'number' && Number.isInteger(x) ? x : -1;
  return n >= 0 && n <= MAX_CLOCK ? n : null;
}

const bindable = (v: unknown) => v === null || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string' || v instanceof Uint8Array;

/**
 * The changes with each row's together, in the order their rows first come (a row's own in
 * theirs): crsql_changes gives a row's cells apart when some were written later, and staging
 * finds new rows in runs of one key. (The batch merge does not depend on the order of its rows.)
 */
function grouped(changes: Change[], keys: SqlValue[][]): [Change[], SqlValue[][]] {
  const at = new Map<string, number[]>();
  let last: Uint8Array | null = null;
  let lastTable = '';
  let list: number[] = [];
  for (let i = 0; i < changes.length; i++) {
    const c = changes[i];
    // (a row's cells that come one after another share their key's buffer: check() keeps it)
    if (c.pk !== last || c.table !== lastTable) {
      last = c.pk;
      lastTable = c.table;
      const k = `${c.table}\0${Buffer.from(c.pk.buffer, c.pk.byteOffset, c.pk.length).toString('latin1')}`;
      list = at.get(k) ?? [];
      if (!list.length) at.set(k, list);
    }
    list.push(i);
  }
  if (at.size === 1 || at.size === changes.length) return [changes, keys];
  const order = [...at.values()].flat();
  return [order.map((i) => changes[i]), order.map((i) => keys[i])];
}

export function createChangesInsert(ctx: ChangesInsertContext) {
  let pending: Change[] = [];
  let keys: SqlValue[][] = [];
  // a batch: the runs between two other statements; each statement's first run of it takes the trigger
  let batch = 0;
  let limit: number | null | undefined;
  let lastPk: Buffer | null = null;
  let lastKey: SqlValue[] = [];
  let lastSite: Buffer | null = null;
  const row = {} as Record<Field, unknown>;

  /** the change these arguments make, if the trigger would stage it (its key decoded: lastKey) */
  function check(fields: readonly Field[], args: unknown[]): Change | null {
    for (let i = 0; i < fields.length; i++) row[fields[i]] = args[i];
    const { table, pk, cid, val, site_id } = row;
    if (typeof table !== 'string' || ctx.altering(table)) return null;
    const info = ctx.tables().get(table);
    if (!info || typeof cid !== 'string' || (cid !== '-1' && !info.columns.includes(cid))) return null;
    if (!(site_id instanceof Uint8Array) || site_id.length !== 16 || !(pk instanceof Uint8Array) || !bindable(val)) return null;
    const cv = version(row.col_version);
    const dv = version(row.db_version);
    const cl = version(row.cl);
    const seq = version(row.seq);
    if (cv === null || dv === null || cl === null || seq === null || cl < 1) return null;
    if (limit === undefined) limit = ctx.bound();
    if (limit === null || dv > limit) return null;
    if (!lastPk || !lastPk.equals(pk)) {
      lastPk = null;
      try {
        lastKey = unpackPrimaryKey(pk);
      } catch {
        return null;
      }
      lastPk = Buffer.from(pk);
    }
    if (lastKey.length !== info.pks.length || lastKey.includes(null)) return null;
    // (copies: the caller may reuse its buffers once run() returns, the trigger having read them)
    if (!lastSite || !lastSite.equals(site_id)) lastSite = Buffer.from(site_id);
    const value = val instanceof Uint8Array ? Buffer.from(val) : (val as SqlValue);
    return { table, pk: lastPk, cid, val: value, col_version: cv, db_version: dv, site_id: lastSite, cl, seq };
  }

  /** stages what is pending, in the open transaction (one that ended without us took it along) */
  function flush(): void {
    if (!pending.length) return;
    const [changes, ks] = grouped(pending, keys);
    pending = [];
    keys = [];
    if (ctx.inTransaction()) for (const t of ctx.stage(changes, ks)) ctx.staged(t);
  }

  return {
    /**
     * A run() of a statement of this shape (insertFields): `take` keeps it and returns what the
     * statement returns, or returns undefined and `run` (the statement's own run(), through the
     * trigger) is to be called instead, inside the engine's statement bracket.
     */
    wrap(fields: Field[], own: (...args: unknown[]) => unknown) {
      let result: unknown;
      let resultBatch = -1;
      return {
        take(args: unknown[]): unknown {
          if (resultBatch !== batch || args.length !== fields.length || !ctx.inTransaction()) return undefined;
          const change = check(fields, args);
          if (!change) return undefined;
          pending.push(change);
          keys.push(lastKey);
          return result;
        },
        run(args: unknown[]): unknown {
          // (what the trigger stages comes after what was kept before it, as without this path)
          flush();
          result = own(...args);
          resultBatch = batch;
          return result;
        },
      };
    },
    /** Another statement is about to run: what is kept is staged, and a new batch begins. */
    end(): void {
      flush();
      batch++;
      limit = undefined;
    },
    /** The transaction rolled back: nothing kept may be staged. */
    drop(): void {
      pending = [];
      keys = [];
      batch++;
      limit = undefined;
    },
  };
}
