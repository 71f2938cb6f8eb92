// Fault-injection soak (issue 16, "keep our soak in the project"): N headless peers (separate
// processes, loopback only) share one database; every link between two peers goes through its own
// FaultProxy (fault-proxy.ts), so partitions are real: links dropped, blackholed, slowed, cut and
// reordered. Meanwhile peers are SIGKILLed (and restarted) and SIGSTOPped (and continued), and an
// outside writer (a plain better-sqlite3 connection, as any other program) writes every peer's
// file. Then everything heals and the checker proves: every file holds the same rows and the same
// cell versions, no committed write was lost, and every file passes PRAGMA integrity_check.
//
// Each writer owns its rows (ids w<peer>-<n>): inserts, updates, deletes and re-inserts them, so
// their final state is known exactly from its log of committed transactions. All writers also
// update a few shared hot rows (conflicts), which need only be identical everywhere.
import '../polyfills.ts';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { installCrr } from '../crr/index.ts';
import { bytesToHex } from '../../shared/values.ts';
import { FaultProxy } from './fault-proxy.ts';
import { loadIdentity } from './identity.ts';
import { decodeInvite, encodeInvite } from './invite.ts';
import { random } from './protocol-fuzz.ts';
import { spawnPeer, type PeerProcess } from './test-peers.ts';

export interface SoakOptions {
  peers: number;
  /** how long the faults go on */
  seconds: number;
  seed: number;
  /** how long the peers may take to agree once healed */
  convergeSeconds?: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  peers: number;
  links: number;
  /** committed outside transactions (and how many the writers gave up on: the file was busy) */
  ops: number;
  busy: number;
  kills: number;
  stops: number;
  partitions: number;
  cuts: number;
  slowdowns: number;
  reorders: number;
  converged: boolean;
  convergenceMs: number | null;
  lostWrites: number;
  integrityFailures: number;
  /** files whose rows or cell versions differ from the first's */
  divergentFiles: number;
  /** a write travelled while every link was down: some peers bypass the proxies (the soak proves nothing) */
  bypassed: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOT = 4;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

type Own = Map<string, { n: number; v: string } | null>;

/** Every row of t, in id order, as text. */
function rows(path: string): string {
  const db = new Database(path, { readonly: true, timeout: 5000 });
  try {
    return JSON.stringify(db.prepare('SELECT id, writer, n, v FROM t ORDER BY id').raw().all());
  } finally {
    db.close();
  }
}

/** Every cell version of the file (its changes without the local db_version and seq). */
function versions(path: string): string {
  const db = new Database(path, { timeout: 5000 });
  const engine = installCrr(db, { pollMs: 0 });
  try {
    return JSON.stringify(
      engine
        .changesSince(0)
        .map((c) => [c.table, bytesToHex(c.pk), c.cid, String(c.val), c.col_version, bytesToHex(c.site_id), c.cl].join('|'))
        .sort(),
    );
  } finally {
    engine.close();
    db.close();
  }
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const r = random(options.seed);
  const N = options.peers;
  const dir = mkdtempSync(join(tmpdir(), 'crr-soak-'));
  const file = (i: number) => join(dir, `p${i}.db`);
  const dataDir = (i: number) => join(dir, `data-${i}`);
  const result: SoakResult = {
    peers: N, links: 0, ops: 0, busy: 0, kills: 0, stops: 0, partitions: 0, cuts: 0, slowdowns: 0, reorders: 0,
    converged: false, convergenceMs: null, lostWrites: 0, integrityFailures: 0, divergentFiles: 0, bypassed: false,
  };
  const proxies: FaultProxy[] = [];
  const procs: (PeerProcess | null)[] = [];
  const stopped = new Set<number>();
  try {
    // identities first: every peer's id is known before any starts, so links can name them
    const ids: string[] = [];
    const ports: number[] = [];
    for (let i = 0; i < N; i++) {
      mkdirSync(dataDir(i), { recursive: true });
      ids.push(peerIdFromPrivateKey((await loadIdentity(join(dataDir(i), 'peer-identity.key'))) as never).toString());
      ports.push(await freePort());
    }
    // links: a star around peer 0 and a ring, each through its own proxy towards the peer dialed
    const links: [number, number][] = [];
    for (let i = 1; i < N; i++) links.push([i, 0]);
    for (let i = 1; i < N; i++) if (N > 2 && (i + 1) % N !== 0 && !links.some(([a, b]) => a === (i + 1) % N && b === i)) links.push([i, (i + 1) % N]);
    const dials: string[][] = Array.from({ length: N }, () => []);
    for (const [from, to] of links) {
      const proxy = await FaultProxy.start(ports[to], r.next);
      proxies.push(proxy);
      dials[from].push(`/ip4/127.0.0.1/tcp/${proxy.port}/p2p/${ids[to]}`);
    }
    result.links = links.length;

    {
      const db = new Database(file(0));
      db.pragma('journal_mode = WAL');
      db.exec(`CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, writer TEXT, n INTEGER, v TEXT)`);
      const ins = db.prepare('INSERT INTO t VALUES (?, NULL, 0, ?)');
      for (let k = 0; k < HOT; k++) ins.run(`hot-${k}`, 'initial');
      const e = installCrr(db, { pollMs: 0 });
      e.asCrr('t');
      e.close();
      db.close();
    }
    const share = await (async () => {
      const p = spawnPeer(['--db', file(0), '--share', '--name', 'p0', '--listen', `/ip4/127.0.0.1/tcp/${ports[0]}`], dataDir(0));
      procs[0] = p;
      return (await p.waitFor(/^invite: (\S+)/, 30_000))[1];
    })();
    const invite = decodeInvite(share);
    const argsOf = (i: number) =>
      i === 0
        ? ['--db', file(0), '--name', 'p0', '--listen', `/ip4/127.0.0.1/tcp/${ports[0]}`]
        : [
            '--db', file(i), '--join', encodeInvite({ ...invite, addresses: dials[i].filter((a) => a.endsWith(ids[0])) }), '--name', `p${i}`,
            '--listen', `/ip4/127.0.0.1/tcp/${ports[i]}`, ...dials[i].flatMap((a) => ['--connect', a]),
          ];
    const start = (i: number) => (procs[i] = spawnPeer(argsOf(i), dataDir(i)));
    for (let i = 1; i < N; i++) start(i);
    // writers start once every file has the table
    for (let i = 1; i < N; i++) await procs[i]!.waitFor(/caught up with p0/, 60_000);
    log(`soak: ${N} peers up, ${links.length} links through proxies`);

    // the links are real: with every proxy down, a write on one file reaches no other
    for (const p of proxies) p.setMode('drop');
    {
      const db = new Database(file(N - 1), { timeout: 5000 });
      db.prepare(`INSERT INTO t VALUES ('probe', NULL, 0, 'written while every link was down')`).run();
      db.close();
    }
    await sleep(3000);
    for (let i = 0; i < N - 1; i++) if (rows(file(i)).includes('"probe"')) result.bypassed = true;
    for (const p of proxies) p.setMode('pass');

    // the outside writers
    const owned: Own[] = Array.from({ length: N }, () => new Map());
    const writers = Array.from({ length: N }, (_, i) => {
      const db = new Database(file(i), { timeout: 200 });
      db.pragma('busy_timeout = 200');
      return db;
    });
    let writing = true;
    let counter = 0;
    const nextOwn = Array.from({ length: N }, () => 0);
    const writeOnce = (i: number) => {
      const db = writers[i];
      const mine = owned[i];
      const planned = new Map<string, { n: number; v: string } | null>();
      const ops = r.int(1, 4);
      const tx = db.transaction(() => {
        for (let k = 0; k < ops; k++) {
          const live = [...mine].filter(([id, s]) => s && !planned.has(id)).map(([id]) => id);
          const dead = [...mine].filter(([id, s]) => !s && !planned.has(id)).map(([id]) => id);
          const v = `v${++counter}`;
          const kind = r.next();
          if (kind < 0.35 || live.length === 0) {
            const id = `w${i}-${nextOwn[i]++}`;
            db.prepare('INSERT INTO t VALUES (?, ?, 0, ?)').run(id, `w${i}`, v);
            planned.set(id, { n: 0, v });
          } else if (kind < 0.65) {
            const id = r.pick(live);
            const n = mine.get(id)!.n + 1;
            db.prepare('UPDATE t SET n = ?, v = ? WHERE id = ?').run(n, v, id);
            planned.set(id, { n, v });
          } else if (kind < 0.75) {
            const id = r.pick(live);
            db.prepare('DELETE FROM t WHERE id = ?').run(id);
            planned.set(id, null);
          } else if (kind < 0.8 && dead.length) {
            const id = r.pick(dead);
            db.prepare('INSERT INTO t VALUES (?, ?, 100, ?)').run(id, `w${i}`, v);
            planned.set(id, { n: 100, v });
          } else {
            db.prepare('UPDATE t SET writer = ?, v = ? WHERE id = ?').run(`w${i}`, v, `hot-${r.int(0, HOT - 1)}`);
          }
        }
      });
      try {
        tx.immediate();
        for (const [id, s] of planned) mine.set(id, s);
        result.ops++;
      } catch {
        // busy (its peer holds the file, or is stopped holding it): nothing of it committed
        result.busy++;
      }
    };
    const writerLoop = (async () => {
      while (writing) {
        writeOnce(r.int(0, N - 1));
        await sleep(r.int(2, 15));
      }
    })();

    // the faults
    const alive = (i: number) => procs[i] !== null && procs[i]!.proc.exitCode === null && procs[i]!.proc.signalCode === null;
    const until = Date.now() + options.seconds * 1000;
    const pending: Promise<void>[] = [];
    while (Date.now() < until) {
      const kind = r.next();
      const i = r.int(0, N - 1);
      const proxy = r.pick(proxies);
      if (kind < 0.2 && alive(i) && !stopped.has(i)) {
        result.kills++;
        await procs[i]!.stop('SIGKILL');
        pending.push(sleep(r.int(300, 2000)).then(() => void start(i)));
      } else if (kind < 0.35 && alive(i) && !stopped.has(i)) {
        result.stops++;
        stopped.add(i);
        procs[i]!.proc.kill('SIGSTOP');
        pending.push(
          sleep(r.int(300, 3000)).then(() => {
            procs[i]?.proc.kill('SIGCONT');
            stopped.delete(i);
          }),
        );
      } else if (kind < 0.55) {
        result.partitions++;
        proxy.setMode(r.chance(0.5) ? 'drop' : 'blackhole');
        pending.push(sleep(r.int(500, 4000)).then(() => proxy.setMode('pass')));
      } else if (kind < 0.7) {
        result.cuts++;
        proxy.cut();
      } else if (kind < 0.85) {
        result.slowdowns++;
        proxy.setDelay([0, r.int(5, 200)]);
        pending.push(sleep(r.int(500, 3000)).then(() => proxy.setDelay(null)));
      } else {
        result.reorders++;
        proxy.reorder(r.int(2, 8));
      }
      await sleep(r.int(100, 600));
    }
    writing = false;
    await writerLoop;
    await Promise.all(pending);
    // heal: every link passes, every peer runs
    for (const p of proxies) p.heal();
    for (let i = 0; i < N; i++) {
      if (stopped.has(i)) procs[i]?.proc.kill('SIGCONT');
      if (!alive(i)) start(i);
    }
    stopped.clear();
    for (const w of writers) w.close();
    const healed = Date.now();
    log(`soak: healed after ${result.ops} ops, ${result.kills} kills, ${result.stops} stops, ${result.partitions} partitions, ${result.cuts} cuts`);

    const deadline = healed + (options.convergeSeconds ?? 90) * 1000;
    for (;;) {
      const snaps = Array.from({ length: N }, (_, i) => rows(file(i)));
      if (snaps.every((s) => s === snaps[0])) {
        result.converged = true;
        result.convergenceMs = Date.now() - healed;
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(250);
    }

    // the checker, with every peer stopped
    await Promise.all(procs.map((p) => p?.stop('SIGTERM')));
    const first = rows(file(0));
    const firstVersions = versions(file(0));
    for (let i = 1; i < N; i++) if (rows(file(i)) !== first || versions(file(i)) !== firstVersions) result.divergentFiles++;
    for (let i = 0; i < N; i++) {
      const db = new Database(file(i), { readonly: true });
      if (db.pragma('integrity_check', { simple: true }) !== 'ok') result.integrityFailures++;
      db.close();
    }
    const final = new Map((JSON.parse(first) as [string, string | null, number, string][]).map(([id, writer, n, v]) => [id, { writer, n, v }]));
    for (let i = 0; i < N; i++) {
      for (const [id, expected] of owned[i]) {
        const got = final.get(id);
        const ok = expected === null ? got === undefined : got !== undefined && got.n === expected.n && got.v === expected.v && got.writer === `w${i}`;
        if (!ok) {
          result.lostWrites++;
          if (result.lostWrites <= 5) log(`soak: lost write: ${id} expected ${JSON.stringify(expected)}, found ${JSON.stringify(got ?? null)}`);
        }
      }
    }
    return result;
  } finally {
    for (const i of stopped) procs[i]?.proc.kill('SIGCONT');
    await Promise.all(procs.map((p) => p?.stop('SIGKILL')));
    for (const p of proxies) await p.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
