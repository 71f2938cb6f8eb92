import Database from 'better-sqlite3';
import { describe, expect, it, afterAll } from 'vitest';
import { join } from 'node:path';
import type { RowQuery } from '../../shared/api.ts';
import { tempDir } from '../crr/test-helpers.ts';
import { countRows, readRows, rowPosition, tableShape } from './table-queries.ts';
import { ViewOrders } from './view-order.ts';

const tmp = tempDir('view-order-');
afterAll(() => tmp.cleanup());

function seeded(name: string) {
  const db = new Database(join(tmp.dir, name));
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, label TEXT, n REAL);
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000)
    INSERT INTO t SELECT i, CASE WHEN i % 11 = 0 THEN NULL ELSE 'Row ' || (i * 7919 % 3001) END, (i * 31 % 97) / 4.0 FROM c;
    CREATE TABLE w (a TEXT NOT NULL, b INTEGER NOT NULL, v TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 500)
    INSERT INTO w SELECT 'k' || (i % 7), i, 'v' || (i * 13 % 101) FROM c;`);
  return db;
}

/** The same window read the plain way (ORDER BY … LIMIT … OFFSET), without numbered orders. */
const plain = (db: Database.Database, table: string, q: RowQuery, offset: number, limit: number) => readRows(db, tableShape(db, table), { ...q, offset, limit });

describe('numbered view orders', () => {
  const views: RowQuery[] = [
    { table: 't', sort: { column: 'label', dir: 'asc' } },
    { table: 't', sort: { column: 'n', dir: 'desc' } },
    { table: 't', sort: { column: 'label', dir: 'desc' }, filters: [{ column: 'label', op: 'contains', value: 'row 1' }] },
    { table: 't', filters: [{ column: 'n', op: '>', value: { r: 10 } }, { column: 'n', op: '<', value: { r: 20 } }] },
    { table: 't', sort: { column: 'n', dir: 'asc' }, filters: [{ column: '', op: 'search', value: '1' }, { column: 'n', op: 'between', value: { i: '3' }, to: { r: 15.5 } }] },
    { table: 'w', sort: { column: 'v', dir: 'asc' } },
    { table: 'w', filters: [{ column: '', op: 'search', value: 'K3' }] },
    { table: 'w', filters: [{ column: 'v', op: 'is not null' }], sort: { column: 'b', dir: 'desc' } },
  ];

  it('reads the same windows, counts and positions as ORDER BY with OFFSET, anywhere in the view', () => {
    const db = seeded('same.db');
    const orders = new ViewOrders(db);
    for (const q of views) {
      const schema = tableShape(db, q.table);
      const count = countRows(db, schema, q);
      expect(countRows(db, schema, q, orders)).toBe(count);
      for (const offset of [0, 100, Math.floor(count / 2), Math.max(0, count - 30), count + 5]) {
        expect(readRows(db, schema, { ...q, offset, limit: 100 }, orders)).toEqual(plain(db, q.table, q, offset, 100));
      }
      const some = plain(db, q.table, q, Math.floor(count / 3), 1).rows[0];
      expect(rowPosition(db, schema, { ...q, key: some.key }, orders)).toBe(rowPosition(db, schema, { ...q, key: some.key }));
    }
    // a row the view leaves out has no position
    const filtered = views[3];
    const outside = plain(db, 't', { table: 't', filters: [{ column: 'n', op: '<', value: { r: 1 } }] }, 0, 1).rows[0];
    expect(rowPosition(db, tableShape(db, 't'), { ...filtered, key: outside.key }, orders)).toBeNull();
  });

  it('reuses an order until the file changes, by this connection or another program, and keeps up to three', () => {
    const db = seeded('stale.db');
    const orders = new ViewOrders(db);
    const schema = tableShape(db, 't');
    const q: RowQuery = { table: 't', sort: { column: 'label', dir: 'desc' } };
    const spec = () => orders.order({ signature: 'x', sql: 'SELECT rowid FROM t ORDER BY label, rowid', params: [], rowidOf: 't' });
    const first = spec();
    // reading other views keeps it (reading orders writes nothing)
    const changes = db.prepare('SELECT total_changes()').pluck();
    const before = changes.get();
    for (const v of views.slice(1, 3)) countRows(db, tableShape(db, v.table), v, orders);
    expect(changes.get()).toBe(before);
    expect(spec()).toBe(first);
    // this connection writes: the next read sees it
    db.prepare(`UPDATE t SET label = 'zz' WHERE id = 2999`).run();
    expect(readRows(db, schema, { ...q, offset: 0, limit: 3 }, orders).rows[0].key).toEqual([{ i: '2999' }]);
    // another program writes
    const other = new Database(join(tmp.dir, 'stale.db'));
    other.prepare(`UPDATE t SET label = 'zzz' WHERE id = 5`).run();
    other.prepare(`DELETE FROM t WHERE id = 2999`).run();
    other.close();
    const after = readRows(db, schema, { ...q, offset: 0, limit: 3 }, orders);
    expect(after.rows[0].key).toEqual([{ i: '5' }]);
    expect(countRows(db, schema, q, orders)).toBe(2999);
    expect(after).toEqual(plain(db, 't', q, 0, 3));
  });

  it('filters with contains as LIKE does: case-insensitive, % and _ literal', () => {
    const db = seeded('like.db');
    db.exec(`INSERT INTO t (id, label) VALUES (5001, '100% sure'), (5002, 'snake_case'), (5003, 'SNAKE CASE'), (5004, 'back\\slash')`);
    const schema = tableShape(db, 't');
    const labels = (value: string) =>
      readRows(db, schema, { table: 't', filters: [{ column: 'label', op: 'contains', value }], offset: 0, limit: 100 }).rows.map((r) => r.values[1]);
    expect(labels('snake')).toEqual(['snake_case', 'SNAKE CASE']);
    expect(labels('e_c')).toEqual(['snake_case']);
    expect(labels('0%')).toEqual(['100% sure']);
    expect(labels('k\\s')).toEqual(['back\\slash']);
    expect(labels('%')).toEqual(['100% sure']);
  });
});
