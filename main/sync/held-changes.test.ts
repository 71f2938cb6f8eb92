// Issue 16.3: held changes that can never merge. B shares notes(id INTEGER PRIMARY KEY); A
// already has its own plain notes(a, b) with a composite key and joins, so B's changes are held
// on A. A's user then makes A's notes collaborative: the held changes still cannot merge (their
// key does not fit), and retrying them used to throw from a timer and kill A, at every restart.
// They must stay held, be shown with the reason in A's peer list, and merge once a schema change
// makes them fit.
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { installCrr } from '../crr/index.ts';
import { openReplica, closeReplica, tableSnapshot, tempDir } from '../crr/test-helpers.ts';
import { decodeInvite } from './invite.ts';
import { DatabaseSync } from './database-sync.ts';
import { SyncNode } from './node.ts';
import { sleep, spawnPeer, until, type PeerProcess } from './test-peers.ts';

function held(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM crr_sync_held').pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('held changes that can never merge', () => {
  const peers: PeerProcess[] = [];
  const stops: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
    await Promise.all(peers.splice(0).map((p) => p.stop('SIGKILL')));
  });

  it("the issue's notes scenario: kept, shown with the reason, no crash; merged after a schema change that makes them fit", async () => {
    const t = tempDir('crr-held-');
    stops.push(t.cleanup);
    const path = (n: string) => join(t.dir, `${n}.db`);
    const data = (n: string) => {
      const d = join(t.dir, `data-${n}`);
      mkdirSync(d, { recursive: true });
      return d;
    };
    {
      const db = new Database(path('b'));
      db.pragma('journal_mode = WAL');
      db.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY NOT NULL, body TEXT); INSERT INTO notes VALUES (1, 'one'), (2, 'two'), (3, 'three')`);
      installCrr(db, { pollMs: 0 }).asCrr('notes');
      db.close();
    }
    {
      const db = new Database(path('a'));
      db.pragma('journal_mode = WAL');
      db.exec(`CREATE TABLE notes (a INTEGER NOT NULL, b INTEGER NOT NULL, body TEXT, PRIMARY KEY (a, b)); INSERT INTO notes VALUES (1, 1, 'mine')`);
      db.close();
    }
    const b = spawnPeer(['--db', path('b'), '--share', '--name', 'B'], data('b'));
    peers.push(b);
    const code = (await b.waitFor(/^invite: (\S+)/))[1];
    let a = spawnPeer(['--db', path('a'), '--join', code, '--name', 'A'], data('a'));
    peers.push(a);
    await a.waitFor(/received \d+ changes? from B/);
    await until(() => held(path('a')) > 0, 'changes held on A');
    const heldBefore = held(path('a'));
    await a.stop('SIGTERM');

    // A's user makes A's own notes collaborative: B's held changes still do not fit its key
    {
      const db = new Database(path('a'));
      const e = installCrr(db, { pollMs: 0 });
      e.asCrr('notes');
      e.close();
      db.close();
    }
    // restarted, A retries the held changes: it must keep running (it exited 1 here, every time)
    a = spawnPeer(['--db', path('a'), '--name', 'A'], data('a'));
    peers.push(a);
    await a.waitFor(/authorised/);
    await a.waitFor(/cannot merge .*notes/);
    await sleep(4000); // two redial rounds, each of which retries the held changes
    expect(a.proc.exitCode).toBe(null);
    expect(held(path('a'))).toBe(heldBefore);
    await a.stop('SIGTERM');

    // the same file in this process: the peer list names B and says why its changes wait
    const r = openReplica(path('a'), { pollMs: 50 });
    const ds = new DatabaseSync(r.db, r.engine, { name: 'A' });
    const node = await SyncNode.start({ identityFile: join(data('a'), 'peer-identity.key'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
    stops.push(() => closeReplica(r), () => ds.close(), () => node.stop());
    node.addDatabase(ds, decodeInvite(code).addresses);
    await until(() => node.peers(ds).some((p) => p.authorised), 'A authorised with B');
    const fromB = () => node.peers(ds).find((p) => p.name === 'B');
    await until(() => (fromB()?.heldChanges ?? 0) > 0, 'held changes shown for B');
    expect(fromB()!.heldChanges).toBe(heldBefore);
    expect(fromB()!.heldReason).toMatch(/notes.*primary key/);
    expect(ds.status().heldChanges).toBe(heldBefore);
    expect(tableSnapshot(r.db, 'notes')).toEqual([['1', '1', "'mine'"]]);

    // a schema change that makes them fit: A's notes takes B's shape; the held changes merge
    r.engine.asTable('notes');
    r.db.exec(`DROP TABLE notes; CREATE TABLE notes (id INTEGER PRIMARY KEY NOT NULL, body TEXT)`);
    r.engine.asCrr('notes');
    await until(() => ds.status().heldChanges === 0, 'held changes merged');
    expect(tableSnapshot(r.db, 'notes')).toEqual([['1', "'one'"], ['2', "'two'"], ['3', "'three'"]]);
    await until(() => (fromB()?.heldChanges ?? 0) === 0 && fromB()?.heldReason === null, 'peer list updated');
  }, 90_000);
});
