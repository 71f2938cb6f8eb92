// The service's schema-change calls: a peer's drop waits, is listed with how many values it would
// take from view, applies on confirmSchemaChange, and leaves the values readable through
// droppedHistory and cellHistory; the auto-apply setting; bad ids refused.
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DatabaseService } from './service.ts';
import { closeReplica, openReplica, tempDir } from '../crr/test-helpers.ts';
import { rejection } from './test-rejection.ts';
import type { CrrEngine } from '../crr/types.ts';

const tmp = tempDir('schema-changes-');
afterAll(() => tmp.cleanup());
let n = 0;

const SCHEMA = `CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, b TEXT, c TEXT)`;

async function opened() {
  const path = join(tmp.dir, `s${++n}.db`);
  const db = new Database(path);
  db.exec(`${SCHEMA}; INSERT INTO t VALUES (1, 'one', 'kept value'), (2, 'two', NULL)`);
  db.close();
  const svc = new DatabaseService();
  await svc.openDatabase({ path });
  await svc.enableCrr({ table: 't' });
  const engine = (svc as unknown as { engine: CrrEngine }).engine;
  const sdb = (svc as unknown as { db: Database.Database }).db;
  return { svc, engine, db: sdb };
}

/** A peer's log with t shared and `alter` made there, received by the service's engine. */
function fromPeer(engine: CrrEngine, db: Database.Database, alter: string): void {
  const peer = openReplica(join(tmp.dir, `peer${++n}.db`));
  peer.db.exec(`${SCHEMA}; SELECT crsql_as_crr('t');`);
  peer.db.exec(alter);
  const entries = peer.engine.schemaLog.missing(engine.schemaLog.vector());
  closeReplica(peer);
  db.transaction(() => engine.schemaLog.receive(entries))();
}

describe('schema changes from peers in the service', () => {
  it("lists a peer's drop as waiting with the values it holds, applies it when confirmed, and keeps them readable", async () => {
    const { svc, engine, db } = await opened();
    await svc.updateCell({ table: 't', key: [{ i: '2' }], column: 'c', value: 'edited here' });
    fromPeer(engine, db, `ALTER TABLE t DROP COLUMN c`);
    const view = await svc.schemaChanges();
    expect(view.waiting).toHaveLength(1);
    expect(view.waiting[0]).toMatchObject({ summary: 'drop column c of t', state: 'confirm', destructive: true, values: 2 });
    expect(view.waiting[0].by).toMatch(/^peer [0-9A-F]{6}$/);
    expect((await svc.tableSchema({ table: 't' })).columns.map((c) => c.name)).toEqual(['id', 'b', 'c']);

    const after = await svc.confirmSchemaChange({ id: view.waiting[0].id });
    expect(after.waiting).toEqual([]);
    expect(after.recent[0]).toMatchObject({ summary: 'drop column c of t', state: 'applied' });
    expect((await svc.tableSchema({ table: 't' })).columns.map((c) => c.name)).toEqual(['id', 'b']);
    const dropped = await svc.droppedHistory({ table: 't', key: [{ i: '2' }] });
    expect(dropped.map((d) => [d.column, d.versions.map((v) => v.value)])).toEqual([['c', ['edited here', null]]]);
    expect((await svc.cellHistory({ table: 't', key: [{ i: '1' }], column: 'c' })).map((v) => v.value)).toEqual(['kept value']);
    svc.close();
  });

  it('the auto-apply setting applies a waiting drop at once; ids that name nothing are refused', async () => {
    const { svc, engine, db } = await opened();
    fromPeer(engine, db, `ALTER TABLE t DROP COLUMN b`);
    expect((await svc.schemaChanges()).waiting).toHaveLength(1);
    const view = await svc.setSchemaAutoApply({ on: true });
    expect(view).toMatchObject({ autoApply: true, waiting: [] });
    expect((await svc.tableSchema({ table: 't' })).columns.map((c) => c.name)).toEqual(['id', 'c']);
    expect((await rejection(svc.confirmSchemaChange({ id: 'nonsense' }))).code).toBe('invalid-argument');
    expect((await rejection(svc.confirmSchemaChange({ id: `${'AB'.repeat(16)}:9` }))).message).toMatch(/no such schema change/);
    expect((await rejection(svc.setSchemaAutoApply({ on: 'yes' as unknown as boolean }))).code).toBe('invalid-argument');
    svc.close();
  });
});
