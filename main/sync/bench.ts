// Sync figures for `npm run bench`, over loopback between headless peers, each its own process
// (`peer-cli.ts`); this process only writes the sharer's file beforehand and orchestrates.
//   clone_100k_rows_s:   B joins and copies a 100k-row, 5-column table (from B's node being
//                        ready until B has merged every change, from B's own log timestamps)
//   clone_100k_edited_rows_s: the same, of a table whose every row was edited once after its
//                        insert (one column: its first versions and one later version each)
//   edit_to_peer_ms_p50 / _p95: a local commit on A (a statement sent to its --sql-stdin) until
//                        B has committed it (B's log line, seen here)
//   clone_1m_rows_s:     D joins and copies a 1M-row, 5-column table (same measure)
//   clone_joiner_peak_rss_mb: D's peak RSS (VmHWM) once it caught up
//   clone_sharer_peak_rss_mb: A's peak RSS (VmHWM) at the same moment: over A's whole life, which
//                        is serving the 1M rows to C and then to D (the file was written before A started)
//   clone_peak_rss_mb:   the larger of the two
//   edit_during_clone_ms_p95: while D copies, edits on A reach C (a peer already in sync)
// CRR_BENCH_MILLION=0 skips the 1M-row part.
import '../polyfills.ts';
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCrr } from '../crr/index.ts';
import { spawnPeer, type PeerProcess } from './test-peers.ts';

const EDITS = 60;

const at = (line: string) => Date.parse(line.slice(0, 24));

/** peak resident set of a process in MB (VmHWM) */
function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** A's file: a CRR table of `rows` rows (`edited`: then one column of each updated), written and closed here before A's process starts */
function writeSharerFile(file: string, rows: number, edited = false): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const engine = installCrr(db, { pollMs: 0 });
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, name TEXT, n INTEGER, r REAL, note TEXT, b BLOB)');
  engine.asCrr('t');
  const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)');
  for (let start = 0; start < rows; start += 100_000) {
    db.transaction(() => {
      for (let i = start; i < Math.min(rows, start + 100_000); i++) ins.run(i, `name ${i}`, i * 7, i / 3, 'some text of moderate length', null);
    })();
  }
  if (edited) db.exec('UPDATE t SET n = n + 1');
  engine.close();
  db.close();
}

/** ms from each edit on A (sent to its stdin) until `peer` logged one change received from A */
async function editLatencies(a: PeerProcess, peer: PeerProcess, count: number, stride: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const seen = peer.lines.length;
    const start = performance.now();
    a.proc.stdin!.write(`UPDATE t SET name = 'edit ${i} ${Date.now()}' WHERE id = ${(i * stride) % 100_000}\n`);
    for (;;) {
      if (peer.lines.slice(seen).some((l) => /received 1 change from A/.test(l))) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    latencies.push(performance.now() - start);
  }
  return latencies.sort((x, y) => x - y);
}
const pct = (xs: number[], p: number) => Number(xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))].toFixed(1));

/** Peer A, a headless peer of its own sharing a table of `rows` rows, its invite code, and the teardown of it and its joiners. */
async function sharing(dir: string, name: string, rows: number, edited = false) {
  const file = join(dir, `${name}.db`);
  writeSharerFile(file, rows, edited);
  const a = spawnPeer(['--db', file, '--share', '--name', 'A', '--sql-stdin'], join(dir, `data-${name}`));
  const peers: PeerProcess[] = [a];
  const invite = (await a.waitFor(/^invite: (\S+)/, 300_000))[1]!;
  /** a joiner named `peer`, stopped with A */
  const joiner = (peer: string) => {
    const p = spawnPeer(['--db', join(dir, `${peer.toLowerCase()}.db`), '--join', invite, '--name', peer], join(dir, `data-${peer.toLowerCase()}`));
    peers.push(p);
    return p;
  };
  const stop = () => Promise.all(peers.splice(0).map((p) => p.stop('SIGTERM')));
  return { a, joiner, stop };
}

export async function runSyncBench(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const dir = mkdtempSync(join(tmpdir(), 'crr-sync-bench-'));
  const { a, joiner, stop } = await sharing(dir, 'a', 100_000);
  try {
    const b = joiner('B');
    const ready = await b.waitFor(/^(\S+) listening/, 30_000);
    const caughtUp = await b.waitFor(/^(\S+) caught up with A/, 300_000);
    out.clone_100k_rows_s = Number(((at(caughtUp[0]) - at(ready[0])) / 1000).toFixed(2));
    const latencies = await editLatencies(a, b, EDITS, 997);
    out.edit_to_peer_ms_p50 = pct(latencies, 50);
    out.edit_to_peer_ms_p95 = pct(latencies, 95);
  } finally {
    await stop();
  }
  Object.assign(out, await cloneEdited(dir));
  if (process.env.CRR_BENCH_MILLION !== '0') Object.assign(out, await cloneMillion(dir));
  rmSync(dir, { recursive: true, force: true });
  return out;
}

/** B's clone of a 100k-row table whose every row was edited once. */
async function cloneEdited(dir: string): Promise<Record<string, number>> {
  const { joiner, stop } = await sharing(dir, 'edited', 100_000, true);
  try {
    const e = joiner('E');
    const ready = await e.waitFor(/^(\S+) listening/, 30_000);
    const caughtUp = await e.waitFor(/^(\S+) caught up with A/, 300_000);
    return { clone_100k_edited_rows_s: Number(((at(caughtUp[0]) - at(ready[0])) / 1000).toFixed(2)) };
  } finally {
    await stop();
  }
}

/** A shares 1M rows; C is in sync; D joins and copies while A's edits go on reaching C. */
async function cloneMillion(dir: string): Promise<Record<string, number>> {
  const { a, joiner, stop } = await sharing(dir, 'm', 1_000_000);
  try {
    const c = joiner('C');
    await c.waitFor(/^(\S+) caught up with A/, 600_000);
    const d = joiner('D');
    const ready = await d.waitFor(/^(\S+) listening/, 30_000);
    // edits on A while D copies: how long they take to reach C
    const during: number[] = [];
    let copying = true;
    const editing = (async () => {
      while (copying) {
        during.push(...(await editLatencies(a, c, 1, 7919 + during.length * 13)));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const caughtUp = await d.waitFor(/^(\S+) caught up with A/, 600_000);
    const joinerPeak = peakRss(d.proc.pid!);
    const sharerPeak = peakRss(a.proc.pid!);
    copying = false;
    await editing;
    during.sort((x, y) => x - y);
    return {
      clone_1m_rows_s: Number(((at(caughtUp[0]) - at(ready[0])) / 1000).toFixed(2)),
      clone_joiner_peak_rss_mb: joinerPeak,
      clone_sharer_peak_rss_mb: sharerPeak,
      clone_peak_rss_mb: Math.max(joinerPeak, sharerPeak),
      edit_during_clone_ms_p95: during.length ? pct(during, 95) : -1,
      edit_during_clone_count: during.length,
    };
  } finally {
    await stop();
  }
}
