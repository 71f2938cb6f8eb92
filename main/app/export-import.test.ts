// Export to files (CSV, JSON, SQL INSERTs) and import of CSV and JSON files (issue 15): every
// storage class survives the round trip, the view's filters and sort are kept, and a bad file
// imports nothing. Real files, real SQLite.
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseService } from './service.ts';
import { tempDir } from '../crr/test-helpers.ts';
import { rejection } from './test-rejection.ts';
import type { ExportFormat } from '../../shared/api.ts';

const tmp = tempDir('app-export-');
afterAll(() => tmp.cleanup());
let n = 0;
const path = (ext: string) => join(tmp.dir, `f${++n}.${ext}`);

/** Every class and the values that trip exporters up, in a table without affinity (values stay as stored). */
function tricky(): string {
  const file = path('db');
  const db = new Database(file);
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v);
    INSERT INTO t VALUES
      (1, NULL), (2, ''), (3, ' padded '), (4, 'line one' || char(10) || 'line two' || char(13) || char(10) || 'three'),
      (5, '42'), (6, '.5'), (7, 'X''00'''), (8, '9e999'), (9, 'a, "quoted", and ''single'''), (10, 'ünïcødé ✓'),
      (11, 9007199254740993), (12, -9223372036854775808), (13, 9223372036854775807), (14, 0),
      (15, 1.0), (16, 0.1), (17, 1e300), (18, -2.5e-300), (19, 9e999), (20, -9e999),
      (21, x''), (22, x'00ff10'), (23, 'NULL'), (24, '{"$blob":"00"}'), (25, '[1, 2]'), (26, 'true');`);
  db.close();
  return file;
}

const classes = (db: Database.Database, table: string) =>
  db.prepare(`SELECT id, typeof(v), quote(v) FROM ${table} ORDER BY id`).raw().all();

describe('export and import keep every storage class', () => {
  for (const format of ['csv', 'json'] as const) {
    it(`${format}: a table exported and imported again holds the same values, class by class`, async () => {
      const file = tricky();
      const svc = new DatabaseService();
      await svc.openDatabase({ path: file });
      const out = path(format);
      const r = await svc.exportRows({ table: 't', format, path: out });
      expect(r).toMatchObject({ path: out, rows: 26 });
      expect(r.bytes).toBe(readFileSync(out).length);
      expect(await svc.importFile({ path: out, format, table: 'back', create: true, header: true })).toEqual({ inserted: 26 });
      svc.close();
      const db = new Database(file);
      expect(classes(db, 'back')).toEqual(classes(db, 't'));
      db.close();
    });
  }

  it('sql: the INSERT script run on an empty database rebuilds the table exactly', async () => {
    const file = tricky();
    const svc = new DatabaseService();
    await svc.openDatabase({ path: file });
    const out = path('sql');
    expect(await svc.exportRows({ table: 't', format: 'sql', path: out })).toMatchObject({ rows: 26 });
    svc.close();
    const script = readFileSync(out, 'utf8');
    expect(script).toMatch(/^BEGIN TRANSACTION;\nCREATE TABLE IF NOT EXISTS t /);
    const fresh = new Database(path('db'));
    fresh.exec(script);
    const db = new Database(file);
    expect(classes(fresh, 't')).toEqual(classes(db, 't'));
    // run again: the table exists, the rows are refused by the key (nothing silently doubled)
    expect(() => fresh.exec(script)).toThrow(/UNIQUE/);
    db.close();
    fresh.close();
  });

  it('exports the view as shown (filters and sort), and JSON writes classes a reader can tell apart', async () => {
    const file = tricky();
    const svc = new DatabaseService();
    await svc.openDatabase({ path: file });
    const out = path('json');
    await svc.exportRows({ table: 't', format: 'json', path: out, filters: [{ column: 'id', op: '>', value: { i: '13' } }, { column: 'id', op: '<', value: { i: '23' } }], sort: { column: 'id', dir: 'desc' } });
    const text = readFileSync(out, 'utf8');
    expect(text.split('\n').slice(1, 4)).toEqual(['{"id":22,"v":{"$blob":"00FF10"}},', '{"id":21,"v":{"$blob":""}},', '{"id":20,"v":-9e999},']);
    expect(text).toContain('{"id":15,"v":1.0}');
    expect(text).toContain('{"id":14,"v":0}');
    expect(JSON.parse(text)).toHaveLength(9);
    svc.close();
  });

  it('refuses to replace a file unless asked, and leaves no partial file behind a failure', async () => {
    const svc = new DatabaseService();
    await svc.openDatabase({ path: tricky() });
    const out = path('csv');
    writeFileSync(out, 'keep me');
    const err = await rejection(svc.exportRows({ table: 't', format: 'csv', path: out }));
    expect(err.message).toMatch(/exists already/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    await svc.exportRows({ table: 't', format: 'csv', path: out, overwrite: true });
    expect(readFileSync(out, 'utf8')).toMatch(/^id,v\r\n1,\r\n2,""\r\n/);
    expect((await rejection(svc.exportRows({ table: 'nosuch', format: 'csv', path: path('csv') }))).code).toBe('not-found');
    expect((await rejection(svc.exportRows({ table: 't', format: 'xml' as ExportFormat, path: path('xml') }))).code).toBe('invalid-argument');
    expect(readdirSync(tmp.dir).filter((f) => f.includes('.partial'))).toEqual([]);
    svc.close();
  });
});

describe('importing files', () => {
  it('JSON: keys become columns (first seen first), a missing key is NULL, nested values are their JSON text', async () => {
    const file = path('db');
    new Database(file).close();
    const json = path('json');
    writeFileSync(json, '\ufeff[{"name": "Ada", "age": 36, "tags": ["a", {"b": 1.50}]},\n {"age": 41.0, "name": null, "admin": true},\n {"admin": false, "extra": {"$blob": "cafe"}, "big": 123456789012345678901234}]');
    const svc = new DatabaseService();
    await svc.openDatabase({ path: file });
    const preview = await svc.previewImport({ path: json });
    expect(preview).toMatchObject({ format: 'json', columns: ['name', 'age', 'tags', 'admin', 'extra', 'big'] });
    expect(await svc.importFile({ path: json, format: 'json', table: 'people', create: true, types: { age: 'INTEGER' }, primaryKey: { addId: 'id' } })).toEqual({ inserted: 3 });
    svc.close();
    const db = new Database(file);
    expect(db.prepare(`SELECT id, quote(name), typeof(age), quote(age), quote(tags), quote(admin), quote(extra), typeof(big) FROM people ORDER BY id`).raw().all()).toEqual([
      [1, "'Ada'", 'integer', '36', `'["a",{"b":1.50}]'`, 'NULL', 'NULL', 'null'],
      // 41.0 in an INTEGER column: the column's affinity makes it 41, as a bound REAL would be
      [2, 'NULL', 'integer', '41', 'NULL', '1', 'NULL', 'null'],
      [3, 'NULL', 'null', 'NULL', 'NULL', '0', "X'CAFE'", 'real'],
    ]);
    db.close();
  });

  it('a bad line or value anywhere in a large file imports nothing and leaves no staging behind', async () => {
    const file = path('db');
    const seed = new Database(file);
    seed.exec(`CREATE TABLE t (a INTEGER, b TEXT)`);
    seed.close();
    const csv = path('csv');
    writeFileSync(csv, 'a,b\n' + Array.from({ length: 9000 }, (_, i) => `${i},row ${i}\n`).join('') + '9000\n');
    const json = path('json');
    writeFileSync(json, '[' + Array.from({ length: 9000 }, (_, i) => `{"a": ${i}}`).join(',') + ', 5]');
    const broken = path('json');
    writeFileSync(broken, '[{"a": 1}, {"a": 2');
    const svc = new DatabaseService();
    await svc.openDatabase({ path: file });
    expect((await rejection(svc.importFile({ path: csv, format: 'csv', table: 't', create: false, header: true }))).message).toBe('CSV line 9002 has 1 fields, expected 2. Nothing was imported.');
    expect((await rejection(svc.importFile({ path: json, format: 'json', table: 't', create: false }))).message).toMatch(/element 9001 is not an object/);
    expect((await rejection(svc.importFile({ path: broken, format: 'json', table: 't', create: false }))).message).toMatch(/Nothing was imported/);
    expect((await rejection(svc.importFile({ path: json.replace('.json', '-none.json'), format: 'json', table: 't', create: false }))).code).toBe('not-found');
    const unknown = path('json');
    writeFileSync(unknown, '[{"a": 1, "zz": 2}]');
    expect((await rejection(svc.importFile({ path: unknown, format: 'json', table: 't', create: false }))).message).toMatch(/no column "zz"/);
    expect(await svc.countRows({ table: 't' })).toBe(0);
    expect((await svc.runQuery({ sql: `SELECT count(*) FROM sqlite_temp_schema WHERE name LIKE 'crr_import%'` })).rows).toEqual([[{ i: '0' }]]);
    // the same file without its bad last line goes in whole, in the file's order
    writeFileSync(csv, readFileSync(csv, 'utf8').replace(/9000\n$/, ''));
    expect(await svc.importFile({ path: csv, format: 'csv', table: 't', create: false, header: true })).toEqual({ inserted: 9000 });
    expect((await svc.runQuery({ sql: 'SELECT min(a), max(a), typeof(a), b FROM t WHERE rowid = 9000' })).rows).toEqual([[{ i: '8999' }, { i: '8999' }, 'integer', 'row 8999']]);
    svc.close();
    expect(existsSync(file)).toBe(true);
  });

  it('previews a CSV file: first lines, the header as columns, the width', async () => {
    const csv = path('csv');
    writeFileSync(csv, 'sku,"name, full",price\r\nA1,"x\ny",2.5\r\n');
    const svc = new DatabaseService();
    await svc.openDatabase({ path: tricky() });
    expect(await svc.previewImport({ path: csv })).toMatchObject({ format: 'csv', columns: ['sku', 'name, full', 'price'], width: 3, size: 38 });
    expect((await rejection(svc.previewImport({ path: tmp.dir }))).message).toMatch(/is a folder/);
    svc.close();
  });
});
