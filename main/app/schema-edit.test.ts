import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DatabaseService } from './service.ts';
import { tempDir } from '../crr/test-helpers.ts';
import { rejection } from './test-rejection.ts';
import type { SchemaChange } from '../../shared/api.ts';
import type { CrrEngine } from '../crr/types.ts';

const tmp = tempDir('schema-edit-');
afterAll(() => tmp.cleanup());
let n = 0;

async function opened(seed = '') {
  const path = join(tmp.dir, `s${++n}.db`);
  const db = new Database(path);
  db.exec(seed || 'SELECT 1');
  db.close();
  const svc = new DatabaseService();
  await svc.openDatabase({ path });
  const engine = (svc as unknown as { engine: CrrEngine }).engine;
  return { svc, path, engine };
}

async function apply(svc: DatabaseService, change: SchemaChange, enableCrr = false) {
  const preview = await svc.previewSchemaChange({ change });
  await svc.applySchemaChange({ change, expect: preview.statements, enableCrr });
  return preview;
}

describe('structure editor', () => {
  it('creates a table with types, key, defaults and NOT NULL, shown as SQL first, and shares it at once', async () => {
    const { svc, engine } = await opened();
    const change: SchemaChange = {
      kind: 'create-table',
      table: 'tasks',
      columns: [
        { name: 'id', type: 'INTEGER', notNull: false, defaultSql: null },
        { name: 'title', type: 'TEXT', notNull: true, defaultSql: "''" },
        { name: 'due', type: 'TEXT', notNull: false, defaultSql: 'CURRENT_DATE' },
        { name: 'weight', type: 'REAL', notNull: false, defaultSql: '-1.5' },
        { name: 'size', type: 'VARCHAR(20)', notNull: false, defaultSql: "length('ab')" },
      ],
      primaryKey: ['id'],
    };
    const preview = await svc.previewSchemaChange({ change });
    expect(preview.statements).toEqual([
      `CREATE TABLE "tasks" (\n  "id" INTEGER NOT NULL,\n  "title" TEXT NOT NULL DEFAULT '',\n  "due" TEXT DEFAULT CURRENT_DATE,\n  "weight" REAL DEFAULT -1.5,\n  "size" VARCHAR(20) DEFAULT (length('ab')),\n  PRIMARY KEY ("id")\n)`,
    ]);
    // a preview runs nothing
    expect((await svc.listTables()).map((t) => t.name)).toEqual([]);
    await svc.applySchemaChange({ change, expect: preview.statements, enableCrr: true });
    expect(engine.isCrr('tasks')).toBe(true);
    const row = await svc.insertRow({ table: 'tasks', values: {} });
    expect(row.values.slice(1, 2)).toEqual(['']);
    expect(row.values[3]).toEqual({ r: -1.5 });
    expect(row.values[4]).toEqual('2'); // a VARCHAR column has TEXT affinity
  });

  it('refuses bad names and types before anything runs', async () => {
    const { svc } = await opened(`CREATE TABLE t (a)`);
    const base = { kind: 'create-table' as const, primaryKey: [] };
    expect((await rejection(svc.previewSchemaChange({ change: { ...base, table: 't', columns: [{ name: 'a', type: '', notNull: false, defaultSql: null }] } }))).message).toMatch(/t exists already/);
    expect((await rejection(svc.previewSchemaChange({ change: { ...base, table: 'x', columns: [{ name: 'a', type: "TEXT'); DROP TABLE t; --", notNull: false, defaultSql: null }] } }))).message).toMatch(/is not a type SQLite takes/);
    expect((await rejection(svc.previewSchemaChange({ change: { ...base, table: 'x', columns: [{ name: 'a', type: '', notNull: false, defaultSql: null }, { name: 'A', type: '', notNull: false, defaultSql: null }] } }))).message).toMatch(/Two columns/);
    expect((await rejection(svc.previewSchemaChange({ change: { ...base, table: 'x', columns: [{ name: 'a', type: '', notNull: false, defaultSql: 'b + 1' }, { name: 'b', type: '', notNull: false, defaultSql: null }] } }))).message).toMatch(/not constant/);
  });

  it('adds, renames and drops columns of a plain and of a collaborative table, which stays tracked', async () => {
    const { svc, path, engine } = await opened(`CREATE TABLE notes (id INTEGER PRIMARY KEY NOT NULL, body TEXT, old TEXT); INSERT INTO notes VALUES (1, 'a', 'x');
      CREATE TABLE plain (a, b); INSERT INTO plain VALUES (1, 2);`);
    await svc.enableCrr({ table: 'notes' });
    for (const table of ['notes', 'plain']) {
      const first = table === 'notes' ? 'body' : 'a';
      await apply(svc, { kind: 'add-column', table, column: { name: 'tag', type: 'TEXT', notNull: true, defaultSql: "'none'" } });
      await apply(svc, { kind: 'rename-column', table, column: first, to: 'renamed' });
      const preview = await apply(svc, { kind: 'drop-column', table, column: table === 'notes' ? 'old' : 'b' });
      expect(preview.statements).toEqual([`ALTER TABLE "${table}" DROP COLUMN "${table === 'notes' ? 'old' : 'b'}"`]);
      expect((await svc.tableSchema({ table })).columns.map((c) => c.name)).toEqual(table === 'notes' ? ['id', 'renamed', 'tag'] : ['renamed', 'tag']);
    }
    expect(engine.isCrr('notes')).toBe(true);
    const v = engine.dbVersion();
    const other = new Database(path);
    other.prepare(`UPDATE notes SET renamed = 'b', tag = 't' WHERE id = 1`).run();
    other.close();
    engine.noticeChanges();
    expect(engine.changesSince(v).map((c) => [c.cid, c.val]).sort()).toEqual([['renamed', 'b'], ['tag', 't']]);
  });

  it('says what SQLite refuses, in the preview, changing nothing', async () => {
    const { svc } = await opened(`CREATE TABLE t (a, b); CREATE INDEX t_b ON t (b); INSERT INTO t VALUES (1, 2);`);
    const err = await rejection(svc.previewSchemaChange({ change: { kind: 'add-column', table: 't', column: { name: 'c', type: 'TEXT', notNull: true, defaultSql: null } } }));
    expect(err.message).toMatch(/NOT NULL.*default/i);
    const used = await rejection(svc.previewSchemaChange({ change: { kind: 'drop-column', table: 't', column: 'b' } }));
    expect(used.message).toMatch(/t_b/);
    expect((await svc.tableSchema({ table: 't' })).columns.map((c) => c.name)).toEqual(['a', 'b']);
  });

  it('creates and drops indexes; a UNIQUE constraint index goes by a rebuild; unique indexes stay off shared tables', async () => {
    const { svc, path } = await opened(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT UNIQUE, b); INSERT INTO t VALUES (1, 'x', 2), (2, 'y', 2);
      CREATE TABLE s (id INTEGER PRIMARY KEY NOT NULL, v);`);
    await apply(svc, { kind: 'create-index', table: 't', name: 't_b', columns: ['b'], unique: false });
    expect((await svc.tableSchema({ table: 't' })).indexes.map((i) => i.name)).toContain('t_b');
    await apply(svc, { kind: 'drop-index', table: 't', index: 't_b' });
    const preview = await apply(svc, { kind: 'drop-index', table: 't', index: 'sqlite_autoindex_t_1' });
    expect(preview.statements[0]).toMatch(/^SELECT NOT EXISTS|^CREATE TABLE "t__rebuild"/);
    const schema = await svc.tableSchema({ table: 't' });
    expect(schema.indexes).toEqual([]);
    expect(schema.crrRefusal).toBeNull();
    await svc.enableCrr({ table: 's' });
    const err = await rejection(svc.previewSchemaChange({ change: { kind: 'create-index', table: 's', name: 's_v', columns: ['v'], unique: true } }));
    expect(err.message).toMatch(/collaborative: a unique index/);
    const db = new Database(path, { readonly: true });
    expect(db.prepare(`SELECT * FROM t ORDER BY id`).raw().all()).toEqual([[1, 'x', 2], [2, 'y', 2]]);
    db.close();
  });

  it('copies a virtual table into an ordinary one', async () => {
    const { svc } = await opened(`CREATE VIRTUAL TABLE docs USING fts4(title, body); INSERT INTO docs VALUES ('a', 'b'), ('c', NULL);`);
    const { problems, fix } = await svc.crrProblems({ table: 'docs' });
    expect(problems.map((p) => p.kind)).toEqual(['virtual']);
    expect(fix).toBeNull();
    await apply(svc, { kind: 'copy-table', table: 'docs', to: 'docs_copy' });
    await apply(svc, { kind: 'rebuild', table: 'docs_copy', primaryKey: { addId: 'id' } }, true);
    // (FTS4, not FTS5: listTables fails on FTS5's WITHOUT ROWID shadow tables while sqlite_stat1 is missing)
    expect(await svc.tableSchema({ table: 'docs_copy' })).toMatchObject({ isCrr: true, keyColumns: ['id'] });
    expect(await svc.countRows({ table: 'docs_copy' })).toBe(2);
  });
});
