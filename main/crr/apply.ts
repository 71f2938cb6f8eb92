// Applying incoming changes: staging them in the merge program's TEMP table and running the
// program (merge.ts) once per table and batch.
//
// applyChanges stages a whole batch per table with ONE statement over a JSON parameter
// (json_each), not a JS call per change: SQLite's JSON parser reads integers exactly (sent as
// text) and doubles exactly (JSON.stringify writes the shortest round-trip form; checked on
// 200k random doubles); blobs travel as hex. INSERT INTO crsql_changes stages row by row in its
// trigger, and the engine merges what a statement staged when the statement ends.
import type Database from 'better-sqlite3';
import type { Change } from './types.ts';
import type { SqlValue } from '../../shared/values.ts';
import type { TableInfo } from './table-info.ts';
import { incomingTable, mergeProgram, STAGED_COLUMNS } from './merge.ts';

type Statement = Database.Statement;

/** [type, value] of a SQL value in the staging JSON: 0 NULL, 1 INTEGER (digits), 2 REAL, 3 TEXT, 4 BLOB (hex), 5/6 ±Infinity */
function typed(v: SqlValue): [number, unknown] {
  if (v === null) return [0, null];
  if (typeof v === 'bigint') return [1, v.toString()];
  if (typeof v === 'number') return Number.isFinite(v) ? [2, v] : [v > 0 ? 5 : 6, null];
  if (typeof v === 'string') return [3, v];
  return [4, Buffer.from(v).toString('hex')];
}

const decoded = (t: string, v: string) =>
  `CASE ${t} WHEN 1 THEN CAST(${v} AS INTEGER) WHEN 2 THEN CAST(${v} AS REAL) WHEN 3 THEN ${v} WHEN 4 THEN unhex(${v})
     WHEN 5 THEN 9e999 WHEN 6 THEN -9e999 END`;

/** The statement that stages a JSON batch for one table. */
function stageJsonSql(info: TableInfo): string {
  const n = info.pks.length;
  const at = (i: number) => `j.value ->> ${i}`;
  const keys = info.pks.map((_, i) => decoded(at(2 * i), at(2 * i + 1)));
  const o = 2 * n;
  // after the key: slot, value (type, value), then the integers
  const rest = [at(o), decoded(at(o + 1), at(o + 2)), ...STAGED_COLUMNS.slice(2).map((_, k) => at(o + 3 + k))];
  return `INSERT INTO ${incomingTable(info.name)} (${info.pks.map((_, i) => `p${i}`).join(', ')}, ${STAGED_COLUMNS.join(', ')})
    SELECT ${[...keys, ...rest].join(', ')} FROM json_each(?) j`;
}

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
      if (stmt.reader) stmt.all();
      else stmt.run();
    }
  }

  /** Stages validated changes (with their decoded keys) and merges each table's batch; inside a transaction. */
  function apply(changes: Change[], keys: SqlValue[][]): void {
    const sites = new Map<string, number | null>();
    const ordOf = (id: Uint8Array | null | undefined): number | null => {
      if (!id) return null;
      const hex = Buffer.from(id).toString('hex');
      let ord = sites.get(hex);
      if (ord === undefined) {
        siteStmt.insert.run(Buffer.from(id));
        ord = Number(siteStmt.ord.get(Buffer.from(id)));
        sites.set(hex, ord);
      }
      return ord;
    };
    const byTable = new Map<string, unknown[][]>();
    changes.forEach((c, i) => {
      const info = ctx.tables().get(c.table)!;
      const slot = c.cid === '-1' ? -1 : info.slots[info.columns.indexOf(c.cid)];
      const parent = c.parent ?? null;
      const res = c.resolves ?? null;
      const row: unknown[] = [
        ...keys[i].flatMap(typed),
        slot,
        ...typed(c.val),
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
      ];
      let rows = byTable.get(c.table);
      if (!rows) byTable.set(c.table, (rows = []));
      rows.push(row);
    });
    for (const [table, rows] of byTable) {
      let stage = stageStmts.get(table);
      if (!stage) {
        stage = ctx.prepare(stageJsonSql(ctx.tables().get(table)!));
        stageStmts.set(table, stage);
      }
      stage.run(JSON.stringify(rows));
      runProgram(table);
    }
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
