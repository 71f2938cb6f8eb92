import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DatabaseService } from './service.ts';
import { tempDir } from '../crr/test-helpers.ts';
import { rejection } from './test-rejection.ts';
import type { SchemaChange } from '../../shared/api.ts';
import type { CrrEngine } from '../crr/types.ts';

const tmp = tempDir('rebuild-');
afterAll(() => tmp.cleanup());
let n = 0;

// Every kind of value SQLite stores, in a column without affinity and in typed ones: integers
// (also past 2^53), reals (also integral ones), text ('' apart from NULL, whitespace, line breaks,
// text that looks like a number), blobs (also empty), NULL.
const SEED = `
  CREATE TABLE mixed (anything, t TEXT, i INTEGER, r REAL, b BLOB, nn TEXT NOT NULL);
  INSERT INTO mixed VALUES
    (1, 'one', 1, 1.5, x'00ff', 'a'),
    (9007199254740993, '', 0, 2.0, x'', ' '),
    (2.5, NULL, NULL, NULL, NULL, ''),
    ('12', ' padded\r\nlines ', -7, -0.5, x'0a0d', 'b'),
    (x'deadbeef', '007', 9223372036854775807, 1e308, zeroblob(3), 'c'),
    (NULL, 'NULL', 42, 0.1, x'6e756c6c', 'd'),
    ('', 'x', 3, 3.0, NULL, 'e');
  DELETE FROM mixed WHERE rowid = 3;
  INSERT INTO mixed VALUES (2.5, NULL, NULL, NULL, NULL, '');`;

async function opened(seed = SEED) {
  const path = join(tmp.dir, `r${++n}.db`);
  const db = new Database(path);
  db.exec(seed);
  db.close();
  const svc = new DatabaseService();
  await svc.openDatabase({ path });
  const engine = (svc as unknown as { engine: CrrEngine }).engine;
  return { svc, path, engine };
}

/** Every row with its rowid, each value with its storage class, read by a separate connection. */
function exact(path: string, table: string, columns: string[], rowid = 'rowid') {
  const db = new Database(path, { readonly: true });
  const rows = db
    .prepare(`SELECT ${rowid} AS k, ${columns.map((c) => `typeof("${c}"), quote("${c}")`).join(', ')} FROM "${table}" ORDER BY ${rowid}`)
    .raw()
    .safeIntegers(true)
    .all();
  db.close();
  return rows;
}

async function apply(svc: DatabaseService, change: SchemaChange, enableCrr = false) {
  const preview = await svc.previewSchemaChange({ change });
  await svc.applySchemaChange({ change, expect: preview.statements, enableCrr });
  return preview;
}

const COLS = ['anything', 't', 'i', 'r', 'b', 'nn'];

describe('rebuilds keep every row and every value exactly', () => {
  it('adds an integer id holding the rowid', async () => {
    const { svc, path } = await opened();
    const before = exact(path, 'mixed', COLS);
    const preview = await apply(svc, { kind: 'rebuild', table: 'mixed', primaryKey: { addId: 'id' } });
    expect(preview.statements.join('\n')).toMatch(/CREATE TABLE "mixed__rebuild"[\s\S]*INSERT INTO "mixed__rebuild" \("id", "anything"/);
    expect(exact(path, 'mixed', COLS, 'id')).toEqual(before);
    expect(exact(path, 'mixed', COLS)).toEqual(before); // id is the rowid
    const schema = await svc.tableSchema({ table: 'mixed' });
    expect(schema.keyColumns).toEqual(['id']);
    expect(schema.crrRefusal).toMatch(/NOT NULL without a DEFAULT/);
  });

  it('makes chosen columns the key, keeping rowids', async () => {
    const { svc, path } = await opened();
    const before = exact(path, 'mixed', COLS);
    await apply(svc, { kind: 'rebuild', table: 'mixed', primaryKey: { columns: ['nn'] }, defaults: {} });
    expect(exact(path, 'mixed', COLS)).toEqual(before);
    expect((await svc.tableSchema({ table: 'mixed' })).columns.find((c) => c.name === 'nn')).toMatchObject({ pk: 1, notNull: true });
  });

  it('fixes everything the engine refuses at once and shares the table in the same transaction', async () => {
    const { svc, path, engine } = await opened(`${SEED}
      CREATE TABLE parent (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, code TEXT, total INT GENERATED ALWAYS AS (length(name)) STORED,
        ref INTEGER REFERENCES other (id) ON DELETE SET NULL);
      CREATE TABLE other (id INTEGER PRIMARY KEY);
      CREATE UNIQUE INDEX parent_code ON parent (code);
      CREATE INDEX parent_ref ON parent (ref);
      CREATE TABLE child (id INTEGER PRIMARY KEY NOT NULL, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);
      CREATE TRIGGER parent_log AFTER UPDATE ON parent BEGIN UPDATE child SET parent_id = parent_id WHERE parent_id = NEW.id; END;
      CREATE VIEW parent_names AS SELECT id, name FROM parent;
      INSERT INTO parent (name, code) VALUES ('a', 'x'), ('bb', NULL), ('ccc', 'z');
      DELETE FROM parent WHERE name = 'ccc';
      INSERT INTO child VALUES (1, 1), (2, 2), (3, 2);`);
    const { problems, fix } = await svc.crrProblems({ table: 'parent' });
    expect(problems.map((p) => p.kind)).toEqual(['generated', 'nullable-primary-key', 'autoincrement', 'foreign-key', 'unique-index', 'unique-index', 'not-null-without-default']);
    const cols = ['name', 'code', 'total', 'ref'];
    const before = exact(path, 'parent', cols);
    const preview = await apply(svc, { kind: 'rebuild', table: 'parent', ...fix! }, true);
    expect(preview.notes.join(' ')).toMatch(/Foreign keys are switched off/);
    expect(engine.isCrr('parent')).toBe(true);
    expect(exact(path, 'parent', cols)).toEqual(before);
    const db = new Database(path, { readonly: true });
    // the child rows a DROP TABLE with foreign keys on would have deleted are all there
    expect(db.prepare(`SELECT count(*) FROM child`).pluck().get()).toBe(3);
    expect(db.prepare(`SELECT name FROM parent_names ORDER BY id`).pluck().all()).toEqual(['a', 'bb']);
    expect(db.prepare(`SELECT name FROM sqlite_schema WHERE tbl_name = 'parent' AND type IN ('index', 'trigger') AND name NOT LIKE '%crr%' ORDER BY name`).pluck().all()).toEqual([
      'parent_code',
      'parent_log',
      'parent_name_idx',
      'parent_ref',
    ]);
    expect(db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'parent'`).pluck().all()).toEqual([]);
    db.close();
    expect(db.open).toBe(false);
    await expect(svc.tableSchema({ table: 'parent' })).resolves.toMatchObject({ isCrr: true });
  });

  it('keeps AUTOINCREMENT numbering where it stays', async () => {
    const { svc, path } = await opened(`CREATE TABLE a (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, v TEXT NOT NULL);
      INSERT INTO a (v) VALUES ('1'), ('2'), ('3'); DELETE FROM a WHERE id = 3;`);
    await apply(svc, { kind: 'rebuild', table: 'a', defaults: { v: "''" } });
    await svc.insertRow({ table: 'a', values: { v: 'next' } });
    const db = new Database(path, { readonly: true });
    expect(db.prepare(`SELECT id FROM a WHERE v = 'next'`).pluck().get()).toBe(4);
    db.close();
  });

  it('refuses a key that does not tell rows apart, or is NULL, naming why, and changes nothing', async () => {
    const { svc, path } = await opened();
    const before = exact(path, 'mixed', COLS);
    const dup = await rejection(svc.previewSchemaChange({ change: { kind: 'rebuild', table: 'mixed', primaryKey: { columns: ['anything'] } } }));
    expect(dup.message).toMatch(/anything is NULL in some rows/);
    const same = await rejection(svc.previewSchemaChange({ change: { kind: 'rebuild', table: 'mixed', primaryKey: { columns: ['r'] } } }));
    expect(same.message).toMatch(/r is NULL in some rows/);
    const ints = await rejection(svc.previewSchemaChange({ change: { kind: 'rebuild', table: 'mixed', primaryKey: { columns: ['b'] } } }));
    expect(ints.message).toMatch(/b is NULL/);
    expect(exact(path, 'mixed', COLS)).toEqual(before);
  });

  it('refuses a rebuild whose copy would change a value, checked before the old table goes', async () => {
    // a file whose declared type was changed behind SQLite's back: its integers would become text in a copy
    const path = join(tmp.dir, `w${++n}.db`);
    const db = new Database(path);
    db.unsafeMode(true); // lets writable_schema through
    db.exec(`CREATE TABLE w (x, y); INSERT INTO w VALUES (5, 'a'), (6, 'b'); PRAGMA writable_schema = ON;
      UPDATE sqlite_schema SET sql = 'CREATE TABLE w (x TEXT, y)' WHERE name = 'w'; PRAGMA writable_schema = OFF;`);
    db.close();
    const svc = new DatabaseService();
    await svc.openDatabase({ path });
    const before = exact(path, 'w', ['x', 'y']);
    const err = await rejection(svc.previewSchemaChange({ change: { kind: 'rebuild', table: 'w', primaryKey: { addId: 'id' } } }));
    expect(err.message).toMatch(/would not hold exactly the same rows and values/);
    expect(exact(path, 'w', ['x', 'y'])).toEqual(before);
  });

  it('refuses to run a change whose SQL is no longer what the preview showed', async () => {
    const { svc } = await opened();
    const change: SchemaChange = { kind: 'rebuild', table: 'mixed', primaryKey: { addId: 'id' } };
    const preview = await svc.previewSchemaChange({ change });
    await svc.runSql({ sql: `CREATE INDEX mixed_t ON mixed (t)` });
    const err = await rejection(svc.applySchemaChange({ change, expect: preview.statements }));
    expect(err.code).toBe('changed');
    expect((await svc.tableSchema({ table: 'mixed' })).keyColumns).toEqual(['rowid']);
  });
});

describe('rebuilding a collaborative table', () => {
  const seed = `CREATE TABLE notes (id INTEGER PRIMARY KEY NOT NULL, body TEXT, n INTEGER NOT NULL DEFAULT 0);
    INSERT INTO notes VALUES (1, 'a', 1), (2, 'b', 2);`;

  it('keeps its history when the key stays, and its tracking', async () => {
    const { svc, path, engine } = await opened(seed);
    await svc.enableCrr({ table: 'notes' });
    await svc.updateCell({ table: 'notes', key: [{ i: '1' }], column: 'body', value: 'edited' });
    const history = await svc.cellHistory({ table: 'notes', key: [{ i: '1' }], column: 'body' });
    const changes = engine.changesSince(0);
    const preview = await apply(svc, { kind: 'rebuild', table: 'notes', allowNull: ['n'] });
    expect(preview.notes.join(' ')).toMatch(/stays collaborative: its change history is kept/);
    expect(engine.changesSince(0)).toEqual(changes);
    expect(await svc.cellHistory({ table: 'notes', key: [{ i: '1' }], column: 'body' })).toEqual(history);
    const v = engine.dbVersion();
    const other = new Database(path);
    other.prepare(`UPDATE notes SET body = 'outside' WHERE id = 2`).run();
    other.close();
    engine.noticeChanges();
    expect(engine.changesSince(v).map((c) => [c.cid, c.val])).toEqual([['body', 'outside']]);
  });

  it('says a new key restarts its history', async () => {
    const { svc } = await opened(seed);
    await svc.enableCrr({ table: 'notes' });
    const preview = await svc.previewSchemaChange({ change: { kind: 'rebuild', table: 'notes', primaryKey: { columns: ['id', 'n'] } } });
    expect(preview.notes.join(' ')).toMatch(/new primary key restarts its change history/);
  });
});
