// Issue 16, engine side: no value from a peer or from INSERT INTO crsql_changes can poison the
// engine's state (versions out of range, absurd Lamport jumps, wrong types, NULL keys), and the
// poller stops when the program closes the connection itself.
import { describe, it, expect, afterAll } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { installCrr } from './index.ts';
import { packPrimaryKey } from './pack-pk.ts';
import { openReplica, closeReplica, tempDir, tableSnapshot } from './test-helpers.ts';
import type { Change } from './types.ts';

const tmp = tempDir('crr-limits-');
afterAll(() => tmp.cleanup());
let n = 0;
const file = () => join(tmp.dir, `l${++n}.db`);
const site = (b: number) => Uint8Array.from({ length: 16 }, () => b);

function replica(options = {}) {
  const r = openReplica(file(), options);
  r.db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT); SELECT crsql_as_crr('t');`);
  return r;
}
const change = (over: Partial<Change> = {}): Change => ({
  table: 't', pk: packPrimaryKey([1n]), cid: 'v', val: 'x', col_version: 1, db_version: 1, site_id: site(7), cl: 1, seq: 0, ...over,
});

describe('applyChanges refuses versions that would poison the replica', () => {
  it('refuses a db_version near 2^53 and keeps syncing afterwards', () => {
    const r = replica();
    expect(() => r.engine.applyChanges([change({ db_version: 2 ** 53 - 2 })])).toThrow(/db_version/);
    expect(r.engine.dbVersion()).toBe(0);
    // a valid change after the refusal merges, and the versions stay small
    expect(r.engine.applyChanges([change({ db_version: 3 })])).toBe(1);
    expect(r.engine.dbVersion()).toBe(3);
    r.db.prepare(`UPDATE t SET v = 'local' WHERE id = 1`).run();
    expect(r.engine.dbVersion()).toBe(4);
    expect(r.engine.changesSince(0).every((c) => Number.isSafeInteger(c.db_version))).toBe(true);
    closeReplica(r);
  });

  it('refuses a jump further ahead than maxVersionJump, and nothing of its batch', () => {
    const r = replica({ maxVersionJump: 1000 });
    const batch = [change({ pk: packPrimaryKey([2n]), db_version: 5 }), change({ db_version: 1002 })];
    expect(() => r.engine.applyChanges(batch)).toThrow(/more than 1000 ahead/);
    expect(tableSnapshot(r.db, 't')).toEqual([]);
    expect(r.engine.applyChanges([change({ db_version: 1000 })])).toBe(1);
    // the bound follows this replica's own version
    expect(r.engine.applyChanges([change({ pk: packPrimaryKey([3n]), db_version: 1999 })])).toBe(1);
    closeReplica(r);
  });

  it('refuses col_version, cl and seq beyond 2^48, NULL keys and malformed site ids', () => {
    const r = replica();
    for (const bad of [
      { col_version: 2 ** 48 + 1 },
      { cl: 2 ** 50 },
      { seq: -1 },
      { col_version: 1.5 },
      { pk: packPrimaryKey([null]) },
      { site_id: new Uint8Array(3) },
    ]) {
      expect(() => r.engine.applyChanges([change(bad as Partial<Change>)]), JSON.stringify(Object.keys(bad))).toThrow();
    }
    expect(tableSnapshot(r.db, 't')).toEqual([]);
    closeReplica(r);
  });
});

describe('INSERT INTO crsql_changes checks every field', () => {
  const insert = (r: ReturnType<typeof replica>, row: unknown[]) =>
    r.db
      .prepare(`INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(...row);
  const good = (): unknown[] => ['t', Buffer.from(packPrimaryKey([1n])), 'v', 'x', 1, 1, Buffer.from(site(7)), 1, 0];

  it('refuses db_version near 2^63, as text or real, and the engine keeps an integer version', () => {
    const r = replica();
    for (const dbv of [2n ** 62n, 'abc', 2.5, null]) {
      const row = good();
      row[5] = dbv;
      expect(() => insert(r, row), String(dbv)).toThrow(/db_version/);
    }
    expect(r.db.prepare('SELECT typeof(crsql_db_version()), crsql_db_version()').raw().get()).toEqual(['integer', 0]);
    insert(r, good());
    expect(r.engine.changesSince(0)).toHaveLength(1);
    expect(r.db.prepare(`SELECT typeof(db_version) FROM crr_times ORDER BY db_version DESC LIMIT 1`).pluck().get()).toBe('integer');
    closeReplica(r);
  });

  it('refuses a bad site id, col_version, cl, seq and a NULL key', () => {
    const r = replica();
    const cases: [number, unknown, RegExp][] = [
      [6, 5, /site_id/],
      [6, Buffer.alloc(4), /site_id/],
      [4, 'one', /col_version/],
      [7, 0, /cl must be at least 1/],
      [8, -3, /seq/],
      [1, Buffer.from(packPrimaryKey([null])), /NULL/],
      [1, 'not a blob', /pk must be a blob/],
    ];
    for (const [k, v, msg] of cases) {
      const row = good();
      row[k] = v;
      expect(() => insert(r, row), `${k}=${String(v)}`).toThrow(msg);
    }
    expect(tableSnapshot(r.db, 't')).toEqual([]);
    expect(r.engine.changesSince(0)).toEqual([]);
    closeReplica(r);
  });

  it('refuses an absurd jump through SQL too', () => {
    const r = replica({ maxVersionJump: 10 });
    const row = good();
    row[5] = 11;
    expect(() => insert(r, row)).toThrow(/too far ahead/);
    row[5] = 10;
    insert(r, row);
    expect(r.engine.dbVersion()).toBe(10);
    closeReplica(r);
  });
});

describe('a connection closed without engine.close()', () => {
  it('stops the poller instead of throwing from a timer', async () => {
    const errors: unknown[] = [];
    const onError = (e: unknown) => errors.push(e);
    process.on('uncaughtException', onError);
    try {
      const db = new Database(file());
      installCrr(db, { pollMs: 5 });
      db.close();
      await new Promise((r) => setTimeout(r, 60));
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(errors).toEqual([]);
  });
});
