// The merge programs' statements (the whole-rows fast path's too) are driven by the batch's staged rows: none may scan a table
// that grows with the database (the base table, its clock tables), or each batch of a clone
// costs as much as everything merged before it (a 1M-row clone went quadratic that way).
// Plans are read as SQLite makes them without statistics, like a fresh file's, and with them
// (ANALYZE, which a database tool runs: the base and clock tables then have row counts, the
// TEMP staging tables none, and a planner that believes them may turn a join around).
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { installCrr } from './index.ts';
import { tableMergeSql } from './apply.ts';
import { readTableInfo } from './table-info.ts';
import { parseShape, withSlots } from './slots.ts';

// aliases merge.ts gives the persistent tables (temp ones: i, o, w, a, g)
const PERSISTENT = /^(SCAN|SEARCH) (items|items__crr_(v|rows|dead|forks)|r|b|c|x|y|d)(\s|$)/;

function badPlans(ddl: string, history: boolean, analyzed = false): string[] {
  const db = new Database(':memory:');
  const engine = installCrr(db, { pollMs: 0 });
  db.exec(ddl);
  engine.asCrr('items');
  const cols = (db.prepare(`SELECT count(*) FROM pragma_table_info('items')`).pluck().get() as number);
  const ins = db.prepare(`INSERT INTO items VALUES (${Array(cols).fill('?').join(', ')})`);
  db.transaction(() => {
    for (let i = 0; i < 200; i++) ins.run(...Array.from({ length: cols }, (_, k) => (k < 2 ? `k${i}` : i)));
  })();
  if (analyzed) db.exec('ANALYZE');
  const shape = db.prepare(`SELECT columns FROM crr_tables WHERE name = 'items'`).pluck().get() as string;
  const base = readTableInfo(db, 'items');
  const info = withSlots(base, parseShape(shape, base.pks.length));
  const bad: string[] = [];
  for (const sql of tableMergeSql(info, history)) {
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail);
    for (const d of plan) {
      const scans = PERSISTENT.test(d) && (/^SCAN/.test(d) || /\((\w+)[<>]/.test(d));
      if (scans) bad.push(`${d}  <-  ${sql.replace(/\s+/g, ' ').slice(0, 90)}`);
    }
  }
  db.close();
  return bad;
}

describe('merge program query plans', () => {
  for (const history of [true, false]) {
    for (const analyzed of [false, true]) {
      it(`search the persistent tables by key only (history ${history ? 'on' : 'off'}${analyzed ? ', after ANALYZE' : ''})`, () => {
        expect(badPlans('CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, name TEXT, qty INTEGER)', history, analyzed)).toEqual([]);
        expect(badPlans('CREATE TABLE items (a TEXT NOT NULL, b TEXT NOT NULL, n INTEGER, PRIMARY KEY (a, b))', history, analyzed)).toEqual([]);
      });
    }
  }
});
