// Making tables CRRs and keeping their triggers and clock tables in step with their schema:
// crsql_as_crr / crsql_as_table, the begin/commit_alter pair, and the repair that runs when the
// schema changed behind the engine's back (an ALTER by any program). Columns keep their stable
// slots (slots.ts): a renamed column keeps its versions, a dropped one's versions stay readable
// (dropped-columns.ts), a new one starts unversioned. A renamed table takes its clocks, history
// and merge policies along (its old name's triggers now sit on it: that is how a rename by any
// program is told from a drop).
//
// Every change it notices becomes an event for the schema log (schema-log.ts), except while it
// applies a peer's entry (quietly): that entry is the record.
//
// DDL on a CRR table through the engine's connection (guardAlter, from the prepare/exec wrapper
// in index.ts): an ALTER TABLE is re-derived at once, in its transaction, so a write right after
// it is tracked; a DROP COLUMN, which SQLite refuses while the tracking triggers and the engine's
// views name the column, runs with them dropped for that moment, after the column's versions
// moved to the dropped table.
import type Database from 'better-sqlite3';
import { checkCrrRules, quoteId, readTableInfo, type TableInfo } from './table-info.ts';
import { createClockTablesSql, deadTable, deadValue, dropClockTablesSql, pkMatch, rowsTable } from './clock-tables.ts';
import { cellWriteSqls, dropLocalTriggersSql, dropRarePathsSql, localTriggersSql } from './local-triggers.ts';
import { HAS_COUNTER_SQL } from './counter.ts';
import { dropPolicyCellsSql } from './policy-columns.ts';
import { POLICY_WINS } from './history.ts';
import { backfillSql } from './backfill.ts';
import { initialShape, parseShape, reconcileShape, shapeJson, withSlots, type TableShape } from './slots.ts';
import { dropDroppedSql, keepColumnSql, keepVersionRowsSql } from './dropped-columns.ts';
import { alterOf, mayAlter, splitStatements } from './ddl-statements.ts';
import type { SchemaEvent } from './schema-log.ts';

export interface SchemaContext {
  db: Database.Database;
  prepare: (sql: string) => Database.Statement;
  exec: (sql: string) => void;
  inTx: <T>(fn: () => T) => T;
  history: boolean;
  /** the last db_version stamped (new columns are versioned from the next one) */
  version: () => number;
  /** publish the open marker (asCrr of a new table seals its backfill) */
  seal: () => void;
  /** the TEMP objects must be rebuilt for the new set of tables */
  changed: (tables: Map<string, TableInfo>) => void;
  /** the schema changes noticed, for the schema log (inside the transaction that noticed them) */
  record: (events: SchemaEvent[]) => void;
  /** after a repair: publish what it sealed, tell listeners (nothing inside a transaction) */
  flush: () => void;
}

/** the engine's views in the file and the connection's crsql_changes: SQLite will not drop a column one of them names */
const ENGINE_VIEWS = ['crr_history', 'crr_conflicts', 'temp.crsql_changes'];
/** clock objects named after their table (clock-tables.ts, dropped-columns.ts) */
const CLOCK_TABLES = ['rows', 'v', 'forks', 'dead', 'dropped', 'counts', 'text'];
const CLOCK_INDEXES = ['dead_k', 'dead_db', 'rows_i', 'rows_s', 'v_k', 'v_db', 'dropped_k', 'counts_db', 'text_db'];

export function createSchemaKeeper(ctx: SchemaContext) {
  let tables = new Map<string, TableInfo>();
  const altering = new Set<string>();
  const schemaVersion = ctx.prepare('PRAGMA schema_version').pluck().safeIntegers(false);
  let knownSchemaVersion = -1;
  /** > 0 while a peer's schema entry is applied: what changes is not logged again */
  let quiet = 0;
  let events: SchemaEvent[] = [];

  function storedShape(name: string, pkCount: number): TableShape | null {
    const json = ctx.prepare('SELECT columns FROM crr_tables WHERE name = ?').pluck().get(name) as string | undefined;
    return json === undefined ? null : parseShape(json, pkCount);
  }

  function saveShape(name: string, shape: TableShape): void {
    ctx
      .prepare('INSERT INTO crr_tables (name, columns) VALUES (?, ?) ON CONFLICT DO UPDATE SET columns = excluded.columns')
      .run(name, shapeJson(shape));
  }

  function installTable(info: TableInfo): void {
    ctx.exec(dropLocalTriggersSql(ctx, info.name));
    ctx.exec(createClockTablesSql(info));
    ctx.exec(localTriggersSql(info, ctx.history, ctx.prepare(HAS_COUNTER_SQL).get(info.name) !== undefined));
  }

  /** the table's own indexes (not its key's or a UNIQUE constraint's, not the engine's): name → CREATE INDEX */
  function userIndexes(table: string): Record<string, string> {
    const rows = ctx
      .prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`)
      .all(table) as { name: string; sql: string }[];
    return Object.fromEntries(rows.map((r) => [r.name, r.sql]));
  }

  const note = (e: SchemaEvent) => {
    if (quiet === 0) events.push(e);
  };

  /**
   * Indexes that came or went. One kept under its name is the same index (SQLite rewrites its
   * statement when the table or a column it names is renamed; an index is never altered in place).
   */
  function noteIndexes(table: string, before: Record<string, string> | undefined, now: Record<string, string>): void {
    if (!before) return; // first sight (older files): the baseline
    for (const [name, sql] of Object.entries(now)) {
      if (before[name] === undefined && !/^\s*CREATE\s+UNIQUE\b/i.test(sql)) note({ kind: 'create-index', table, index: name, sql });
    }
    for (const name of Object.keys(before)) if (now[name] === undefined) note({ kind: 'drop-index', table, index: name });
  }

  /** add-column's description of a column as it is now */
  function columnEvent(table: string, column: string): SchemaEvent {
    const c = ctx.prepare('SELECT type, "notnull", dflt_value FROM pragma_table_info(?) WHERE name = ?').safeIntegers(false).get(table, column) as
      | { type: string; notnull: number; dflt_value: string | null }
      | undefined;
    return { kind: 'add-column', table, column, type: c?.type ?? '', notNull: c?.notnull === 1, default: c?.dflt_value ?? null };
  }

  /** Records the events noticed, inside the transaction that noticed them (they go if it rolls back). */
  function recordEvents(): void {
    const noticed = events;
    events = [];
    if (noticed.length) ctx.record(noticed);
  }

  function done(): void {
    // the TEMP objects first: rewriting the history views (in the file) changes the schema too
    ctx.changed(tables);
    knownSchemaVersion = schemaVersion.get() as number;
    ctx.flush();
  }

  function load(): void {
    // a CRR table dropped by another program is forgotten by repair()
    const names = ctx
      .prepare(`SELECT name FROM crr_tables WHERE name IN (SELECT name FROM sqlite_schema WHERE type = 'table') ORDER BY name`)
      .pluck()
      .all() as string[];
    tables = new Map(
      names.map((n) => {
        const info = readTableInfo(ctx.db, n);
        const shape = storedShape(n, info.pks.length);
        // a shape that no longer matches is reconciled by repair()
        const matches = shape && info.columns.every((c) => shape.cols.some((s) => s[0] === c));
        return [n, matches ? withSlots(info, shape!) : info];
      }),
    );
  }

  function asCrr(table: string): void {
    ctx.inTx(() => {
      const checked = checkCrrRules(ctx.db, table);
      const already = tables.get(table);
      const info = already ?? withSlots(checked, initialShape(checked));
      if (!already) {
        const ix = userIndexes(table);
        saveShape(table, { ...initialShape(checked), ix });
        const sql = ctx.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck().get(table) as string;
        note({ kind: 'share-table', table, sql });
        for (const [index, ixSql] of Object.entries(ix)) if (!/^\s*CREATE\s+UNIQUE\b/i.test(ixSql)) note({ kind: 'create-index', table, index, sql: ixSql });
      }
      installTable(info);
      ctx.exec(backfillSql(info));
      tables.set(table, info);
      recordEvents();
      if (!already) ctx.seal();
    });
    done();
  }

  function asTable(table: string): void {
    ctx.inTx(() => {
      ctx.exec(dropLocalTriggersSql(ctx, table));
      ctx.exec(dropClockTablesSql(table) + dropDroppedSql(table));
      ctx.prepare('DELETE FROM crr_tables WHERE name = ?').run(table);
      tables.delete(table);
      note({ kind: 'stop-sharing', table });
      recordEvents();
    });
    done();
  }

  function beginAlter(table: string): void {
    if (!tables.has(table)) throw new Error(`crsql_begin_alter: "${table}" is not a CRR table`);
    ctx.inTx(() => ctx.exec(dropLocalTriggersSql(ctx, table)));
    // until crsql_commit_alter, schema changes are expected: do not repair behind the user's back
    altering.add(table);
    ctx.changed(tables);
  }

  function commitAlter(table: string): void {
    if (!tables.has(table)) throw new Error(`crsql_commit_alter: "${table}" is not a CRR table`);
    altering.delete(table);
    repair();
  }

  /** The table a CRR table `name` was renamed to (by any program): its triggers moved there. */
  function renamedTo(name: string, known: Set<string>): string | null {
    const on = ctx.prepare(`SELECT tbl_name FROM sqlite_schema WHERE type = 'trigger' AND name = ?`).pluck().get(`${name}__crr_insert`) as string | undefined;
    if (on === undefined || on === name || known.has(on)) return null;
    return ctx.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(on) ? on : null;
  }

  /** Renames a CRR table's clock tables, its entry and its merge policies to follow the table. */
  function moveTable(from: string, to: string): void {
    // the engine's views name the clock tables, and the old triggers are re-derived below
    ctx.exec(ENGINE_VIEWS.map((v) => `DROP VIEW IF EXISTS ${v};`).join('\n'));
    const triggers = ctx
      .prepare(`SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE ? ESCAPE '\\'`)
      .pluck()
      .all(`${from.replace(/[\\%_]/g, (m) => '\\' + m)}\\_\\_crr\\_%`) as string[];
    ctx.exec(triggers.map((t) => `DROP TRIGGER IF EXISTS ${quoteId(t)};`).join('\n') + dropRarePathsSql(from));
    for (const s of CLOCK_INDEXES) ctx.exec(`DROP INDEX IF EXISTS ${quoteId(`${from}__crr_${s}`)};`);
    const exists = ctx.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).pluck();
    for (const s of CLOCK_TABLES) {
      if (exists.get(`${from}__crr_${s}`)) ctx.exec(`ALTER TABLE ${quoteId(`${from}__crr_${s}`)} RENAME TO ${quoteId(`${to}__crr_${s}`)}`);
    }
    ctx.prepare('UPDATE crr_tables SET name = ? WHERE name = ?').run(to, from);
    movePolicies(from, null, to, null);
  }

  /**
   * Merge policies follow a renamed table (cid null) or column. An entry already under the new
   * name (a peer's, which renamed first) meets the moved one as peers' entries do.
   */
  function movePolicies(table: string, cid: string | null, toTable: string, toCid: string | null): void {
    const p = { table, cid, toTable, toCid };
    ctx.prepare(`INSERT INTO crr_policies (tbl, cid, policy, clock, site)
      SELECT @toTable, coalesce(@toCid, cid), policy, clock, site FROM crr_policies WHERE tbl = @table AND (@cid IS NULL OR cid = @cid) ${POLICY_WINS}`).run(p);
    ctx.prepare('DELETE FROM crr_policies WHERE tbl = @table AND (@cid IS NULL OR cid = @cid)').run(p);
  }

  /** Re-derive triggers and clock tables for the tables' current shape; unchanged data keeps its versions. */
  function repair(): void {
    ctx.inTx(() => {
      const names = ctx.prepare('SELECT name FROM crr_tables').pluck().all() as string[];
      const known = new Set(names);
      const next = new Map<string, TableInfo>();
      for (let name of names) {
        const exists = ctx.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(name);
        if (!exists) {
          const to = renamedTo(name, known);
          if (to === null) {
            // dropped behind our back: forget its clocks (and the views its rare inserts recorded behind)
            ctx.exec(dropRarePathsSql(name) + dropClockTablesSql(name) + dropDroppedSql(name));
            ctx.prepare('DELETE FROM crr_tables WHERE name = ?').run(name);
            note({ kind: 'drop-table', table: name });
            continue;
          }
          moveTable(name, to);
          note({ kind: 'rename-table', table: name, to });
          known.add(to);
          name = to;
        }
        const schema = readTableInfo(ctx.db, name);
        const stored = storedShape(name, schema.pks.length)!;
        const ix = userIndexes(name);
        if (stored.pks.join('\0') !== schema.pks.join('\0')) {
          // a new primary key makes old clocks meaningless: start the table's history again
          // (not a schema-log entry: peers' changes keyed the old way wait, held, until they rebuild too)
          ctx.exec(dropLocalTriggersSql(ctx, name) + dropClockTablesSql(name) + dropDroppedSql(name));
          const shape = { ...initialShape(schema), ix };
          saveShape(name, shape);
          const info = withSlots(schema, shape);
          installTable(info);
          ctx.exec(backfillSql(info));
          next.set(name, info);
          continue;
        }
        const change = reconcileShape(stored, schema, ctx.version() + 1);
        const dead = deadTable(name);
        const storedInfo = withSlots({ ...schema, columns: stored.cols.map((c) => c[0]) }, stored);
        for (const [, from, to] of change.renamed) {
          movePolicies(name, from, name, to);
          note({ kind: 'rename-column', table: name, column: from, to });
        }
        for (const slot of change.dropped) {
          const cid = stored.cols.find((c) => c[1] === slot)![0];
          // what guardAlter has not moved yet (a drop between begin/commit_alter): the version rows
          for (const sql of keepVersionRowsSql(storedInfo, slot, cid, ctx.version() + 1)) ctx.exec(sql);
          if (columnExists(dead, `crr_v${slot}`)) ctx.exec(`ALTER TABLE ${dead} DROP COLUMN ${deadValue(slot)}`);
          // a counter's contributions and a text's states go with it (its versions stay readable, above)
          ctx.exec(dropPolicyCellsSql(name, slot));
          ctx.prepare('DELETE FROM crr_policies WHERE tbl = ? AND cid = ?').run(name, cid);
          note({ kind: 'drop-column', table: name, column: cid });
        }
        for (const slot of change.added) {
          if (!columnExists(dead, `crr_v${slot}`)) ctx.exec(`ALTER TABLE ${dead} ADD COLUMN ${deadValue(slot)}`);
          note(columnEvent(name, change.shape.cols.find((c) => c[1] === slot)![0]));
        }
        noteIndexes(name, stored.ix, ix);
        saveShape(name, { ...change.shape, ix });
        const info = withSlots(schema, change.shape);
        installTable(info);
        if (quiet === 0) for (const slot of change.added) trackWritesBeforeRepair(info, info.slots.indexOf(slot));
        next.set(name, info);
      }
      tables = next;
      recordEvents();
    });
    done();
  }

  /**
   * Writes to a column added by another program before the engine noticed (ALTER TABLE … ADD
   * COLUMN, then UPDATE … SET it, in one script of the sqlite3 CLI): the triggers did not know the
   * column yet. Its rows were all at the default when it was added, so a row holding another
   * value (and no implied first version covering the column) was written since: recorded now as
   * this replica's write, as the trigger would have.
   */
  function trackWritesBeforeRepair(info: TableInfo, i: number): void {
    const dflt = ctx.prepare('SELECT dflt_value FROM pragma_table_info(?) WHERE name = ?').pluck().get(info.name, info.columns[i]) as string | null;
    const col = quoteId(info.columns[i]);
    const pkB = info.pks.map((p) => `b.${quoteId(p)}`);
    const written = ctx
      .prepare(
        `SELECT ${pkB.join(', ')}, b.${col} FROM ${quoteId(info.name)} b WHERE b.${col} IS NOT (${dflt ?? 'NULL'})
         AND NOT EXISTS (SELECT 1 FROM ${rowsTable(info.name)} r WHERE ${pkMatch(info, 'r', pkB)} AND r.i_cl = r.cl AND ${info.since[i]} <= r.i_version)`,
      )
      .raw()
      .safeIntegers(true)
      .all() as unknown[][];
    if (!written.length) return;
    const params = info.pks.map((_, k) => `@p${k}`);
    const stmts = cellWriteSqls(info, i, params, '@val', 'NULL', ctx.history).map((sql) => ctx.prepare(sql));
    for (const row of written) {
      const bind = { ...Object.fromEntries(info.pks.map((_, k) => [`p${k}`, row[k]])), val: row[info.pks.length] };
      for (const s of stmts) s.run(bind);
    }
  }

  function columnExists(table: string, column: string): boolean {
    const name = table.slice(1, -1).replace(/""/g, '"');
    return ctx.prepare('SELECT 1 FROM pragma_table_info(?) WHERE name = ?').get(name, column) !== undefined;
  }

  /** Repairs first if the schema changed since the engine last looked (any program's ALTER). */
  function ensureCurrent(): void {
    if (altering.size > 0) return;
    const v = schemaVersion.get() as number;
    if (v !== knownSchemaVersion) {
      knownSchemaVersion = v;
      if (tables.size > 0 || (ctx.prepare('SELECT count(*) FROM crr_tables').pluck().get() as number) > 0) repair();
    }
  }

  /** The CRR table an identifier names (SQLite compares table names without case). */
  const crrNamed = (name: string) => [...tables.keys()].find((t) => t.toLowerCase() === name.toLowerCase()) ?? null;

  /**
   * Runs one statement that may ALTER a CRR table (the wrapper's run): re-derives tracking right
   * after it in the same transaction, the column's versions kept and the engine's triggers and
   * views out of the way first for a DROP COLUMN.
   */
  function guardAlter<T>(sql: string, run: () => T): T {
    const a = alterOf(sql);
    const table = a && crrNamed(a.table);
    if (!a || !table || altering.has(table)) return run();
    return ctx.inTx(() => {
      ensureCurrent();
      if (a.action.kind === 'drop-column') {
        const info = tables.get(table)!;
        const col = a.action.column.toLowerCase();
        const i = info.columns.findIndex((c) => c.toLowerCase() === col);
        if (i >= 0) for (const s of keepColumnSql(info, info.slots[i], info.columns[i], ctx.version() + 1)) ctx.exec(s);
        ctx.exec(dropLocalTriggersSql(ctx, table) + ENGINE_VIEWS.map((v) => `DROP VIEW IF EXISTS ${v};`).join('\n'));
      }
      const result = run();
      repair();
      return result;
    });
  }

  /** db.exec of a script: its ALTER TABLE statements on CRR tables one by one through guardAlter. */
  function execGuarded(sql: string, exec: (sql: string) => void): void {
    if (!mayAlter(sql) || tables.size === 0) return exec(sql);
    const parts = splitStatements(sql);
    if (!parts.some((p) => alterOf(p) && crrNamed(alterOf(p)!.table))) return exec(sql);
    for (const p of parts) guardAlter(p, () => exec(p));
  }

  /** Applies DDL for a peer's schema entry: re-derived at once, not logged (the entry is the record). */
  function quietly<T>(fn: () => T): T {
    quiet++;
    try {
      return fn();
    } finally {
      quiet--;
    }
  }

  return {
    tables: () => tables,
    altering: altering as ReadonlySet<string>,
    load,
    asCrr,
    asTable,
    beginAlter,
    commitAlter,
    repair,
    ensureCurrent,
    guardAlter,
    execGuarded,
    /** for the schema log: a peer's entry, applied through the same paths */
    peerApply: {
      alter: (sql: string) => quietly(() => guardAlter(sql, () => ctx.exec(sql))),
      ddl: (sql: string) =>
        quietly(() => {
          ctx.prepare(sql).run();
          repair();
        }),
      asCrr: (t: string) => quietly(() => asCrr(t)),
      asTable: (t: string) => quietly(() => asTable(t)),
    },
  };
}
