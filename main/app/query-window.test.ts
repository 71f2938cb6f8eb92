import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { queryCount, queryWindow } from './query-window.ts';

function db() {
  const d = new Database(':memory:');
  d.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);`);
  const ins = d.prepare('INSERT INTO t VALUES (?, ?)');
  for (let i = 1; i <= 250; i++) ins.run(i, `n${String(i).padStart(3, '0')}`);
  return d;
}

describe('query windows', () => {
  it('pages a SELECT, sorts it by result position and counts it', () => {
    const d = db();
    const sql = 'SELECT id, name, id AS id FROM t WHERE id % 2 = 0 -- evens\n;';
    const w = queryWindow(d, { sql, offset: 100, limit: 100 });
    expect(w.columns).toEqual(['id', 'name', 'id']);
    expect(w.rows.length).toBe(25);
    expect(w.rows[0]).toEqual([{ i: '202' }, 'n202', { i: '202' }]);
    expect(w.truncated).toBe(false);
    expect(queryWindow(d, { sql, offset: 0, limit: 10 }).truncated).toBe(true);
    const desc = queryWindow(d, { sql, limit: 2, sort: { index: 1, dir: 'desc' } });
    expect(desc.rows.map((r) => r[1])).toEqual(['n250', 'n248']);
    expect(queryCount(d, sql)).toBe(125);
  });

  it('steps through statements that cannot be wrapped, and refuses to sort them', () => {
    const d = db();
    const w = queryWindow(d, { sql: 'PRAGMA table_info(t)', offset: 1, limit: 5 });
    expect(w.rows.map((r) => r[1])).toEqual(['name']);
    expect(queryCount(d, 'PRAGMA table_info(t)')).toBe(2);
    expect(() => queryWindow(d, { sql: 'PRAGMA table_info(t)', sort: { index: 0, dir: 'asc' } })).toThrow(/cannot be sorted/);
  });

  it('refuses writes and bad positions with clear errors', () => {
    const d = db();
    expect(() => queryWindow(d, { sql: 'DELETE FROM t' })).toThrow(/read-only/);
    expect(() => queryCount(d, 'UPDATE t SET name = 1')).toThrow(/read-only/);
    expect(() => queryWindow(d, { sql: 'SELECT id FROM t', sort: { index: 3, dir: 'asc' } })).toThrow(/no result column 4/);
    expect(() => queryWindow(d, { sql: 'SELEC 1' })).toThrow(/syntax error/);
    expect(d.prepare('SELECT count(*) FROM t').pluck().get()).toBe(250);
  });
});
