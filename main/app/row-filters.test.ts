import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it, afterAll } from 'vitest';
import { join } from 'node:path';
import type { ColumnFilter } from '../../shared/api.ts';
import { tempDir } from '../crr/test-helpers.ts';
import { countRows, readRows, rowPosition, tableShape, viewRows } from './table-queries.ts';
import { ViewOrders } from './view-order.ts';
import { rejection } from './test-rejection.ts';
import { DatabaseService } from './service.ts';

const tmp = tempDir('row-filters-');
afterAll(() => tmp.cleanup());
let n = 0;

/** values with LIKE's special characters, case, NULLs, numbers of both classes and a blob */
function seeded() {
  const db = new Database(join(tmp.dir, `f${++n}.db`));
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, label TEXT, n REAL, note, at TEXT);
    INSERT INTO t VALUES
      (1, 'Ada Lovelace', 2.5, '100%', '2026-01-05'),
      (2, 'alan_turing', 10.0, NULL, '2026-02-10 08:00:00'),
      (3, NULL, -3.25, x'414441', '2026-03-01'),
      (4, 'back\\slash', 42, 'a_b', '2025-12-31'),
      (5, 'ADA', NULL, 7, NULL),
      (6, 'Grace', 12.5, 'ÉCOLE', '2026-02-28');`);
  return db;
}

const count = (db: Database.Database, filters: ColumnFilter[], orders?: ViewOrders) => countRows(db, tableShape(db, 't'), { table: 't', filters }, orders);
const ids = (db: Database.Database, filters: ColumnFilter[], orders?: ViewOrders) =>
  readRows(db, tableShape(db, 't'), { table: 't', filters, offset: 0, limit: 100 }, orders).rows.map((r) => Number((r.key[0] as { i: string }).i));
const search = (value: string): ColumnFilter => ({ column: '', op: 'search', value });

describe('the search box: text in any column', () => {
  it('matches any column by its text, case-insensitively (ASCII), with % _ and \\ literal', () => {
    const db = seeded();
    expect(ids(db, [search('ada')])).toEqual([1, 3, 5]); // 3: the blob x'414441' is 'ADA' as text
    expect(ids(db, [search('%')])).toEqual([1]);
    expect(ids(db, [search('_')])).toEqual([2, 4]);
    expect(ids(db, [search('\\')])).toEqual([4]);
    expect(ids(db, [search('10.0')])).toEqual([2]); // a REAL by its SQLite text form
    expect(ids(db, [search('42')])).toEqual([4]);
    expect(ids(db, [search('2026-02')])).toEqual([2, 6]);
    expect(ids(db, [search('null')])).toEqual([]); // NULL is no text
    expect(ids(db, [search('')])).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('combines with column filters and ranges (AND), and keeps the sort', () => {
    const db = seeded();
    expect(ids(db, [search('a'), { column: 'n', op: '>', value: { r: 0 } }])).toEqual([1, 2, 4, 6]);
    expect(ids(db, [search('a'), { column: 'n', op: 'between', value: { i: '3' }, to: { r: 12.5 } }])).toEqual([2, 6]);
    const sorted = readRows(db, tableShape(db, 't'), { table: 't', filters: [search('a')], sort: { column: 'n', dir: 'desc' }, offset: 0, limit: 10 });
    expect(sorted.rows.map((r) => r.values[2])).toEqual([{ r: 42 }, { r: 12.5 }, { r: 10 }, { r: 2.5 }, { r: -3.25 }, null]);
  });

  it('agrees with the text of every column, for any search (property)', () => {
    const db = seeded();
    const texts = db.prepare(`SELECT CAST(id AS TEXT), CAST(label AS TEXT), CAST(n AS TEXT), CAST(note AS TEXT), CAST(at AS TEXT) FROM t ORDER BY id`).raw().all() as (string | null)[][];
    const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
    const orders = new ViewOrders(db);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'D', '%', '_', '\\', '0', '.', '-', ' ', 'É', 'é', 'l') , maxLength: 4 }), (needle) => {
        const expected = texts.flatMap((r, i) => (r.some((t) => t !== null && fold(t).includes(fold(needle))) ? [i + 1] : []));
        expect(ids(db, [search(needle)], orders)).toEqual(expected);
        expect(count(db, [search(needle)], orders)).toBe(expected.length);
      }),
      { numRuns: 300 },
    );
  });

  it('the whole view as exported follows the search and the ranges', () => {
    const db = seeded();
    const rows = [...viewRows(db, tableShape(db, 't'), { table: 't', filters: [search('a'), { column: 'id', op: 'between', value: { i: '2' }, to: { i: '5' } }], sort: { column: 'id', dir: 'desc' } })];
    expect(rows.map((r) => r[0])).toEqual([5n, 4n, 3n, 2n]);
  });

  it('places a row in a searched view (rowPosition), or says the view leaves it out', () => {
    const db = seeded();
    const orders = new ViewOrders(db);
    const q = { table: 't', filters: [search('ada')], sort: { column: 'label', dir: 'asc' as const } };
    const schema = tableShape(db, 't');
    expect(rowPosition(db, schema, { ...q, key: [{ i: '1' }] }, orders)).toBe(2); // NULL, ADA, Ada Lovelace
    expect(rowPosition(db, schema, { ...q, key: [{ i: '2' }] }, orders)).toBeNull();
  });
});

describe('range filters', () => {
  it('between takes both bounds inclusive, for numbers and for text such as ISO dates', () => {
    const db = seeded();
    expect(ids(db, [{ column: 'n', op: 'between', value: { r: 2.5 }, to: { i: '12' } }])).toEqual([1, 2]);
    expect(ids(db, [{ column: 'at', op: 'between', value: '2026-01-01', to: '2026-02-28' }])).toEqual([1, 2, 6]);
    expect(count(db, [{ column: 'n', op: 'between', value: { i: '100' }, to: { i: '1' } }])).toBe(0);
  });
});

describe('bad filters get a clear error', () => {
  it('refuses a range without both bounds, a search that is not text, an unknown column', async () => {
    const path = join(tmp.dir, `f${++n}.db`);
    new Database(path).exec(`CREATE TABLE t (a)`);
    const svc = new DatabaseService();
    await svc.openDatabase({ path });
    expect((await rejection(svc.countRows({ table: 't', filters: [{ column: 'a', op: 'between', value: { i: '1' } }] }))).message).toMatch(/both bounds/);
    expect((await rejection(svc.countRows({ table: 't', filters: [{ column: '', op: 'search', value: { i: '1' } }] }))).code).toBe('invalid-argument');
    expect((await rejection(svc.countRows({ table: 't', filters: [{ column: 'nope', op: '=', value: 'x' }] }))).code).toBe('invalid-argument');
    expect((await rejection(svc.countRows({ table: 't', filters: 'x' as unknown as ColumnFilter[] }))).code).toBe('invalid-argument');
    svc.close();
  });
});
