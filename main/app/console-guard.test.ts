// Issue 16.7: the read-only SQL console ran crsql_as_crr, crsql_as_table (dropping the clocks) and
// crsql_begin_alter (removing the tracking triggers, so later writes were never synced): SQLite
// calls these statements read-only, since it cannot see what an app function does.
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DatabaseService } from './service.ts';
import { tempDir } from '../crr/test-helpers.ts';
import type { ApiError } from '../../shared/errors.ts';

const tmp = tempDir('app-console-');
afterAll(() => tmp.cleanup());
let n = 0;

async function service(): Promise<DatabaseService> {
  const path = join(tmp.dir, `c${++n}.db`);
  const db = new Database(path);
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT); CREATE TABLE p (id INTEGER PRIMARY KEY NOT NULL, v TEXT);
    INSERT INTO t VALUES (1, 'one'); INSERT INTO p VALUES (1, 'plain');
    CREATE VIEW sneaky AS SELECT crsql_as_table('t') AS x;`);
  db.close();
  const s = new DatabaseService();
  await s.openDatabase({ path });
  await s.enableCrr({ table: 't' });
  return s;
}

async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected a refusal');
}

describe('the read-only SQL console', () => {
  it('refuses the schema-changing crsql functions, however they are reached, and changes nothing', async () => {
    const s = await service();
    for (const sql of [
      `SELECT crsql_as_crr('p')`,
      `SELECT crsql_as_table('t')`,
      `select CRSQL_BEGIN_ALTER('t')`,
      `SELECT crsql_commit_alter('t')`,
      `WITH x AS (SELECT crsql_as_crr('p')) SELECT * FROM x`,
      `SELECT * FROM sneaky`,
      `SELECT 1 WHERE crsql_as_table('t') IS NULL`,
    ]) {
      const err = await refusal(s.runQuery({ sql }));
      expect(err.code, sql).toBe('read-only');
      expect(err.message).toMatch(/crsql_\w+ changes the schema/);
      expect((await refusal(s.countQuery({ sql }))).code).toBe('read-only');
    }
    const tables = await s.listTables();
    expect(tables.find((t) => t.name === 't')?.isCrr).toBe(true);
    expect(tables.find((t) => t.name === 'p')?.isCrr).toBe(false);
    // tracking still works: a write after those attempts is a change
    await s.updateCell({ table: 't', key: [{ i: '1' }], column: 'v', value: 'uno' });
    const changes = await s.runQuery({ sql: `SELECT cid, val FROM crsql_changes WHERE "table" = 't' AND cid = 'v'` });
    expect(changes.rows).toEqual([['v', 'uno']]);
    // reading functions still run
    expect((await s.runQuery({ sql: 'SELECT crsql_db_version() > 0, length(crsql_site_id())' })).rows).toEqual([[{ i: '1' }, { i: '16' }]]);
    // and EXPLAIN of such a statement only describes it
    expect((await s.runQuery({ sql: `EXPLAIN SELECT crsql_as_crr('p')` })).rows.length).toBeGreaterThan(0);
    expect((await s.listTables()).find((t) => t.name === 'p')?.isCrr).toBe(false);
    s.close();
  });
});
