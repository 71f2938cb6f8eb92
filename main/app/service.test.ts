import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseService } from './service.ts';
import { tempDir } from '../crr/test-helpers.ts';
import type { ApiError } from '../../shared/errors.ts';

const tmp = tempDir('app-service-');
afterAll(() => tmp.cleanup());
let n = 0;
const file = () => join(tmp.dir, `f${++n}.db`);

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected a rejection');
}

function seeded(): string {
  const path = file();
  const db = new Database(path);
  db.exec(`CREATE TABLE people (id INTEGER PRIMARY KEY NOT NULL, name TEXT, age INTEGER, score REAL, photo BLOB);
    CREATE TABLE loose (a, b);
    INSERT INTO people VALUES (1, 'Ada', 36, 9.5, x'00ff'), (2, 'Bob', NULL, 7.0, NULL), (3, 'Cy', 41, 8.25, NULL);
    INSERT INTO loose VALUES (1, 'x'), (2, 'y');`);
  db.close();
  return path;
}

describe('opening files', () => {
  it('refuses a file that is not SQLite, changing nothing', async () => {
    const path = join(tmp.dir, 'notes.txt');
    writeFileSync(path, 'hello, this is not a database at all');
    const before = readFileSync(path);
    const err = await rejection(new DatabaseService().openDatabase({ path }));
    expect(err.code).toBe('not-sqlite');
    expect(err.message).toMatch(/not a SQLite database/);
    expect(readFileSync(path)).toEqual(before);
  });

  it('refuses a file locked by another program, changing nothing', async () => {
    const path = seeded();
    const other = new Database(path);
    other.exec('BEGIN EXCLUSIVE');
    const size = statSync(path).size;
    const err = await rejection(new DatabaseService().openDatabase({ path }));
    expect(err.code).toBe('locked');
    other.exec('ROLLBACK');
    other.close();
    expect(statSync(path).size).toBe(size);
  });

  it('opens a read-only file read-only, without writing to it, and refuses edits', async () => {
    const path = seeded();
    chmodSync(path, 0o444);
    const before = readFileSync(path);
    const svc = new DatabaseService();
    const info = await svc.openDatabase({ path });
    expect(info.readOnly).toBe(true);
    expect((await svc.listTables()).map((t) => t.name)).toEqual(['loose', 'people']);
    const err = await rejection(svc.updateCell({ table: 'people', key: [{ i: '1' }], column: 'name', value: 'Eve' }));
    expect(err.code).toBe('read-only');
    svc.close();
    expect(readFileSync(path)).toEqual(before);
  });

  it('says when a file does not exist, and creates one when asked', async () => {
    const svc = new DatabaseService();
    expect((await rejection(svc.openDatabase({ path: join(tmp.dir, 'nope.db') }))).code).toBe('not-found');
    const info = await svc.openDatabase({ path: join(tmp.dir, 'new.db'), create: true });
    expect(info.siteId).toMatch(/^[0-9A-F]{32}$/);
    svc.close();
  });
});

describe('tables and rows', () => {
  it('lists tables with estimates, reads sorted and filtered windows keeping storage classes', async () => {
    const svc = new DatabaseService();
    await svc.openDatabase({ path: seeded() });
    expect(await svc.listTables()).toEqual([
      { name: 'loose', rowEstimate: 2, isCrr: false },
      { name: 'people', rowEstimate: 3, isCrr: false },
    ]);
    const schema = await svc.tableSchema({ table: 'people' });
    expect(schema.keyColumns).toEqual(['id']);
    expect(schema.crrRefusal).toBeNull();
    expect((await svc.tableSchema({ table: 'loose' })).crrRefusal).toMatch(/no primary key/);
    const w = await svc.readRows({ table: 'people', offset: 0, limit: 2, sort: { column: 'score', dir: 'desc' } });
    expect(w.rows.map((r) => r.values)).toEqual([
      [{ i: '1' }, 'Ada', { i: '36' }, { r: 9.5 }, { b: 'AP8=' }],
      [{ i: '3' }, 'Cy', { i: '41' }, { r: 8.25 }, null],
    ]);
    expect(w.atEnd).toBe(false);
    const f = await svc.readRows({ table: 'people', offset: 0, limit: 10, filters: [{ column: 'age', op: 'is null' }] });
    expect(f.rows.map((r) => r.key)).toEqual([[{ i: '2' }]]);
    expect(f.atEnd).toBe(true);
    expect(await svc.countRows({ table: 'people', filters: [{ column: 'name', op: 'contains', value: 'y' }] })).toBe(1);
    expect((await rejection(svc.readRows({ table: 'ghost', offset: 0, limit: 1 }))).code).toBe('not-found');
    svc.close();
  });

  it('edits in one transaction each and reports them as local row changes', async () => {
    const svc = new DatabaseService();
    await svc.openDatabase({ path: seeded() });
    await svc.enableCrr({ table: 'people' });
    const events: string[] = [];
    svc.on((event, payload) => events.push(`${event}:${JSON.stringify(payload)}`));
    const row = await svc.updateCell({ table: 'people', key: [{ i: '2' }], column: 'age', value: { i: '29' } });
    expect(row.values[2]).toEqual({ i: '29' });
    const added = await svc.insertRow({ table: 'people', values: { id: { i: '10' }, name: 'Dee', score: { r: 5 } } });
    expect(added.values).toEqual([{ i: '10' }, 'Dee', null, { r: 5 }, null]);
    expect(await svc.deleteRows({ table: 'people', keys: [[{ i: '1' }], [{ i: '3' }]] })).toBe(2);
    expect(await svc.countRows({ table: 'people' })).toBe(2);
    expect(events.filter((e) => e.startsWith('rowsChanged') && e.includes('"origin":"local"'))).toHaveLength(3);
    const err = await rejection(svc.insertRow({ table: 'people', values: { id: { i: '10' } } }));
    expect(err.code).toBe('constraint');
    svc.close();
  });

  it('exports a filtered view as CSV and imports it into a new table, all or nothing', async () => {
    const svc = new DatabaseService();
    await svc.openDatabase({ path: seeded() });
    const out = join(tmp.dir, `view-${n}.csv`);
    expect(await svc.exportRows({ table: 'people', filters: [{ column: 'score', op: '>', value: { r: 7.5 } }], format: 'csv', path: out })).toMatchObject({ rows: 2 });
    const csv = readFileSync(out, 'utf8');
    expect(csv).toBe("id,name,age,score,photo\r\n1,Ada,36,9.5,X'00FF'\r\n3,Cy,41,8.25,\r\n");
    expect(await svc.importCsv({ table: 'copy', create: true, csv, header: true })).toEqual({ inserted: 2 });
    const r = await svc.runQuery({ sql: 'SELECT typeof(id), name, typeof(score), hex(photo), photo IS NULL FROM copy ORDER BY id' });
    expect(r.rows).toEqual([
      ['integer', 'Ada', 'real', '00FF', { i: '0' }],
      ['integer', 'Cy', 'real', '', { i: '1' }],
    ]);
    const err = await rejection(svc.importCsv({ table: 'copy', create: false, csv: 'id,name\n9,x\n10\n', header: true }));
    expect(err.message).toMatch(/line 3 has 1 fields/);
    expect(await svc.countRows({ table: 'copy' })).toBe(2);
    svc.close();
  });

  it('an undo that expects a value refuses when someone else changed it since, changing nothing', async () => {
    const svc = new DatabaseService();
    await svc.openDatabase({ path: seeded() });
    const ref = { table: 'people', key: [{ i: '1' }], column: 'name' };
    await svc.updateCell({ ...ref, value: 'Peer' }); // another writer, after our edit to 'Ada'
    const err = await rejection(svc.updateCell({ ...ref, value: 'Old', expected: 'Ada' }));
    expect(err.code).toBe('changed');
    expect(err.message).toMatch(/name of that row of people was changed by someone else/);
    expect((await svc.updateCell({ ...ref, value: 'Back', expected: 'Peer' })).values[1]).toBe('Back');
    // an integer is not the real it equals: storage classes count
    expect((await rejection(svc.updateCell({ ...ref, column: 'age', value: null, expected: { r: 36 } }))).code).toBe('changed');
    const cells = [
      { key: [{ i: '2' }], column: 'age', value: { i: '50' }, expected: null },
      { key: [{ i: '3' }], column: 'age', value: { i: '50' }, expected: { i: '40' } },
    ];
    expect((await rejection(svc.updateCells({ table: 'people', cells }))).code).toBe('changed');
    expect(await svc.deleteRows({ table: 'people', keys: [[{ i: '2' }]], expected: [{ name: 'Bob', photo: { b: 'AP8=' } }] }).catch((e) => e.code)).toBe('changed');
    const r = await svc.runQuery({ sql: 'SELECT count(*), sum(age IS 50) FROM people' });
    expect(r.rows[0]).toEqual([{ i: '3' }, { i: '0' }]);
    expect(await svc.deleteRows({ table: 'people', keys: [[{ i: '2' }]], expected: [{ name: 'Bob', photo: null }] })).toBe(1);
    svc.close();
  });

  it('announces changes to tables that are not CRRs: its own writes and other programs\' commits', async () => {
    const svc = new DatabaseService();
    const path = seeded();
    await svc.openDatabase({ path });
    const seen: unknown[] = [];
    svc.on((event, payload) => {
      if (event === 'rowsChanged') seen.push(payload);
    });
    await svc.updateCell({ table: 'loose', key: [{ i: '1' }], column: 'b', value: 'z' });
    expect(seen).toEqual([{ tables: ['loose'], origin: 'local', site: null, cells: null }]);
    const other = new Database(path);
    other.prepare(`UPDATE loose SET b = 'w' WHERE a = 2`).run();
    other.close();
    await new Promise((r) => setTimeout(r, 600));
    expect(seen).toContainEqual({ tables: ['loose', 'people'], origin: 'outside', site: null, cells: null });
    svc.close();
  });

  it('finds where a row stands in a sorted, filtered view', async () => {
    const svc = new DatabaseService();
    await svc.openDatabase({ path: seeded() });
    const key = [{ i: '3' }];
    expect(await svc.rowPosition({ table: 'people', key })).toBe(2);
    expect(await svc.rowPosition({ table: 'people', key, sort: { column: 'score', dir: 'desc' } })).toBe(1);
    expect(await svc.rowPosition({ table: 'people', key, filters: [{ column: 'age', op: 'is not null' }] })).toBe(1);
    expect(await svc.rowPosition({ table: 'people', key, filters: [{ column: 'age', op: '<', value: { i: '40' } }] })).toBeNull();
    expect(await svc.rowPosition({ table: 'loose', key: [{ i: '2' }] })).toBe(1);
    expect((await rejection(svc.rowPosition({ table: 'people', key: [] }))).code).toBe('invalid-argument');
    svc.close();
  });

  it('imports CSV without a header line: new tables get column1.., existing ones take fields in column order', async () => {
    const svc = new DatabaseService();
    await svc.openDatabase({ path: seeded() });
    expect(await svc.importCsv({ table: 'raw', create: true, csv: '1,x\n2,""\n3,\n', header: false })).toEqual({ inserted: 3 });
    const raw = await svc.runQuery({ sql: 'SELECT column1, column2, typeof(column2) FROM raw ORDER BY column1' });
    expect(raw.columns).toEqual(['column1', 'column2', 'typeof(column2)']);
    expect(raw.rows.map((r) => r[2])).toEqual(['text', 'text', 'null']);
    expect(await svc.importCsv({ table: 'loose', create: false, csv: '7,seven\n', header: false })).toEqual({ inserted: 1 });
    expect((await svc.runQuery({ sql: 'SELECT b FROM loose WHERE a = 7' })).rows).toEqual([['seven']]);
    svc.close();
  });

  it('runs only read-only SQL in the console', async () => {
    const svc = new DatabaseService();
    await svc.openDatabase({ path: seeded() });
    const r = await svc.runQuery({ sql: 'SELECT id, score FROM people ORDER BY id', limit: 2 });
    expect(r).toEqual({ columns: ['id', 'score'], rows: [[{ i: '1' }, { r: 9.5 }], [{ i: '2' }, { r: 7 }]], truncated: true });
    expect((await rejection(svc.runQuery({ sql: 'DELETE FROM people' }))).code).toBe('read-only');
    expect((await rejection(svc.runQuery({ sql: 'SELEC nonsense' }))).code).toBe('sql-error');
    expect(await svc.countRows({ table: 'people' })).toBe(3);
    svc.close();
  });

  it('enabling collaboration shows the engine refusal, or makes the table a CRR', async () => {
    const svc = new DatabaseService();
    await svc.openDatabase({ path: seeded() });
    const err = await rejection(svc.enableCrr({ table: 'loose' }));
    expect(err.code).toBe('crr-refused');
    expect(err.message).toMatch(/"loose".*no primary key/);
    expect((await svc.enableCrr({ table: 'people' })).isCrr).toBe(true);
    expect((await svc.disableCrr({ table: 'people' })).isCrr).toBe(false);
    svc.close();
  });
});

describe('recent activity', () => {
  it('shows the first versions recorded when collaboration is enabled as one entry, and later edits one by one', async () => {
    const path = file();
    const db = new Database(path);
    db.exec(`CREATE TABLE items (id INTEGER PRIMARY KEY NOT NULL, name TEXT, qty INTEGER);
      WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000) INSERT INTO items SELECT i, 'item ' || i, i % 7 FROM c;
      CREATE TABLE few (id INTEGER PRIMARY KEY NOT NULL, name TEXT); INSERT INTO few VALUES (1, 'a'), (2, 'b');`);
    db.close();
    const svc = new DatabaseService();
    await svc.openDatabase({ path });
    await svc.enableCrr({ table: 'items' });
    let activity = await svc.tableActivity({ table: 'items', limit: 30 });
    expect(activity).toHaveLength(1);
    expect(activity[0].bulk).toEqual({ cells: 2000, columns: 2, rows: 1000 });
    expect(activity[0].version.local).toBe(true);
    await svc.updateCell({ table: 'items', key: [{ i: '5' }], column: 'name', value: 'renamed' });
    activity = await svc.tableActivity({ table: 'items', limit: 30 });
    expect(activity.map((a) => a.bulk ?? a.version.value)).toEqual(['renamed', { cells: 2000, columns: 2, rows: 1000 }]);
    // a small table's first versions stay entries of their own
    await svc.enableCrr({ table: 'few' });
    expect((await svc.tableActivity({ table: 'few' })).map((a) => a.bulk)).toEqual([undefined, undefined]);
    svc.close();
  });
});

describe('sorted views', () => {
  it('read while another program holds the write lock (reading a view order writes nothing)', async () => {
    const path = seeded();
    const svc = new DatabaseService();
    await svc.openDatabase({ path });
    await svc.enableCrr({ table: 'people' });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      const w = await svc.readRows({ table: 'people', sort: { column: 'name', dir: 'desc' }, filters: [{ column: 'age', op: 'is not null' }], offset: 0, limit: 10 });
      expect(w.rows.map((r) => r.values[1])).toEqual(['Cy', 'Ada']);
      expect(await svc.countRows({ table: 'people', sort: { column: 'name', dir: 'desc' }, filters: [{ column: 'age', op: 'is not null' }] })).toBe(2);
      expect(await svc.rowPosition({ table: 'people', sort: { column: 'name', dir: 'desc' }, filters: [{ column: 'age', op: 'is not null' }], key: [{ i: '1' }] })).toBe(1);
    } finally {
      other.exec('ROLLBACK');
      other.close();
      svc.close();
    }
  });
});
