import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DatabaseService } from './service.ts';
import { tempDir } from '../crr/test-helpers.ts';
import type { ApiError } from '../../shared/errors.ts';

const tmp = tempDir('csv-table-');
afterAll(() => tmp.cleanup());
let n = 0;

async function opened() {
  const path = join(tmp.dir, `c${++n}.db`);
  new Database(path).close();
  const svc = new DatabaseService();
  await svc.openDatabase({ path });
  return { svc, path };
}

const CSV = 'sku,title,price,image\r\nA-1,Lamp,12.5,X\'00ff\'\r\nA-2,"",3,\r\nA-3,,007,\r\n';

describe('CSV import into a new table that can be shared at once', () => {
  it('takes a key column and types; the table becomes collaborative right away, values as they were', async () => {
    const { svc, path } = await opened();
    await svc.importCsv({ table: 'items', create: true, csv: CSV, header: true, types: ['TEXT', 'TEXT', 'REAL', 'BLOB'], primaryKey: { column: 'sku' } });
    const schema = await svc.tableSchema({ table: 'items' });
    expect(schema.columns.map((c) => [c.name, c.type, c.notNull, c.pk])).toEqual([
      ['sku', 'TEXT', true, 1],
      ['title', 'TEXT', false, 0],
      ['price', 'REAL', false, 0],
      ['image', 'BLOB', false, 0],
    ]);
    expect(schema.crrRefusal).toBeNull();
    expect(await svc.enableCrr({ table: 'items' })).toMatchObject({ isCrr: true });
    const db = new Database(path, { readonly: true });
    expect(db.prepare(`SELECT sku, quote(title), typeof(price), price, quote(image) FROM items ORDER BY sku`).raw().all()).toEqual([
      ['A-1', "'Lamp'", 'real', 12.5, "X'00FF'"],
      ['A-2', "''", 'real', 3, 'NULL'],
      ['A-3', 'NULL', 'real', 7, 'NULL'],
    ]);
    db.close();
  });

  it('adds an integer id numbering the rows', async () => {
    const { svc } = await opened();
    await svc.importCsv({ table: 'items', create: true, csv: CSV, header: true, primaryKey: { addId: 'id' } });
    const schema = await svc.tableSchema({ table: 'items' });
    expect(schema.keyColumns).toEqual(['id']);
    expect(schema.crrRefusal).toBeNull();
    const rows = await svc.readRows({ table: 'items', offset: 0, limit: 10 });
    expect(rows.rows.map((r) => r.key)).toEqual([[{ i: '1' }], [{ i: '2' }], [{ i: '3' }]]);
  });

  it('imports nothing when the key column is empty in a row, or repeats', async () => {
    const { svc } = await opened();
    for (const csv of ['k,v\r\n1,a\r\n,b\r\n', 'k,v\r\n1,a\r\n1,b\r\n']) {
      const err = (await svc.importCsv({ table: 't', create: true, csv, header: true, primaryKey: { column: 'k' } }).catch((e) => e)) as ApiError;
      expect(err.code).toBe('constraint');
      expect((await svc.listTables()).map((t) => t.name)).toEqual([]);
    }
  });
});
