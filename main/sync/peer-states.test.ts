// A peer that goes offline, or opens another file, is a state of the peer list, not a sync error
// (issue 15, bug 10). Real libp2p nodes in this process on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { closeReplica, openReplica, tempDir } from '../crr/test-helpers.ts';
import { DatabaseSync } from './database-sync.ts';
import { SyncNode } from './node.ts';
import { sleep, until } from './test-peers.ts';


describe('peer states', () => {
  const stops: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });

  function database(dir: string, name: string, share?: { databaseId: string; key: Uint8Array }) {
    const r = openReplica(join(dir, `${name}.db`), { pollMs: 50 });
    r.db.exec(`CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY NOT NULL, v TEXT)`);
    r.engine.asCrr('t');
    const ds = new DatabaseSync(r.db, r.engine, { name, log: () => {}, share });
    stops.push(() => closeReplica(r), () => ds.close());
    return ds;
  }
  async function node(dir: string, name: string) {
    const n = await SyncNode.start({ identityFile: join(dir, `${name}.key`), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, redialMs: 300 });
    stops.push(() => n.stop());
    return n;
  }
  const authorised = (ds: DatabaseSync) => [...ds.sessions].some((s) => s.info().authorised);
  /** a and b share one database, each on its own node, syncing */
  async function syncingPair() {
    const t = tempDir('crr-states-');
    stops.push(t.cleanup);
    const a = database(t.dir, 'a');
    const b = database(t.dir, 'b', { databaseId: a.databaseId, key: a.key });
    const na = await node(t.dir, 'a');
    const nb = await node(t.dir, 'b');
    na.addDatabase(a);
    nb.addDatabase(b);
    await nb.dial(na.addresses()[0]);
    await until(() => authorised(a) && authorised(b), 'sessions authorised');
    return { t, a, b, na, nb };
  }

  it('a peer that closes the connection leaves sync idle, not in error', async () => {
    const { a, nb } = await syncingPair();
    await nb.stop();
    await until(() => !authorised(a), 'session ended');
    await sleep(500);
    expect(a.status()).toMatchObject({ state: 'idle', connectedPeers: 0, lastError: null });
  }, 30_000);

  it('a peer that opened another file is shown as such, and sync is not in error', async () => {
    const { t, a, b, na, nb } = await syncingPair();
    const other = database(t.dir, 'other');
    // b's user opens another (shared) file in the same app: the node serves that one instead
    nb.removeDatabase(b);
    nb.addDatabase(other);
    const peerB = () => na.peers(a).find((p) => p.peerId === nb.peerId);
    await until(() => peerB()?.elsewhere === true, 'b shown as having another database open');
    expect(peerB()).toMatchObject({ connected: true, authorised: false, lastError: null });
    expect(a.status()).toMatchObject({ state: 'idle', connectedPeers: 0, lastError: null });
    // b opens the shared file again: syncing, and no longer elsewhere
    nb.removeDatabase(other);
    nb.addDatabase(b);
    await until(() => authorised(a), 'session again', 20_000);
    expect(peerB()?.elsewhere).toBe(false);
  }, 45_000);
});
