// Memory of a headless peer under hostile unauthenticated streams, for `npm run bench` (issue 16.4):
// a peer serving a small database, then 10 streams that each announce a 64 MB frame and send 60 MB
// of it without ever authenticating, then the same peer after they closed. RSS is read from
// /proc/PID/status (Linux), so the figures are null elsewhere.
//   hostile_baseline_rss_mb      the peer, ready, before the streams
//   hostile_preauth_rss_mb       its peak while the streams send
//   hostile_after_close_rss_mb   2 s after the last stream closed
//   hostile_postauth_rss_mb      then one authenticated stream (it holds the key) announcing a 64 MB
//                                frame and sending 60 MB of it: the most one session may buffer
//   hostile_postauth_after_close_rss_mb   2 s after that stream closed
import '../polyfills.ts';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCrr } from '../crr/index.ts';
import { SyncNode } from './node.ts';
import { handshake, openRaw } from './raw-peer.ts';
import { decodeInvite } from './invite.ts';
import { spawnPeer } from './test-peers.ts';

const STREAMS = 10;
const ANNOUNCED = 64 * 1024 * 1024;
const SENT = 60 * 1024 * 1024;
const CHUNK = 256 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

export async function runHostilePreauthBench(): Promise<Record<string, number | null>> {
  const dir = mkdtempSync(join(tmpdir(), 'crr-hostile-'));
  {
    const db = new Database(join(dir, 'a.db'));
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT); INSERT INTO t VALUES (1, 'one')`);
    const e = installCrr(db, { pollMs: 0 });
    e.asCrr('t');
    e.close();
    db.close();
  }
  const peer = spawnPeer(['--db', join(dir, 'a.db'), '--share', '--name', 'A'], dir);
  const attacker = await SyncNode.start({ identityFile: join(dir, 'x.key'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  try {
    const address = (await peer.waitFor(/listening on (\S+)/, 30_000))[1];
    const invite = decodeInvite((await peer.waitFor(/^invite: (\S+)/, 30_000))[1]);
    await sleep(1000);
    const pid = peer.proc.pid!;
    const baseline = rssMb(pid);
    let peak = baseline ?? 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid) ?? 0)), 50);
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, ANNOUNCED);
    const body = new Uint8Array(CHUNK).fill(0x20);
    const streams = await Promise.all(
      Array.from({ length: STREAMS }, async () => {
        const s = await openRaw(attacker, address);
        await s.sendBytes(header);
        for (let sent = 0; sent < SENT && !s.closed; sent += CHUNK) await s.sendBytes(body);
        // until the bytes have left this process (or the peer cut the stream)
        const until = Date.now() + 60_000;
        while (!s.closed && s.stream.writeBufferLength > 0 && Date.now() < until) await sleep(20);
        return s;
      }),
    );
    await sleep(1000);
    for (const s of streams) s.close();
    await sleep(2000);
    clearInterval(sampler);
    peak = Math.max(peak, rssMb(pid) ?? 0);
    const after = rssMb(pid);

    // one authenticated session buffering the largest frame it may send
    let postPeak = after ?? 0;
    const postSampler = setInterval(() => (postPeak = Math.max(postPeak, rssMb(pid) ?? 0)), 50);
    const s = await handshake(attacker, address, { databaseId: invite.databaseId, key: invite.key, site: 'ee'.repeat(16) });
    await s.sendBytes(header);
    for (let sent = 0; sent < SENT && !s.closed; sent += CHUNK) await s.sendBytes(body);
    const until = Date.now() + 60_000;
    while (!s.closed && s.stream.writeBufferLength > 0 && Date.now() < until) await sleep(20);
    await sleep(1000);
    s.close();
    await sleep(2000);
    clearInterval(postSampler);
    const postAfter = rssMb(pid);
    if (peer.proc.exitCode !== null) throw new Error(`the peer exited (${peer.proc.exitCode}) under hostile streams`);
    return {
      hostile_baseline_rss_mb: baseline,
      hostile_preauth_rss_mb: baseline === null ? null : peak,
      hostile_after_close_rss_mb: after,
      hostile_postauth_rss_mb: baseline === null ? null : postPeak,
      hostile_postauth_after_close_rss_mb: postAfter,
    };
  } finally {
    await peer.stop('SIGTERM');
    await attacker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
