// Sync figures for `npm run bench`, over loopback between processes: this one (the sharer, A)
// and headless peers spawned with --join.
//   clone_100k_rows_s:   B joins and copies a 100k-row, 5-column table (from B's node being
//                        ready until B has merged every change, from B's own log timestamps)
//   edit_to_peer_ms_p50 / _p95: a local commit on A until B has committed it (B's log line)
//   clone_1m_rows_s:     D joins and copies a 1M-row, 5-column table (same measure)
//   clone_peak_rss_mb:   the larger peak RSS of the sharer's process and the joiner's during it
//                        (the joiner's VmHWM; the sharer's RSS sampled during the copy)
//   clone_joiner_peak_rss_mb, clone_sharer_peak_rss_mb: each
//   edit_during_clone_ms_p95: while D copies, edits on A reach C (a peer already in sync)
// CRR_BENCH_MILLION=0 skips the 1M-row part.
import '../polyfills.ts';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCrr } from '../crr/index.ts';
import type { CrrEngine } from '../crr/types.ts';
import { DatabaseSync } from './database-sync.ts';
import { encodeInvite } from './invite.ts';
import { SyncNode } from './node.ts';
import { spawnPeer, type PeerProcess } from './test-peers.ts';

const EDITS = 60;

const at = (line: string) => Date.parse(line.slice(0, 24));

/** peak resident set of a process in MB (VmHWM), or of this one */
function peakRss(pid?: number): number {
  const status = readFileSync(`/proc/${pid ?? 'self'}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

function sharer(dir: string, name: string, rows: number): { db: Database.Database; engine: CrrEngine } {
  const db = new Database(join(dir, `${name}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const engine = installCrr(db);
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, name TEXT, n INTEGER, r REAL, note TEXT, b BLOB)');
  engine.asCrr('t');
  const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)');
  for (let start = 0; start < rows; start += 100_000) {
    db.transaction(() => {
      for (let i = start; i < Math.min(rows, start + 100_000); i++) ins.run(i, `name ${i}`, i * 7, i / 3, 'some text of moderate length', null);
    })();
  }
  return { db, engine };
}

/** ms from each edit on A until `peer` logged one change received from A */
async function editLatencies(db: Database.Database, peer: PeerProcess, count: number, stride: number): Promise<number[]> {
  const latencies: number[] = [];
  const update = db.prepare('UPDATE t SET name = ? WHERE id = ?');
  for (let i = 0; i < count; i++) {
    const seen = peer.lines.length;
    const start = performance.now();
    update.run(`edit ${i} ${Date.now()}`, (i * stride) % 100_000);
    for (;;) {
      if (peer.lines.slice(seen).some((l) => /received 1 change from A/.test(l))) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    latencies.push(performance.now() - start);
  }
  return latencies.sort((x, y) => x - y);
}
const pct = (xs: number[], p: number) => Number(xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))].toFixed(1));

/** Peer A sharing a table of `rows` rows from this process, and its invite code. */
async function sharing(dir: string, name: string, rows: number) {
  const { db, engine } = sharer(dir, name, rows);
  const ds = new DatabaseSync(db, engine, { name: 'A' });
  const node = await SyncNode.start({ identityFile: join(dir, `${name}.key`), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  node.addDatabase(ds);
  const invite = () => encodeInvite({ databaseId: ds.databaseId, key: ds.key, addresses: node.addresses() });
  const stop = async (peers: PeerProcess[]) => {
    await Promise.all(peers.map((p) => p.stop('SIGTERM')));
    ds.close();
    await node.stop();
    engine.close();
    db.close();
  };
  return { db, invite, stop };
}

export async function runSyncBench(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const dir = mkdtempSync(join(tmpdir(), 'crr-sync-bench-'));
  const { db, invite, stop } = await sharing(dir, 'a', 100_000);
  const peers: PeerProcess[] = [];
  try {
    const b = spawnPeer(['--db', join(dir, 'b.db'), '--join', invite(), '--name', 'B'], join(dir, 'data-b'));
    peers.push(b);
    const ready = await b.waitFor(/^(\S+) listening/, 30_000);
    const caughtUp = await b.waitFor(/^(\S+) caught up with A/, 300_000);
    out.clone_100k_rows_s = Number(((at(caughtUp[0]) - at(ready[0])) / 1000).toFixed(2));
    const latencies = await editLatencies(db, b, EDITS, 997);
    out.edit_to_peer_ms_p50 = pct(latencies, 50);
    out.edit_to_peer_ms_p95 = pct(latencies, 95);
    await b.stop('SIGTERM');
    peers.length = 0;
  } finally {
    await stop(peers);
  }
  if (process.env.CRR_BENCH_MILLION !== '0') Object.assign(out, await cloneMillion(dir));
  rmSync(dir, { recursive: true, force: true });
  return out;
}

/** A shares 1M rows; C is in sync; D joins and copies while A's edits go on reaching C. */
async function cloneMillion(dir: string): Promise<Record<string, number>> {
  const { db, invite, stop } = await sharing(dir, 'm', 1_000_000);
  const peers: PeerProcess[] = [];
  try {
    const c = spawnPeer(['--db', join(dir, 'c.db'), '--join', invite(), '--name', 'C'], join(dir, 'data-c'));
    peers.push(c);
    await c.waitFor(/^(\S+) caught up with A/, 600_000);
    // the sharer built the file in this process: its own peak is sampled during the copy only
    let sharerPeak = 0;
    const sampler = setInterval(() => (sharerPeak = Math.max(sharerPeak, process.memoryUsage().rss)), 100);
    const d = spawnPeer(['--db', join(dir, 'd.db'), '--join', invite(), '--name', 'D'], join(dir, 'data-d'));
    peers.push(d);
    const ready = await d.waitFor(/^(\S+) listening/, 30_000);
    // edits on A while D copies: how long they take to reach C
    const during: number[] = [];
    let copying = true;
    const editing = (async () => {
      while (copying) {
        during.push(...(await editLatencies(db, c, 1, 7919 + during.length * 13)));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const caughtUp = await d.waitFor(/^(\S+) caught up with A/, 600_000);
    const joinerPeak = peakRss(d.proc.pid);
    copying = false;
    await editing;
    clearInterval(sampler);
    const sharerMb = Math.round(sharerPeak / 2 ** 20);
    during.sort((x, y) => x - y);
    return {
      clone_1m_rows_s: Number(((at(caughtUp[0]) - at(ready[0])) / 1000).toFixed(2)),
      clone_joiner_peak_rss_mb: joinerPeak,
      clone_sharer_peak_rss_mb: sharerMb,
      clone_peak_rss_mb: Math.max(joinerPeak, sharerMb),
      edit_during_clone_ms_p95: during.length ? pct(during, 95) : -1,
      edit_during_clone_count: during.length,
    };
  } finally {
    await stop(peers);
  }
}
