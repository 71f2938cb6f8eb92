// Sync figures for `npm run bench`, over loopback between two processes: this one (the sharer,
// A) and a headless peer (B) spawned with --join.
//   clone_100k_rows_s: B joins and copies a 100k-row, 5-column table (from B's node being ready
//                      until B has merged every change, from B's own log timestamps)
//   edit_to_peer_ms_p50 / _p95: a local commit on A until B has committed it (B's log line)
import '../polyfills.ts';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCrr } from '../crr/index.ts';
import { DatabaseSync } from './database-sync.ts';
import { encodeInvite } from './invite.ts';
import { SyncNode } from './node.ts';
import { spawnPeer } from './test-peers.ts';

const ROWS = 100_000;
const EDITS = 60;

const at = (line: string) => Date.parse(line.slice(0, 24));

export async function runSyncBench(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'crr-sync-bench-'));
  const db = new Database(join(dir, 'a.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const engine = installCrr(db);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, name TEXT, n INTEGER, r REAL, note TEXT, b BLOB)');
  engine.asCrr('t');
  const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < ROWS; i++) ins.run(i, `name ${i}`, i * 7, i / 3, 'some text of moderate length', null);
  })();
  const ds = new DatabaseSync(db, engine, { name: 'A' });
  const node = await SyncNode.start({ identityFile: join(dir, 'a.key'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  node.addDatabase(ds);
  const b = spawnPeer(['--db', join(dir, 'b.db'), '--join', encodeInvite({ databaseId: ds.databaseId, key: ds.key, addresses: node.addresses() }), '--name', 'B'], dir);
  try {
    const ready = await b.waitFor(/^(\S+) listening/, 30_000);
    const caughtUp = await b.waitFor(/^(\S+) caught up with A/, 120_000);
    const clone = (at(caughtUp[0]) - at(ready[0])) / 1000;

    const latencies: number[] = [];
    const update = db.prepare('UPDATE t SET name = ? WHERE id = ?');
    for (let i = 0; i < EDITS; i++) {
      const seen = b.lines.length;
      const start = performance.now();
      update.run(`edit ${i}`, i * 997);
      for (;;) {
        if (b.lines.slice(seen).some((l) => /received 1 change from A/.test(l))) break;
        await new Promise((r) => setImmediate(r));
      }
      latencies.push(performance.now() - start);
    }
    latencies.sort((x, y) => x - y);
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
    return {
      clone_100k_rows_s: Number(clone.toFixed(2)),
      edit_to_peer_ms_p50: Number(pct(50).toFixed(1)),
      edit_to_peer_ms_p95: Number(pct(95).toFixed(1)),
    };
  } finally {
    await b.stop('SIGTERM');
    ds.close();
    await node.stop();
    engine.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
