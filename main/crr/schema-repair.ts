// Making tables CRRs and keeping their triggers and clock tables in step with their schema:
// crsql_as_crr / crsql_as_table, the begin/commit_alter pair, and the repair that runs when the
// schema changed behind the engine's back (an ALTER by any program). Columns keep their stable
// slots (slots.ts): a renamed column keeps its versions, a dropped one loses them, a new one
// starts unversioned.
import type Database from 'better-sqlite3';
import { checkCrrRules, readTableInfo, type TableInfo } from './table-info.ts';
import { createClockTablesSql, deadTable, deadValue, dropClockTablesSql, forksTable, versionsTable } from './clock-tables.ts';
import { dropLocalTriggersSql, localTriggersSql } from './local-triggers.ts';
import { HAS_COUNTER_SQL } from './counter.ts';
import { backfillSql } from './backfill.ts';
import { initialShape, parseShape, reconcileShape, shapeJson, withSlots, type TableShape } from './slots.ts';

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
}

export function createSchemaKeeper(ctx: SchemaContext) {
  let tables = new Map<string, TableInfo>();
  const altering = new Set<string>();
  const schemaVersion = ctx.prepare('PRAGMA schema_version').pluck().safeIntegers(false);
  let knownSchemaVersion = -1;

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

  function done(): void {
    // the TEMP objects first: rewriting the history views (in the file) changes the schema too
    ctx.changed(tables);
    knownSchemaVersion = schemaVersion.get() as number;
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
      if (!already) saveShape(table, initialShape(checked));
      installTable(info);
      ctx.exec(backfillSql(info));
      tables.set(table, info);
      if (!already) ctx.seal();
    });
    done();
  }

  function asTable(table: string): void {
    ctx.inTx(() => {
      ctx.exec(dropLocalTriggersSql(ctx, table));
      ctx.exec(dropClockTablesSql(table));
      ctx.prepare('DELETE FROM crr_tables WHERE name = ?').run(table);
      tables.delete(table);
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

  /** Re-derive triggers and clock tables for the tables' current shape; unchanged data keeps its versions. */
  function repair(): void {
    ctx.inTx(() => {
      const names = ctx.prepare('SELECT name FROM crr_tables').pluck().all() as string[];
      const next = new Map<string, TableInfo>();
      for (const name of names) {
        const exists = ctx.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(name);
        if (!exists) {
          // dropped behind our back: forget its clocks
          ctx.exec(dropClockTablesSql(name));
          ctx.prepare('DELETE FROM crr_tables WHERE name = ?').run(name);
          continue;
        }
        const schema = readTableInfo(ctx.db, name);
        const stored = storedShape(name, schema.pks.length)!;
        if (stored.pks.join('\0') !== schema.pks.join('\0')) {
          // a new primary key makes old clocks meaningless: start the table's history again
          ctx.exec(dropLocalTriggersSql(ctx, name) + dropClockTablesSql(name));
          const shape = initialShape(schema);
          saveShape(name, shape);
          const info = withSlots(schema, shape);
          installTable(info);
          ctx.exec(backfillSql(info));
          next.set(name, info);
          continue;
        }
        const change = reconcileShape(stored, schema, ctx.version() + 1);
        const dead = deadTable(name);
        for (const slot of change.dropped) {
          ctx.prepare(`DELETE FROM ${versionsTable(name)} WHERE slot = ?`).run(slot);
          ctx.prepare(`DELETE FROM ${forksTable(name)} WHERE slot = ?`).run(slot);
          if (columnExists(dead, `crr_v${slot}`)) ctx.exec(`ALTER TABLE ${dead} DROP COLUMN ${deadValue(slot)}`);
        }
        for (const slot of change.added) {
          if (!columnExists(dead, `crr_v${slot}`)) ctx.exec(`ALTER TABLE ${dead} ADD COLUMN ${deadValue(slot)}`);
        }
        saveShape(name, change.shape);
        const info = withSlots(schema, change.shape);
        installTable(info);
        next.set(name, info);
      }
      tables = next;
    });
    done();
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
  };
}
