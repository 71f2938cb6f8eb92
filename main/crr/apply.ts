// Applying incoming changes: staging them in the merge program's TEMP table and running the
// program (merge.ts) once per table and batch.
//
// applyChanges stages a whole batch, one prepared INSERT per change inside the batch's
// transaction: measured on 100k changes, 1.4 µs a change, where one statement over a JSON
// parameter (json_each) took 4.2 µs (each ->> of a field parses its element again).
// INSERT INTO crsql_changes stages row by row in its trigger, and the engine merges what was
// staged once, before the next statement that is not such an INSERT (index.ts).
import type Database from 'better-sqlite3';
import type { Change } from './types.ts';
import type { SqlValue } from '../../shared/values.ts';
import type { TableInfo } from './table-info.ts';
import { incomingTable, mergeProgram, STAGED_COLUMNS } from './merge.ts';

type Statement = Database.Statement;
/** CRR_PROFILE_MERGE=1: time spent per statement of the merge program (printed at exit) */
const PROFILE = process.env.CRR_PROFILE_MERGE ? new Map<string, number>() : null;
if (PROFILE) {
  process.on('exit', () => {
    for (const [sql, ms] of [...PROFILE.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(ms.toFixed(1).padStart(9), sql.replace(/\s+/g, ' ').slice(0, Number(process.env.CRR_PROFILE_MERGE) > 1 ? 100000 : 110));
  });
}

const bind = (v: SqlValue): unknown => (v instanceof Uint8Array ? Buffer.from(v) : v);

/**
 * The statement that stages `rows` changes for one table: one statement binds a run of changes
 * (a JS call per change cost more than the merge program itself in a clone).
 */
function stageSql(info: TableInfo, rows: number): string {
  const cols = [...info.pks.map((_, i) => `p${i}`), ...STAGED_COLUMNS];
  const tuple = `(${cols.map(() => '?').join(', ')})`;
  return `INSERT OR IGNORE INTO ${incomingTable(info.name)} (${cols.join(', ')}) VALUES ${Array(rows).fill(tuple).join(', ')}`;
}

/** Run lengths a staging statement is prepared for (the rest of a run goes by smaller ones). */
const RUNS = [64, 8, 1];

export interface ApplierContext {
  prepare: (sql: string) => Statement;
  tables: () => Map<string, TableInfo>;
  history: () => boolean;
}

export function createApplier(ctx: ApplierContext) {
  const stageStmts = new Map<string, Statement>();
  const programs = new Map<string, Statement[]>();
  const siteStmt = { insert: ctx.prepare('INSERT OR IGNORE INTO crr_sites (site_id) VALUES (?)'), ord: ctx.prepare('SELECT ord FROM crr_sites WHERE site_id = ?').pluck() };

  function runProgram(table: string): void {
    let program = programs.get(table);
    if (!program) {
      program = mergeProgram(ctx.tables().get(table)!, ctx.history()).map((sql) => ctx.prepare(sql));
      programs.set(table, program);
    }
    for (const stmt of program) {
      const t0 = PROFILE ? performance.now() : 0;
      if (stmt.reader) stmt.all();
      else stmt.run();
      if (PROFILE) PROFILE.set(stmt.source, (PROFILE.get(stmt.source) ?? 0) + performance.now() - t0);
    }
  }

  /** Stages validated changes (with their decoded keys) and merges each table's batch; inside a transaction. */
  function apply(changes: Change[], keys: SqlValue[][]): void {
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
    const touched = new Set<string>();
    const t0 = PROFILE ? performance.now() : 0;
    // a run of changes to one table, bound into as few statements as RUNS allows
    let run: unknown[][] = [];
    let runTable = '';
    const flush = () => {
      let at = 0;
      for (const size of RUNS) {
        const key = `${size}:${runTable}`;
        for (; run.length - at >= size; at += size) {
          let stage = stageStmts.get(key);
          if (!stage) {
            stage = ctx.prepare(stageSql(ctx.tables().get(runTable)!, size));
            stageStmts.set(key, stage);
          }
          stage.run(run.slice(at, at + size).flat());
        }
      }
      run = [];
    };
    changes.forEach((c, i) => {
      if (c.table !== runTable) {
        if (run.length) flush();
        runTable = c.table;
      }
      const info = ctx.tables().get(c.table)!;
      const slot = c.cid === '-1' ? -1 : info.slots[info.columns.indexOf(c.cid)];
      const parent = c.parent ?? null;
      const res = c.resolves ?? null;
      run.push([
        ...keys[i].map(bind),
        slot,
        bind(c.val),
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
      ]);
      touched.add(c.table);
    });
    if (run.length) flush();
    if (PROFILE) PROFILE.set('(staging)', (PROFILE.get('(staging)') ?? 0) + performance.now() - t0);
    for (const table of touched) runProgram(table);
  }

  return {
    apply,
    /** merges what INSERT INTO crsql_changes staged for these tables */
    mergeStaged(tables: Iterable<string>): void {
      for (const t of tables) if (ctx.tables().has(t)) runProgram(t);
    },
    /** statements depend on the tables' shapes: forget them after a schema change */
    reset(): void {
      stageStmts.clear();
      programs.clear();
    },
  };
}
