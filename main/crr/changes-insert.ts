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
import { sameBytes, unpackPrimaryKey } from './pack-pk.ts';
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
const MAX_BIG = BigInt(MAX_CLOCK);
function version(x: unknown): number | null {
  const n = typeof x === 'bigint' ? (x >= 0n && x <= MAX_BIG ? Number(x) : -1) : typeof x === 'number' && Number.isInteger(x) ? x : -1;
  return n >= 0 && n <= MAX_CLOCK ? n : null;
}

const bindable = (v: unknown) => v === null || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string' || v instanceof Uint8Array;

/**
 * The changes with each row's together, in the order their rows first come (a row's own in
 * theirs): crsql_changes gives a row's cells apart when some were written later, and staging
 * finds new rows in runs of one key. (The batch merge does not depend on the order of its rows.)
 * A row's changes share one key buffer (check() sees to it).
 */
function grouped(changes: Change[], keys: SqlValue[][]): [Change[], SqlValue[][]] {
  const at = new Map<Uint8Array, number[]>();
  let last: Uint8Array | null = null;
  let list: number[] = [];
  for (let i = 0; i < changes.length; i++) {
    const pk = changes[i].pk;
    if (pk !== last) {
      last = pk;
      list = at.get(pk) ?? [];
      if (!list.length) at.set(pk, list);
    }
    list.push(i);
  }
  if (at.size === 1 || at.size === changes.length) return [changes, keys];
  const order: number[] = [];
  for (const l of at.values()) for (const i of l) order.push(i);
  return [order.map((i) => changes[i]), order.map((i) => keys[i])];
}

/** a key kept since the last flush (those of one hash chained) */
interface KeptRow {
  table: string;
  pk: Buffer;
  key: SqlValue[];
  next: KeptRow | undefined;
}

export function createChangesInsert(ctx: ChangesInsertContext) {
  let pending: Change[] = [];
  let keys: SqlValue[][] = [];
  // a batch: the runs between two other statements; each statement's first run of it takes the trigger
  let batch = 0;
  let limit: number | null | undefined;
  let lastPk: Buffer | null = null;
  let lastTable = '';
  let lastKey: SqlValue[] = [];
  let lastSite: Buffer | null = null;
  // the rows kept since the last flush: one key buffer (and decoded key) per table and key
  let rowsKept = new Map<number, KeptRow>();

  /** the change these arguments make, if the trigger would stage it (its key decoded: lastKey) */
  function check(at: Record<Field, number>, args: unknown[]): Change | null {
    const table = args[at.table];
    const pk = args[at.pk];
    const cid = args[at.cid];
    const val = args[at.val];
    const site_id = args[at.site_id];
    if (typeof table !== 'string' || ctx.altering(table)) return null;
    const info = ctx.tables().get(table);
    if (!info || typeof cid !== 'string' || (cid !== '-1' && !info.columns.includes(cid))) return null;
    if (!(site_id instanceof Uint8Array) || site_id.length !== 16 || !(pk instanceof Uint8Array) || !bindable(val)) return null;
    const cv = version(args[at.col_version]);
    const dv = version(args[at.db_version]);
    const cl = version(args[at.cl]);
    const seq = version(args[at.seq]);
    if (cv === null || dv === null || cl === null || seq === null || cl < 1) return null;
    if (limit === undefined) limit = ctx.bound();
    if (limit === null || dv > limit) return null;
    if (!lastPk || lastTable !== table || !sameBytes(lastPk, pk)) {
      lastPk = null;
      // (by a hash of the bytes: a string per key and a Map of strings cost 2 µs a row)
      let h = 0x811c9dc5;
      for (let i = 0; i < pk.length; i++) h = Math.imul(h ^ pk[i], 0x01000193);
      const first = rowsKept.get(h);
      let kept = first;
      while (kept && (kept.table !== table || !sameBytes(kept.pk, pk))) kept = kept.next;
      if (!kept) {
        try {
          // (copies: the caller may reuse its buffers once run() returns, the trigger having read them)
          kept = { table, key: unpackPrimaryKey(pk), pk: Buffer.from(pk), next: first };
        } catch {
          return null;
        }
        rowsKept.set(h, kept);
      }
      [lastPk, lastKey, lastTable] = [kept.pk, kept.key, table];
    }
    if (lastKey.length !== info.pks.length || lastKey.includes(null)) return null;
    if (!lastSite || !sameBytes(lastSite, site_id)) lastSite = Buffer.from(site_id);
    const value = val instanceof Uint8Array ? Buffer.from(val) : (val as SqlValue);
    return { table, pk: lastPk, cid, val: value, col_version: cv, db_version: dv, site_id: lastSite, cl, seq };
  }

  /** stages what is pending, in the open transaction (one that ended without us took it along) */
  function flush(): void {
    if (!pending.length) return;
    const [changes, ks] = grouped(pending, keys);
    pending = [];
    keys = [];
    rowsKept = new Map();
    lastPk = null;
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
      const at = Object.fromEntries(fields.map((f, i) => [f, i])) as Record<Field, number>;
      return {
        take(args: unknown[]): unknown {
          if (resultBatch !== batch || args.length !== fields.length || !ctx.inTransaction()) return undefined;
          const change = check(at, args);
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
      rowsKept = new Map();
      lastPk = null;
      batch++;
      limit = undefined;
    },
  };
}
