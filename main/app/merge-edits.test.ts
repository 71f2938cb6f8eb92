// The app's edits of counter and text columns (merge policies): an editor saves the change it
// made (updateCell mergeFrom), so what another program or peer wrote meanwhile is kept; cell
// history shows who added what and the text versions' edits; the policy menu's type checks.
import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DatabaseService } from './service.ts';
import { tempDir } from '../crr/test-helpers.ts';

const tmp = tempDir('app-merge-edits-');
afterAll(() => tmp.cleanup());

describe('editing counter and text cells', () => {
  it('keeps what others wrote since the editor opened, shows contributions and text edits', async () => {
    const path = join(tmp.dir, 'shop.db');
    const db = new Database(path);
    db.exec(`CREATE TABLE items (id INTEGER PRIMARY KEY NOT NULL, stock INTEGER, descr TEXT, tag);
      INSERT INTO items VALUES (1, 10, 'one two three', 'x')`);
    db.close();
    const svc = new DatabaseService();
    await svc.openDatabase({ path });
    await svc.enableCrr({ table: 'items' });
    await svc.setMergePolicy({ table: 'items', column: 'stock', policy: 'counter' });
    await svc.setMergePolicy({ table: 'items', column: 'descr', policy: 'text' });
    await expect(svc.setMergePolicy({ table: 'items', column: 'tag', policy: 'counter' })).rejects.toThrow(/not numeric/);
    expect(await svc.mergePolicies({ table: 'items' })).toEqual({ stock: 'counter', descr: 'text' });

    // another program writes while the editors are open (at 10 and 'one two three')
    const other = new Database(path);
    other.prepare('UPDATE items SET stock = stock + 4 WHERE id = 1').run();
    other.prepare(`UPDATE items SET descr = 'one two three four' WHERE id = 1`).run();
    other.close();
    const key = [{ i: '1' }];
    const s = await svc.updateCell({ table: 'items', key, column: 'stock', value: { i: '11' }, mergeFrom: { i: '10' } });
    expect(s.values[1]).toEqual({ i: '15' });
    const d = await svc.updateCell({ table: 'items', key, column: 'descr', value: 'zero one two three', mergeFrom: 'one two three' });
    expect(d.values[2]).toBe('zero one two three four');

    const parts = await svc.counterContributions({ table: 'items', key, column: 'stock' });
    expect(parts.map((p) => [p.local, p.total, p.writes])).toEqual([[true, { i: '15' }, 3]]);
    const versions = await svc.cellHistory({ table: 'items', key, column: 'descr' });
    expect(versions[0].edits).toEqual([[1, 'zero '], [0, 'one two three four']]);
    svc.close();
  });
});
