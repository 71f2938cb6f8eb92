import Database from 'better-sqlite3';
import { describe, expect, it, afterAll } from 'vitest';
import { join } from 'node:path';
import { REFERENCING_COUNT_LIMIT } from '../../shared/api.ts';
import { tempDir } from '../crr/test-helpers.ts';
import { DatabaseService } from './service.ts';
import { rejection } from './test-rejection.ts';

const tmp = tempDir('foreign-keys-');
afterAll(() => tmp.cleanup());
let n = 0;

async function opened(sql: string) {
  const path = join(tmp.dir, `f${++n}.db`);
  const db = new Database(path);
  db.exec(sql);
  db.close();
  const svc = new DatabaseService();
  await svc.openDatabase({ path });
  return svc;
}

const SHOP = `
  CREATE TABLE customers (id INTEGER PRIMARY KEY NOT NULL, name TEXT);
  CREATE TABLE orders (id INTEGER PRIMARY KEY NOT NULL, customer_id INTEGER REFERENCES customers(id), note TEXT);
  CREATE TABLE regions (country TEXT NOT NULL, code TEXT NOT NULL, label TEXT, PRIMARY KEY (country, code));
  CREATE TABLE shops (id INTEGER PRIMARY KEY, country TEXT, code TEXT, owner INTEGER REFERENCES Customers,
    FOREIGN KEY (country, code) REFERENCES regions (country, code));
  CREATE TABLE staff (id INTEGER PRIMARY KEY, boss INTEGER REFERENCES staff(id));
  INSERT INTO customers VALUES (1, 'Ada'), (2, 'Alan'), (3, 'Grace');
  INSERT INTO orders VALUES (10, 1, 'a'), (11, 1, 'b'), (12, 2, 'c'), (13, NULL, 'd'), (14, '1', 'text one');
  INSERT INTO regions VALUES ('FR', '69', 'Rhône'), ('FR', '75', 'Paris');
  INSERT INTO shops VALUES (1, 'FR', '69', 1), (2, 'FR', '69', 3), (3, 'FR', '75', NULL);
  INSERT INTO staff VALUES (1, NULL), (2, 1), (3, 1);`;

describe('foreign keys in the schema', () => {
  it('lists the keys a table declares, the referenced columns resolved (the parent key when none are named)', async () => {
    const svc = await opened(SHOP);
    expect((await svc.tableSchema({ table: 'orders' })).foreignKeys).toEqual([{ table: 'orders', columns: ['customer_id'], refTable: 'customers', refColumns: ['id'] }]);
    const shops = (await svc.tableSchema({ table: 'shops' })).foreignKeys;
    expect(shops).toContainEqual({ table: 'shops', columns: ['owner'], refTable: 'customers', refColumns: ['id'] });
    expect(shops).toContainEqual({ table: 'shops', columns: ['country', 'code'], refTable: 'regions', refColumns: ['country', 'code'] });
    expect((await svc.tableSchema({ table: 'customers' })).foreignKeys).toEqual([]);
    svc.close();
  });

  it('lists the keys other tables (and the table itself) declare to it', async () => {
    const svc = await opened(SHOP);
    const refs = (await svc.tableSchema({ table: 'customers' })).referencedBy;
    expect(refs.map((r) => `${r.table}.${r.columns.join(',')}`).sort()).toEqual(['orders.customer_id', 'shops.owner']);
    expect((await svc.tableSchema({ table: 'staff' })).referencedBy).toEqual([{ table: 'staff', columns: ['boss'], refTable: 'staff', refColumns: ['id'] }]);
    svc.close();
  });
});

describe('rows referencing a row', () => {
  it('counts them per key, with the filters that show them (values compared as SQL = does)', async () => {
    const svc = await opened(SHOP);
    const refs = await svc.referencingRows({ table: 'customers', key: [{ i: '1' }] });
    const orders = refs.find((r) => r.link.table === 'orders')!;
    // 14 holds the text '1': = with the column's INTEGER affinity matches it, as SQLite's foreign key check does
    expect(orders).toMatchObject({ count: 3, more: false, filters: [{ column: 'customer_id', op: '=', value: { i: '1' } }] });
    expect(await svc.countRows({ table: 'orders', filters: orders.filters })).toBe(3);
    expect(refs.find((r) => r.link.table === 'shops')).toMatchObject({ count: 1, filters: [{ column: 'owner', op: '=', value: { i: '1' } }] });
    expect((await svc.referencingRows({ table: 'customers', key: [{ i: '3' }] })).map((r) => [r.link.table, r.count])).toEqual([
      ['orders', 0],
      ['shops', 1],
    ]);
    svc.close();
  });

  it('follows composite keys and self-references', async () => {
    const svc = await opened(SHOP);
    const [region] = await svc.referencingRows({ table: 'regions', key: ['FR', '69'] });
    expect(region).toMatchObject({ count: 2, filters: [{ column: 'country', op: '=', value: 'FR' }, { column: 'code', op: '=', value: '69' }] });
    expect(await svc.countRows({ table: 'shops', filters: region.filters })).toBe(2);
    expect((await svc.referencingRows({ table: 'staff', key: [{ i: '1' }] }))[0].count).toBe(2);
    expect(await svc.referencingRows({ table: 'orders', key: [{ i: '10' }] })).toEqual([]);
    svc.close();
  });

  it('counts up to a limit and says there are more', async () => {
    const svc = await opened(`CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p INTEGER REFERENCES p(id));
      INSERT INTO p VALUES (1);
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${REFERENCING_COUNT_LIMIT + 5}) INSERT INTO c SELECT 1 FROM n;`);
    expect(await svc.referencingRows({ table: 'p', key: [{ i: '1' }] })).toMatchObject([{ count: REFERENCING_COUNT_LIMIT, more: true }]);
    svc.close();
  });

  it('says so for a row that is gone or a key of the wrong shape', async () => {
    const svc = await opened(SHOP);
    expect((await rejection(svc.referencingRows({ table: 'customers', key: [{ i: '99' }] }))).code).toBe('not-found');
    expect((await rejection(svc.referencingRows({ table: 'regions', key: ['FR'] }))).code).toBe('invalid-argument');
    expect((await rejection(svc.referencingRows({ table: 'nope', key: [] }))).code).toBe('not-found');
    svc.close();
  });
});
