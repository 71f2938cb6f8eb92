// schema-exchange.ts heldReason: which changes this copy's schema cannot take yet, on a real
// SQLite file. A key's width is read from its count byte; a key that does not unpack is left to
// the engine (not held), whatever its count byte says.
import { afterAll, expect, it } from 'vitest';
import { join } from 'node:path';
import { packPrimaryKey } from '../crr/index.ts';
import { closeReplica, openReplica, tempDir } from '../crr/test-helpers.ts';
import { heldReason } from './schema-exchange.ts';

const t = tempDir('crr-held-reason-');
afterAll(() => t.cleanup());

it('holds changes for missing tables and columns and keys of another width, not keys that do not unpack', () => {
  const r = openReplica(join(t.dir, 'a.db'));
  r.db.exec(`CREATE TABLE one (id INTEGER PRIMARY KEY NOT NULL, v TEXT); CREATE TABLE two (a INTEGER NOT NULL, b TEXT NOT NULL, v TEXT, PRIMARY KEY (a, b));
    CREATE TABLE plain (x); SELECT crsql_as_crr('one'); SELECT crsql_as_crr('two');`);
  const reason = heldReason(r.db, r.engine);
  const single = packPrimaryKey([1n]);
  const pair = packPrimaryKey([1n, 'x']);
  expect(reason({ table: 'one', cid: 'v', pk: single })).toBeNull();
  expect(reason({ table: 'two', cid: '-1', pk: pair })).toBeNull();
  expect(reason({ table: 'nope', cid: 'v', pk: single })).toBe('this copy has no table nope');
  expect(reason({ table: 'plain', cid: 'x', pk: single })).toMatch(/plain is not collaborative here/);
  expect(reason({ table: 'one', cid: 'w', pk: single })).toBe('one has no column w here');
  expect(reason({ table: 'one', cid: 'v', pk: pair })).toBe("one: the peer's primary key has 2 columns, this copy's has 1");
  // the same key object again (a row's cells share it), and a one-column key on a two-column table
  expect(reason({ table: 'one', cid: 'v', pk: pair })).toBe("one: the peer's primary key has 2 columns, this copy's has 1");
  expect(reason({ table: 'two', cid: 'v', pk: single })).toBe("two: the peer's primary key has 1 column, this copy's has 2");
  // keys that do not unpack: truncated with either count, empty
  expect(reason({ table: 'one', cid: 'v', pk: single.subarray(0, 2) })).toBeNull();
  expect(reason({ table: 'two', cid: 'v', pk: single.subarray(0, 2) })).toBeNull();
  expect(reason({ table: 'one', cid: 'v', pk: new Uint8Array(0) })).toBeNull();
  closeReplica(r);
});
