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
      { name: 'todos', rowEstimate: 60, isCrr: true },
    ].map((t) => (t.name === 'products' ? { ...t, rowEstimate: expect.any(Number) } : t)));
    expect(await svc.countRows({ table: 'products' })).toBe(200);
    expect((await svc.tableSchema({ table: 'orders' })).crrRefusal).toMatch(/foreign key/);
    const first = await svc.readRows({ table: 'customers', offset: 0, limit: 1 });
    expect(first.rows[0].values[1]).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
    // the values typed editors are for: 0/1/NULL booleans, DATE text, unix seconds, compact JSON, line breaks
    const todos = await svc.readRows({ table: 'todos', offset: 0, limit: 60 });
    const col = (name: string) => todos.rows.map((r) => r.values[['id', 'title', 'done', 'due', 'updated_at', 'details', 'notes'].indexOf(name)]);
    expect(new Set(col('done').map((v) => JSON.stringify(v)))).toEqual(new Set(['{"i":"0"}', '{"i":"1"}', 'null']));
    expect(col('due').filter((v) => v !== null).every((v) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v))).toBe(true);
    expect(col('updated_at')[0]).toEqual({ i: String(1767225600 + 25200) });
    expect(col('details')[0]).toBe('{"priority":1,"tags":["Porto","demo"],"estimate":0.5}');
    expect(col('notes')[4]).toBe('Step one\nStep two\n  indented step three');
    svc.close();
  });
});
