// Applying incoming changes: staging them in the merge program's TEMP table and running the
// program (merge.ts) once per table and batch. A new row that arrives whole (every cell's first
// version from one writer) is staged as one row for the fast path (whole-rows.ts) instead.
//
// applyChanges stages a whole batch, one prepared INSERT per change inside the batch's
// transaction: measured on 100k changes, 1.4 µs a change, where one statement over a JSON
// parameter (json_each) took 4.2 µs (each ->> of a field parses its element again).
// INSERT INTO crsql_changes stages in its trigger, or (a prepared statement's later runs in a
// transaction) here, by stageAsSql (changes-insert.ts); the engine merges what was staged once,
// before the next statement that is not such an INSERT (index.ts).
import type Database from 'better-sqlite3';
import type { Change } from './types.ts';
import type { SqlValue } from '../../shared/values.ts';
import type { TableInfo } from './table-info.ts';
import { sameBytes, sameSite } from './pack-pk.ts';
import { incomingTable, mergeProgram, STAGED_COLUMNS } from './merge.ts';
import { stageFreshSql, stageWholeSql, storedAsGiven, WHOLE_COLUMNS, wholeRowsProgram } from './whole-rows.ts';
import { affinity, type Affinity } from '../../shared/column-affinity.ts';

type Statement = Database.Statement;
/** CRR_PROFILE_MERGE=1: time spent per statement of the merge program, printed at exit (the top CRR_PROFILE_TOP, default 12; =2: whole statements) */
const PROFILE = process.env.CRR_PROFILE_MERGE ? new Map<string, number>() : null;
if (PROFILE) {
  process.on('exit', () => {
    for (const [sql, ms] of [...PROFILE.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.CRR_PROFILE_TOP ?? 12))) console.log(ms.toFixed(1).padStart(9), sql.replace(/\s+/g, ' ').slice(0, Number(process.env.CRR_PROFILE_MERGE) > 1 ? 100000 : 110));
  });
}

/**
 * The statement that stages `rows` changes for one table: one statement binds a run of changes
 * (a JS call per change cost more than the merge program itself in a clone).
 */
function stageSql(info: TableInfo, rows: number): string {
  const cols = [...info.pks.map((_, i) => `p${i}`), ...STAGED_COLUMNS];
  const tuple = `(${cols.map(() => '?').join(', ')})`;
  return `INSERT OR IGNORE INTO ${incomingTable(info.name)} (${cols.join(', ')}) VALUES ${Array(rows).fill(tuple).join(', ')}`;
}

/**
 * Everything that merges what is staged for one table: the fast path first (whole-rows.ts), then
 * the rest. `gather`: whole rows may have been staged cell by cell (INSERT INTO crsql_changes).
 */
export function tableMergeSql(info: TableInfo, history: boolean, gather = true): string[] {
  return [...(info.columns.length ? wholeRowsProgram(info, incomingTable(info.name), gather) : []), ...mergeProgram(info, history)];
}

/** Run lengths a staging statement is prepared for (the rest of a run goes by smaller ones). */
const RUNS = [64, 8, 1];
/**
 * Tuples a stager holds before it binds them: a batch's values in one array grew it to half a
 * million slots, copied as it grew (staging 40k new rows, 200k changes: 160-173 -> 116-145 ms)
 */
const FLUSH_ROWS = 16 * RUNS[0];

/** a table's columns by name: each one's slot, place in the column list and affinity (one lookup a cell) */
interface Shape {
  column: Map<string, { slot: number; index: number; affinity: Affinity }>;
}

const slotIn = (shape: Shape, cid: string): number => shape.column.get(cid)!.slot;

/**
 * The changes of `changes[from, to)` (one key's run) that make a whole new row: one first version
 * of every column, one life (cl 1), one writer, one of their transactions (the same db_version and
 * seq - slot, one written time or none), nothing resolved: whole-rows.ts's rule for gathered
 * rows, in JS. Null if they do not.
 */
function wholeRow(info: TableInfo, shape: Shape, changes: Change[], from: number, to: number): number[] | null {
  const n = info.columns.length;
  if (to - from < n) return null;
  const at: number[] = [];
  // slots seen: a bit each below 31, a set above (a table that dropped and added many columns)
  let bits = 0;
  let more: Set<number> | null = null;
  let first: Change | null = null;
  let firstIseq = 0;
  for (let j = from; j < to; j++) {
    const c = changes[j];
    // a sentinel of the first life is kept as one (merge.ts: not whole)
    if (c.cid === '-1') return null;
    if (c.cl !== 1 || c.col_version !== 1 || c.resolves) continue;
    const col = shape.column.get(c.cid)!;
    if (!storedAsGiven(col.affinity, c.val)) return null;
    const slot = col.slot;
    if (slot < 31) {
      if (bits & (1 << slot)) return null;
      bits |= 1 << slot;
    } else {
      more ??= new Set();
      if (more.has(slot)) return null;
      more.add(slot);
    }
    if (!first) {
      first = c;
      firstIseq = c.seq - slot;
    } else if (
      c.db_version !== first.db_version || !sameSite(c.site_id, first.site_id) || (c.written_at ?? null) !== (first.written_at ?? null)
      || c.seq - slot !== firstIseq
    ) return null;
    at.push(j);
  }
  return at.length === n ? at : null;
}

/**
 * The changes of `changes[from, to)` (one key's run) make a fresh new row staged whole: one
 * version of every column in life 1, with no parent (or a version 1, which has none), written time
 * or resolution (cr-sqlite peers send no more). The run's positions in column order, or null.
 */
function freshRow(info: TableInfo, shape: Shape, changes: Change[], from: number, to: number): number[] | null {
  const n = info.columns.length;
  if (to - from !== n) return null;
  const at: number[] = new Array(n).fill(-1);
  for (let j = from; j < to; j++) {
    const c = changes[j];
    if (c.cid === '-1' || c.cl !== 1 || c.resolves || (c.written_at ?? null) !== null || (c.parent && c.col_version !== 1)) return null;
    const i = shape.column.get(c.cid)!.index;
    if (at[i] >= 0) return null;
    at[i] = j;
  }
  return at;
}

export interface ApplierContext {
  prepare: (sql: string) => Statement;
  tables: () => Map<string, TableInfo>;
  history: () => boolean;
}

export function createApplier(ctx: ApplierContext) {
  const stageStmts = new Map<string, Statement>();
  const programs = new Map<string, Statement[]>();
  const shapes = new WeakMap<TableInfo, Shape>();
  const siteStmt = { insert: ctx.prepare('INSERT OR IGNORE INTO crr_sites (site_id) VALUES (?)'), ord: ctx.prepare('SELECT ord FROM crr_sites WHERE site_id = ?').pluck() };

  /**
   * the keys staged whole per table, until it merges: one whole row per key and batch (another of
   * it, from another writer or a later stage of the same batch, goes the general way)
   */
  const wholeKeys = new Map<string, Set<string>>();

  /**
   * merges what is staged for one table (tableMergeSql); `gather` for what INSERT INTO
   * crsql_changes staged (applyChanges finds its whole rows itself, and merges what was staged
   * through SQL before it stages)
   */
  function mergeTable(table: string, gather: boolean): void {
    wholeKeys.delete(table);
    const key = `${gather ? 'sql' : 'apply'}:${table}`;
    let program = programs.get(key);
    if (!program) {
      program = tableMergeSql(ctx.tables().get(table)!, ctx.history(), gather).map((sql) => ctx.prepare(sql));
      programs.set(key, program);
    }
    for (const stmt of program) {
      const t0 = PROFILE ? performance.now() : 0;
      if (stmt.reader) stmt.all();
      else stmt.run();
      if (PROFILE) PROFILE.set(stmt.source, (PROFILE.get(stmt.source) ?? 0) + performance.now() - t0);
    }
  }

  /** a table's columns by name: their slots and their places in the column list */
  function shapeOf(info: TableInfo) {
    let m = shapes.get(info);
    if (!m) {
      m = {
        column: new Map(info.columns.map((c, i) => [c, { slot: info.slots[i], index: i, affinity: affinity(info.columnTypes[i]) }])),
      };
      shapes.set(info, m);
    }
    return m;
  }

  /** Tuples for one kind of staging statement, bound a run of one table at a time. */
  function stager(kind: string, sql: (info: TableInfo, rows: number) => string) {
    // the run's values, tuple after tuple (one statement binds a slice of them)
    let values: unknown[] = [];
    let rows = 0;
    let width = 0;
    let runTable = '';
    const tables = new Set<string>();
    const flush = () => {
      let at = 0;
      for (const size of RUNS) {
        for (; rows - at >= size; at += size) {
          const key = `${kind}:${size}:${runTable}`;
          let stage = stageStmts.get(key);
          if (!stage) {
            stage = ctx.prepare(sql(ctx.tables().get(runTable)!, size));
            stageStmts.set(key, stage);
          }
          stage.run(values.slice(at * width, (at + size) * width));
        }
      }
      values = [];
      rows = 0;
    };
    return {
      tables,
      /** the values to append: the caller pushes one tuple of `tupleWidth` values into it */
      next(table: string, tupleWidth: number): unknown[] {
        if (table !== runTable) {
          if (rows) flush();
          runTable = table;
          tables.add(table);
        } else if (rows >= FLUSH_ROWS) flush();
        width = tupleWidth;
        rows++;
        return values;
      },
      flush,
    };
  }

  /** Stages validated changes (with their decoded keys); inside a transaction. The tables staged. */
  function stage(changes: Change[], keys: SqlValue[][]): Set<string> {
    const sites = new Map<string, number | null>();
    const byObject = new Map<Uint8Array, number | null>();
    const ordOf = (id: Uint8Array | null | undefined): number | null => {
      if (!id) return null;
      const known = byObject.get(id);
      if (known !== undefined) return known;
      const hex = Buffer.from(id).toString('hex');
      let ord = sites.get(hex);
      if (ord === undefined) {
        siteStmt.insert.run(Buffer.from(id));
        ord = Number(siteStmt.ord.get(Buffer.from(id)));
        sites.set(hex, ord);
      }
      byObject.set(id, ord);
      return ord;
    };
    const t0 = PROFILE ? performance.now() : 0;
    const general = stager('general', stageSql);
    const whole = stager('whole', stageWholeSql);
    const fresh = stager('fresh', stageFreshSql);
    const generalWidth = (info: TableInfo) => info.pks.length + STAGED_COLUMNS.length;
    const stageGeneral = (c: Change, key: SqlValue[], info: TableInfo, shape: Shape) => {
      const parent = c.parent ?? null;
      const res = c.resolves ?? null;
      const out = general.next(c.table, generalWidth(info));
      for (const k of key) out.push(k);
      out.push(
        c.cid === '-1' ? -1 : shape.column.get(c.cid)!.slot,
        c.val,
        c.col_version,
        c.db_version,
        ordOf(c.site_id),
        c.cl,
        c.seq,
        parent ? ordOf(parent.site_id) : null,
        parent ? parent.col_version : null,
        c.written_at ?? null,
        res ? ordOf(res.site_id) : null,
        res ? res.col_version : null,
        res ? res.versions : null,
      );
    };
    // a row's changes arrive together: each run of one key is checked for a whole new row
    for (let i = 0; i < changes.length; ) {
      const c = changes[i];
      const info = ctx.tables().get(c.table)!;
      const shape = shapeOf(info);
      let end = i + 1;
      while (end < changes.length && changes[end].table === c.table && sameBytes(changes[end].pk, c.pk)) end++;
      let row = info.columns.length ? wholeRow(info, shape, changes, i, end) : null;
      let freshAt = row || !info.columns.length ? null : freshRow(info, shape, changes, i, end);
      if (row || freshAt) {
        let keysOf = wholeKeys.get(c.table);
        if (!keysOf) wholeKeys.set(c.table, (keysOf = new Set()));
        // (a one-column text key as it is; any other as its packed bytes, marked apart. Two keys
        // taken for one only send the second the general way: 1.0 -> 0.6 µs a row)
        const k0 = keys[i][0];
        const key = keys[i].length === 1 && typeof k0 === 'string' ? k0 : `\0${Buffer.from(c.pk.buffer, c.pk.byteOffset, c.pk.length).toString('latin1')}`;
        if (keysOf.has(key)) row = freshAt = null;
        else keysOf.add(key);
      }
      if (freshAt) {
        // (site, iseq: the lowest slot's cell's; db_version: the highest, for max_version)
        let low = freshAt[0];
        let dv = 0;
        for (const at of freshAt) {
          if (slotIn(shape, changes[at].cid) < slotIn(shape, changes[low].cid)) low = at;
          dv = Math.max(dv, changes[at].db_version);
        }
        // the row's clock implies the first versions that share the lowest slot's (one writer's
        // insert, as a local insert's clock does); the others' clocks are staged with them
        const l = changes[low];
        const iseq = l.seq - slotIn(shape, l.cid);
        const implied = l.col_version === 1 ? l : null;
        const out = fresh.next(c.table, info.pks.length + 4 + 5 * info.columns.length);
        for (const k of keys[i]) out.push(k);
        out.push(ordOf(l.site_id), dv, iseq, implied ? implied.db_version : null);
        for (const at of freshAt) out.push(changes[at].val);
        for (const at of freshAt) {
          const x = changes[at];
          if (implied && x.col_version === 1 && storedAsGiven(shape.column.get(x.cid)!.affinity, x.val) && x.db_version === implied.db_version && x.seq - slotIn(shape, x.cid) === iseq && sameBytes(x.site_id, implied.site_id)) {
            out.push(null, null, null, null);
          } else out.push(x.col_version, x.db_version, ordOf(x.site_id), x.seq);
        }
      } else if (row) {
        const first = changes[row[0]];
        const nk = info.pks.length;
        const out = whole.next(c.table, nk + WHOLE_COLUMNS.length + info.columns.length);
        for (const k of keys[i]) out.push(k);
        out.push(ordOf(first.site_id), first.db_version, first.seq - slotIn(shape, first.cid), first.written_at ?? null);
        // the row's values in column order (slot order may differ: slots.ts)
        const at0 = out.length;
        for (let k = 0; k < info.columns.length; k++) out.push(null);
        for (const at of row) out[at0 + shape.column.get(changes[at].cid)!.index] = changes[at].val;
        for (let j = i, r = 0; j < end; j++) {
          if (row[r] === j) r++;
          else stageGeneral(changes[j], keys[j], info, shape);
        }
      } else {
        for (let j = i; j < end; j++) stageGeneral(changes[j], keys[j], info, shape);
      }
      i = end;
    }
    whole.flush();
    fresh.flush();
    general.flush();
    if (PROFILE) PROFILE.set('(staging)', (PROFILE.get('(staging)') ?? 0) + performance.now() - t0);
    return new Set([...whole.tables, ...fresh.tables, ...general.tables]);
  }

  /** Stages validated changes (with their decoded keys) and merges each table's batch; inside a transaction. */
  function apply(changes: Change[], keys: SqlValue[][]): void {
    for (const table of stage(changes, keys)) mergeTable(table, false);
  }

  return {
    apply,
    /**
     * Stages validated rows of INSERT INTO crsql_changes (changes-insert.ts) with what its trigger
     * staged, to merge with it (mergeStaged); inside a transaction. The tables staged.
     */
    stageAsSql: stage,
    /** merges what INSERT INTO crsql_changes staged for these tables */
    mergeStaged(tables: Iterable<string>): void {
      for (const t of tables) if (ctx.tables().has(t)) mergeTable(t, true);
    },
    /** what was staged rolled back */
    dropStaged(): void {
      wholeKeys.clear();
    },
    /** statements depend on the tables' shapes: forget them after a schema change */
    reset(): void {
      wholeKeys.clear();
      stageStmts.clear();
      programs.clear();
    },
  };
}
