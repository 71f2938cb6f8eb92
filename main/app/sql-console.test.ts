import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { DatabaseService } from './service.ts';
import { tempDir } from '../crr/test-helpers.ts';
import { rejection } from './test-rejection.ts';
import type { ApiEvents } from '../../shared/api.ts';

const tmp = tempDir('sql-console-');
afterAll(() => tmp.cleanup());
let n = 0;

/** A file with a collaborative `notes` and a plain `plain`, opened by a service. */
async function opened(dir?: string) {
  const path = join(tmp.dir, `c${++n}.db`);
  const db = new Database(path);
  db.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY NOT NULL, body TEXT, extra TEXT);
    CREATE TABLE plain (a, b);
    INSERT INTO notes VALUES (1, 'one', 'x'), (2, 'two', 'y'), (3, 'three', NULL);
    INSERT INTO plain VALUES (1, 'p'), (2, 'q');`);
  db.close();
  const svc = new DatabaseService(dir ? { recentFilesDir: dir } : {});
  await svc.openDatabase({ path });
  await svc.enableCrr({ table: 'notes' });
  const events: { event: keyof ApiEvents; payload: unknown }[] = [];
  svc.on((event, payload) => events.push({ event, payload }));
  const engine = (svc as unknown as { engine: import('../crr/types.ts').CrrEngine }).engine;
  return { svc, path, events, engine };
}

/** Everything a user could see in the file: schema and every row with its storage classes. */
function dump(path: string) {
  const db = new Database(path, { readonly: true });
  const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all() as string[];
  const out = {
    schema: db.prepare(`SELECT type, name, sql FROM sqlite_schema ORDER BY type, name`).all(),
    rows: Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}"`).raw().all().map((r) => JSON.stringify(r)).sort()])),
  };
  db.close();
  return out;
}

describe('SQL console: scripts', () => {
  it('runs several statements in one transaction and reports the rows each changed', async () => {
    const { svc } = await opened();
    const r = await svc.runSql({
      sql: `INSERT INTO plain VALUES (3, 'r'), (4, 's'), (5, 't');
            UPDATE notes SET body = upper(body) WHERE id < 3;
            DELETE FROM plain WHERE a = 1;
            CREATE INDEX plain_b ON plain (b);
            SELECT count(*) AS n FROM plain;`,
    });
    expect(r.statements.map((s) => [s.index, s.kind, s.changes])).toEqual([
      [1, 'write', 3],
      [2, 'write', 2],
      [3, 'write', 1],
      [4, 'schema', null],
      [5, 'read', null],
    ]);
    expect(r.statements[1].head).toBe('UPDATE notes SET body = …');
    expect(r.changes).toBe(6);
    expect(r.schemaChanged).toBe(true);
    expect(r.result).toMatchObject({ statement: 5, columns: ['n'], rows: [[{ i: '4' }]], truncated: false });
    expect(r.result!.sql).toMatch(/^SELECT count/);
  });

  it('is all or nothing: a failing statement is named by number and first words, and nothing changes', async () => {
    const { svc, path, engine } = await opened();
    const before = dump(path);
    const version = engine.dbVersion();
    const err = await rejection(
      svc.runSql({
        sql: `UPDATE notes SET body = 'changed';
              ALTER TABLE notes ADD COLUMN later TEXT;
              INSERT INTO plain VALUES (9, 'z');
              UPDATE plain SET nosuch = 1;
              DELETE FROM plain;`,
      }),
    );
    expect(err.code).toBe('sql-error');
    expect(err.message).toBe('Statement 4 of 5 (UPDATE plain SET nosuch = …) failed: no such column: nosuch. Nothing was changed.');
    expect(dump(path)).toEqual(before);
    // the engine is back on the file's schema and version: the column added in the failed script is gone
    expect(engine.dbVersion()).toBe(version);
    await svc.runSql({ sql: `UPDATE notes SET body = 'after' WHERE id = 1` });
    expect(engine.changesSince(version).map((c) => [c.cid, c.val])).toEqual([['body', 'after']]);
  });

  it('names constraint failures with their own code', async () => {
    const { svc } = await opened();
    const err = await rejection(svc.runSql({ sql: `INSERT INTO notes (id, body) VALUES (9, 'a'); INSERT INTO notes (id, body) VALUES (1, 'dup');` }));
    expect(err.code).toBe('constraint');
    expect(err.message).toMatch(/^Statement 2 of 2 \(INSERT INTO notes \(id …\) failed: UNIQUE constraint failed: notes.id/);
  });

  it('returns the last result with rows: a read the grid can page again, or RETURNING rows as they are', async () => {
    const { svc } = await opened();
    const read = await svc.runSql({ sql: `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 500) SELECT i FROM c`, limit: 100 });
    expect(read.result!.rows).toHaveLength(100);
    expect(read.result!.truncated).toBe(true);
    expect(read.result!.sql).not.toBeNull();
    const ret = await svc.runSql({ sql: `SELECT 1; INSERT INTO plain VALUES (7, x'00'), (8, NULL) RETURNING a, b` });
    expect(ret.result).toMatchObject({ statement: 2, columns: ['a', 'b'], rows: [[{ i: '7' }, { b: 'AA==' }], [{ i: '8' }, null]], sql: null });
    expect(ret.statements[1]).toMatchObject({ kind: 'write', changes: 2 });
  });

  it('drops a BEGIN … COMMIT around the script, and refuses transaction control inside it', async () => {
    const { svc } = await opened();
    const r = await svc.runSql({ sql: `BEGIN; INSERT INTO plain VALUES (5, 'x'); COMMIT;` });
    expect(r.statements.map((s) => s.index)).toEqual([2]);
    const err = await rejection(svc.runSql({ sql: `INSERT INTO plain VALUES (6, 'y'); COMMIT; INSERT INTO plain VALUES (7, 'z')` }));
    expect(err.message).toMatch(/^Statement 2 \(COMMIT\) controls the transaction/);
    expect(await svc.countRows({ table: 'plain' })).toBe(3);
  });

  it('tells the renderer: tables changed after DDL, rows of plain tables after writes', async () => {
    const { svc, events } = await opened();
    await svc.runSql({ sql: `INSERT INTO plain VALUES (5, 'x')` });
    expect(events.map((e) => e.event)).toEqual(['rowsChanged']);
    expect((events[0].payload as ApiEvents['rowsChanged']).tables).toEqual(['plain']);
    events.length = 0;
    await svc.runSql({ sql: `CREATE TABLE fresh (id INTEGER PRIMARY KEY NOT NULL)` });
    expect(events.map((e) => e.event)).toContain('tablesChanged');
    events.length = 0;
    await svc.runSql({ sql: `SELECT * FROM plain` });
    expect(events).toEqual([]);
  });
});

describe('SQL console: collaborative tables', () => {
  it('tracks writes to CRR tables, also in a column added earlier in the same script', async () => {
    const { svc, engine } = await opened();
    const v = engine.dbVersion();
    await svc.runSql({ sql: `ALTER TABLE notes ADD COLUMN tag TEXT DEFAULT ''; UPDATE notes SET tag = 'new', body = 'b' WHERE id = 2;` });
    const changes = engine.changesSince(v).map((c) => [c.cid, c.val]);
    expect(changes).toContainEqual(['tag', 'new']);
    expect(changes).toContainEqual(['body', 'b']);
  });

  it('drops a column of a CRR table (SQLite refuses it while the tracking triggers name it) and keeps tracking', async () => {
    const { svc, path, engine } = await opened();
    await svc.runSql({ sql: `ALTER TABLE notes DROP COLUMN extra; UPDATE notes SET body = 'kept' WHERE id = 3;` });
    expect((await svc.tableSchema({ table: 'notes' })).columns.map((c) => c.name)).toEqual(['id', 'body']);
    const v = engine.dbVersion();
    // another program's write right after: the triggers are in the file again
    const other = new Database(path);
    other.prepare(`UPDATE notes SET body = 'outside' WHERE id = 1`).run();
    other.close();
    engine.noticeChanges();
    expect(engine.changesSince(v).map((c) => [c.cid, c.val])).toEqual([['body', 'outside']]);
  });

  it('runs SELECT crsql_as_crr(…) at its place in the script: later writes are tracked', async () => {
    const { svc, engine } = await opened();
    const v = engine.dbVersion();
    await svc.runSql({ sql: `CREATE TABLE tags (id INTEGER PRIMARY KEY NOT NULL, label TEXT); SELECT crsql_as_crr('tags'); INSERT INTO tags VALUES (1, 'red');` });
    expect(engine.isCrr('tags')).toBe(true);
    expect(engine.changesSince(v).filter((c) => c.table === 'tags').map((c) => [c.cid, c.val])).toEqual([['label', 'red']]);
  });

  it('leaves no collaborative table behind when a script making one fails', async () => {
    const { svc, engine } = await opened();
    const err = await rejection(svc.runSql({ sql: `CREATE TABLE tags (id INTEGER PRIMARY KEY NOT NULL); SELECT crsql_as_crr('tags'); SELECT nosuch();` }));
    expect(err.message).toMatch(/^Statement 3 of 3/);
    expect(engine.isCrr('tags')).toBe(false);
    expect((await svc.listTables()).map((t) => t.name)).not.toContain('tags');
    // and a refusal of the engine's rules names its statement
    const refused = await rejection(svc.runSql({ sql: `CREATE TABLE keyless (a); SELECT crsql_as_crr('keyless');` }));
    expect(refused.code).toBe('crr-refused');
    expect(refused.message).toMatch(/^Statement 2 of 2 \(SELECT crsql_as_crr\( 'keyless' …\)|^Statement 2 of 2 .*no primary key/);
  });

  it('refuses the engine functions that would stop tracking, naming the app action instead', async () => {
    const { svc, path } = await opened();
    const before = dump(path);
    for (const [sql, fn] of [
      [`UPDATE plain SET b = 1; SELECT crsql_as_table('notes')`, 'crsql_as_table'],
      [`SELECT "CRSQL_BEGIN_ALTER"('notes')`, 'crsql_begin_alter'],
      [`SELECT crsql_commit_alter('notes') FROM plain`, 'crsql_commit_alter'],
    ]) {
      const err = await rejection(svc.runSql({ sql }));
      expect(err.code).toBe('invalid-argument');
      expect(err.message).toContain(`calls ${fn}, which the console does not run`);
      expect(err.message).toMatch(/Stop collaboration|ALTER TABLE/);
    }
    // crsql_as_crr only as a statement of its own
    expect((await rejection(svc.runSql({ sql: `SELECT crsql_as_crr(name) FROM sqlite_schema` }))).message).toMatch(/statement of its own/);
    expect(dump(path)).toEqual(before);
  });

  it('refuses a statement that would run a view or trigger calling those functions', async () => {
    const { svc, path } = await opened();
    const other = new Database(path);
    other.exec(`CREATE VIEW sneaky AS SELECT crsql_as_table('notes') AS x`);
    other.close();
    const err = await rejection(svc.runSql({ sql: `SELECT * FROM sneaky` }));
    expect(err.message).toMatch(/view "sneaky", which calls crsql_as_table/);
  });

  it('renames a collaborative table, however it is spelled: its history and tracking follow it (it was refused before the engine could)', async () => {
    const { svc, engine } = await opened();
    await svc.runSql({ sql: `UPDATE notes SET body = 'edited' WHERE id = 1` });
    const before = engine.history.cell('notes', [1n], 'body').length;
    await svc.runSql({ sql: `ALTER TABLE main."notes" RENAME TO notes2; UPDATE notes2 SET body = 'after' WHERE id = 1;` });
    expect([engine.isCrr('notes'), engine.isCrr('notes2')]).toEqual([false, true]);
    expect(engine.history.cell('notes2', [1n], 'body')).toHaveLength(before + 1);
    expect(engine.schemaLog.list().at(-1)).toMatchObject({ kind: 'rename-table', table: 'notes', to: 'notes2' });
    // a rename that fails later in the script leaves the table as it was
    const err = await rejection(svc.runSql({ sql: `ALTER TABLE notes2 RENAME TO notes3; SELECT nosuch;` }));
    expect(err.message).toMatch(/Statement 2/);
    expect(engine.crrTables()).toContain('notes2');
    await svc.runSql({ sql: `ALTER TABLE plain RENAME TO plain2` });
    expect((await svc.listTables()).map((t) => t.name)).toEqual(expect.arrayContaining(['notes2', 'plain2']));
  });
});

describe('SQL console: history', () => {
  it('keeps scripts per file, newest first, once each, in the data folder', async () => {
    const dir = join(tmp.dir, `data${++n}`);
    mkdirSync(dir);
    const a = await opened(dir);
    await a.svc.runSql({ sql: 'SELECT 1' });
    await a.svc.runSql({ sql: 'SELECT 2' });
    await rejection(a.svc.runSql({ sql: 'SELECT nosuch' }));
    await a.svc.runSql({ sql: '  SELECT 1  ' });
    expect(await a.svc.sqlHistory()).toEqual(['SELECT 1', 'SELECT nosuch', 'SELECT 2']);
    a.svc.close();
    const b = await opened(dir);
    expect(await b.svc.sqlHistory()).toEqual([]);
    await b.svc.openDatabase({ path: a.path });
    expect(await b.svc.sqlHistory()).toEqual(['SELECT 1', 'SELECT nosuch', 'SELECT 2']);
  });
});
