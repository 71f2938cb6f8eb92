// A peer renamed in the app (issue 15): the other side's peer list shows the new name, for a
// session open at the time of the renaming (it is announced again) and after a restart (the
// name is remembered). Real libp2p nodes in this process on 127.0.0.1.
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { closeReplica, openReplica, tempDir } from '../crr/test-helpers.ts';
import { DatabaseSync } from './database-sync.ts';
import { SyncNode } from './node.ts';
import { until } from './test-peers.ts';


describe('peer names', () => {
  const stops: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });

  it('a rename reaches a connected peer, and the other side keeps it after the session ends', async () => {
    const t = tempDir('crr-names-');
    stops.push(t.cleanup);
    const open = (name: string, share?: { databaseId: string; key: Uint8Array }) => {
      const r = openReplica(join(t.dir, `${name}.db`), { pollMs: 50 });
      r.db.exec(`CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY NOT NULL, v TEXT)`);
      r.engine.asCrr('t');
      const ds = new DatabaseSync(r.db, r.engine, { name, log: () => {}, share });
      stops.push(() => closeReplica(r), () => ds.close());
      return { ds, r };
    };
    const a = open('host-a');
    const b = open('host-b', { databaseId: a.ds.databaseId, key: a.ds.key });
    const na = await SyncNode.start({ identityFile: join(t.dir, 'a.key'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, redialMs: 300 });
    stops.push(() => na.stop());
    const nb = await SyncNode.start({ identityFile: join(t.dir, 'b.key'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, redialMs: 300 });
    stops.push(() => nb.stop());
    na.addDatabase(a.ds);
    nb.addDatabase(b.ds);
    await nb.dial(na.addresses()[0]);
    const nameOfA = () => nb.peers(b.ds).find((p) => p.peerId === na.peerId)?.name;
    const nameOfB = () => na.peers(a.ds).find((p) => p.peerId === nb.peerId)?.name;
    await until(() => nameOfA() === 'host-a' && nameOfB() === 'host-b', 'the host names announced');

    a.ds.rename("Ada's laptop");
    await until(() => nameOfA() === "Ada's laptop", 'the new name shown by b');
    // sync goes on after the renaming
    a.r.db.prepare(`INSERT INTO t VALUES (1, 'after the rename')`).run();
    await until(() => b.r.db.prepare(`SELECT v FROM t WHERE id = 1`).pluck().get() === 'after the rename', 'a row synced after the rename');
    expect(nameOfB()).toBe('host-b');

    // a goes away: b still names it as renamed (remembered with the peer)
    await na.stop();
    await until(() => nb.peers(b.ds).find((p) => p.peerId === na.peerId)?.connected === false, 'a offline');
    expect(nameOfA()).toBe("Ada's laptop");
  }, 45_000);
});
