import { describe, it, expect, afterAll } from 'vitest';
import { DatabaseService } from './service.ts';
import { ensureDemoDatabase } from './demo-database.ts';
import { tempDir } from '../crr/test-helpers.ts';

const tmp = tempDir('demo-');
afterAll(() => tmp.cleanup());

describe('demo database', () => {
  it('has realistic tables, some already CRRs, one of 100k rows, and is made once', async () => {
    const path = ensureDemoDatabase(tmp.dir);
    expect(ensureDemoDatabase(tmp.dir)).toBe(path);
    const svc = new DatabaseService();
    await svc.openDatabase({ path });
    const tables = await svc.listTables();
    expect(tables).toEqual([
      { name: 'customers', rowEstimate: 500, isCrr: true },
      { name: 'events', rowEstimate: 100000, isCrr: false },
      { name: 'orders', rowEstimate: 2000, isCrr: false },
      { name: 'products', rowEstimate: 0, isCrr: true },
    ].map((t) => (t.name === 'products' ? { ...t, rowEstimate: expect.any(Number) } : t)));
    expect(await svc.countRows({ table: 'products' })).toBe(200);
    expect((await svc.tableSchema({ table: 'orders' })).crrRefusal).toMatch(/foreign key/);
    const first = await svc.readRows({ table: 'customers', offset: 0, limit: 1 });
    expect(first.rows[0].values[1]).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    svc.close();
  });
});
