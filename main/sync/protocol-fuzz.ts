// The sync protocol under mutated frames (issue 16.9). A real headless peer (the victim, its own
// process) shares a database; fuzzers holding its key (real libp2p nodes in this process) complete
// a valid handshake, then send frames built by the codecs (raw-peer.ts `frames`) and mutated: a
// made-up change with extreme fields behind a valid one, the encoded changes altered at a random
// place, the frame's bytes flipped, cut or lengthened, history (in change rows) and other messages made up, random
// bytes. After each frame: the victim must be alive, and the frame's valid row must be in the
// victim's file exactly when the victim acknowledged the frame (never half a frame). At the end an
// honest peer joins and must get an identical copy, and the victim's file must pass integrity_check.
import '../polyfills.ts';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCrr, packPrimaryKey } from '../crr/index.ts';
import type { Change } from '../crr/types.ts';
import type { SqlValue } from '../../shared/values.ts';
import { bytesToHex } from '../../shared/values.ts';
import { decodeChanges } from './change-codec.ts';
import { FrameReader } from './frames.ts';
import { decodeInvite } from './invite.ts';
import { SyncNode } from './node.ts';
import { frames, handshake, type Message, type RawStream } from './raw-peer.ts';
import { spawnPeer, type PeerProcess } from './test-peers.ts';

export interface FuzzResult {
  frames: number;
  acked: number;
  refused: number;
  closed: number;
  /** frames after which the victim answered nothing within 5 s (the fuzzer hung up) */
  unanswered: number;
  handshakes: number;
  crashes: number;
  partial: number;
  integrityFailures: number;
  honestPeerServed: boolean;
  seconds: number;
}

/** A small seeded PRNG (mulberry32): a run is reproducible from its seed. */
export function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  const chance = (p: number) => next() < p;
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(0, 255));
  return { next, int, pick, chance, bytes };
}
export type Rng = ReturnType<typeof random>;

const NUMBERS = [0, 1, 2, -1, 1.5, -0, 2 ** 31, 2 ** 32, 2 ** 32 + 5, 2 ** 40, 2 ** 48, 2 ** 48 + 1, 2 ** 53 - 1, 2 ** 53, 1e300, Number.MIN_VALUE];
export const TABLES = ['t', 't', 't', 'u', 'nope', '', 'crr_sync_share', 'sqlite_master', 't"; DROP TABLE t; --', 'T'];
export const COLUMNS = ['v', 'v', 'n', 'b', '-1', 'id', 'a', 'nope', '', 'x'.repeat(300)];

export function value(r: Rng): SqlValue {
  switch (r.int(0, 6)) {
    case 0:
      return null;
    case 1:
      return BigInt(r.pick([0, 1, -1, 2 ** 53, -(2 ** 53)])) * BigInt(r.int(1, 3)) + (r.chance(0.3) ? 2n ** 63n - 1n : 0n);
    case 2:
      return r.pick([...NUMBERS, Infinity, -Infinity, Math.PI]);
    case 3:
      return String.fromCharCode(...Array.from({ length: r.int(0, 40) }, () => r.int(0, 0xffff)));
    case 4:
      return r.chance(0.05) ? 'z'.repeat(r.int(1, 200_000)) : `text ${r.int(0, 1e6)}`;
    case 5:
      return r.bytes(r.int(0, 64));
    default:
      return BigInt(r.int(-1000, 1000));
  }
}

export function pk(r: Rng): Uint8Array {
  if (r.chance(0.15)) return r.bytes(r.int(0, 12));
  const width = r.pick([1, 1, 1, 2, 0, 3]);
  try {
    return packPrimaryKey(Array.from({ length: width }, () => (r.chance(0.6) ? BigInt(r.int(-5, 50)) : value(r))));
  } catch {
    return packPrimaryKey([1n]);
  }
}

/** Mostly versions the codec lets through (so the engine's bounds are what decides), some not. */
export function version(r: Rng): number {
  if (r.chance(0.5)) return r.int(0, 20);
  if (r.chance(0.6)) return r.pick([2 ** 31, 2 ** 32, 2 ** 32 + 5, 2 ** 40, 2 ** 48, 2 ** 48 + 1, 2 ** 53 - 1, 2 ** 53 - 2]);
  return r.pick(NUMBERS);
}

function madeUpChange(r: Rng, sites: Uint8Array[]): Change {
  return {
    table: r.pick(TABLES),
    pk: pk(r),
    cid: r.pick(COLUMNS),
    val: value(r),
    col_version: version(r),
    db_version: version(r),
    site_id: r.chance(0.1) ? r.bytes(r.pick([0, 3, 15, 17])) : r.pick(sites),
    cl: version(r),
    seq: version(r),
  };
}

/** A change with made-up history (parent, time, resolution): what a change row may carry besides cr-sqlite's fields. */
function madeUpHistory(r: Rng, sites: Uint8Array[]): Change {
  const ref = () => (r.chance(0.5) ? null : { site_id: r.chance(0.2) ? null : r.pick(sites), col_version: version(r) });
  return {
    ...madeUpChange(r, sites),
    parent: ref(), written_at: r.chance(0.5) ? null : r.pick(NUMBERS), resolves: r.chance(0.8) ? null : { ...ref()!, site_id: r.pick(sites), versions: r.int(0, 4) },
  };
}

/** Any value a frame may hold (CBOR: byte strings and big integers too). */
function json(r: Rng, depth = 0): unknown {
  switch (r.int(0, depth > 2 ? 5 : 8)) {
    case 0:
      return null;
    case 1:
      return r.pick(NUMBERS);
    case 2:
      return r.pick(['', 'x', 't', '-1', 'AQkD', 'ab'.repeat(16), 'Infinity']);
    case 3:
      return r.chance(0.5);
    case 4:
      return r.bytes(r.pick([0, 1, 3, 15, 16, 17, 32]));
    case 5:
      return r.pick([2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, -(2n ** 63n) - 1n]);
    case 6:
      return Array.from({ length: r.int(0, 4) }, () => json(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: r.int(0, 3) }, () => [r.pick(['i', 'r', 'b', 'tables', 'rows', 'sites', 'pks', 'x']), json(r, depth + 1)]));
  }
}

/** Replaces one leaf (or element) of any encoded value at random: shape-blind, so any encoding works. */
function mutateLeaf(r: Rng, encoded: unknown): unknown {
  if (encoded instanceof Uint8Array) {
    const copy = encoded.slice();
    if (copy.length) copy[r.int(0, copy.length - 1)] ^= 1 << r.int(0, 7);
    return copy;
  }
  if (Array.isArray(encoded)) {
    if (!encoded.length || r.chance(0.15)) return r.chance(0.5) ? json(r) : [...encoded, json(r)];
    const copy = encoded.slice();
    const i = r.int(0, copy.length - 1);
    copy[i] = mutateLeaf(r, copy[i]);
    return copy;
  }
  if (encoded && typeof encoded === 'object') {
    const keys = Object.keys(encoded);
    if (!keys.length || r.chance(0.15)) return json(r);
    const k = r.pick(keys);
    return { ...(encoded as Record<string, unknown>), [k]: mutateLeaf(r, (encoded as Record<string, unknown>)[k]) };
  }
  return json(r);
}

/**
 * Flips, cuts or re-sizes a frame's bytes. A frame whose header no longer matches its body takes
 * bytes of the next frame as its own (or leaves them over): the stream breaks there.
 */
function mutateBytes(r: Rng, frame: Uint8Array): { bytes: Uint8Array; resized: boolean } {
  const bytes = frame.slice();
  switch (r.int(0, 3)) {
    case 0:
    case 1:
      for (let k = r.int(1, 4); k > 0; k--) bytes[r.int(4, bytes.length - 1)] ^= 1 << r.int(0, 7);
      return { bytes, resized: false };
    case 2:
      return { bytes: bytes.subarray(0, r.int(4, bytes.length - 1)), resized: true };
    default: {
      const view = new DataView(bytes.buffer);
      view.setUint32(0, Math.max(0, view.getUint32(0) + r.pick([-3, -1, 1, 7, 40])));
      return { bytes, resized: true };
    }
  }
}

/** Zeros: once framing is lost they read as an empty frame, which ends the stream at once. */
const FILLER = new Uint8Array(4096);

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The changes the victim would decode from these bytes, or null if it would not get a changes frame. */
function decodedChanges(bytes: Uint8Array): Change[] | null {
  try {
    const m = new FrameReader().push(bytes)[0] as Message | undefined;
    return m && m.t === 'changes' ? decodeChanges(m.data) : null;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runSyncFuzz(options: { frames: number; seed?: number; workers?: number; log?: (line: string) => void }): Promise<FuzzResult> {
  const seed = options.seed ?? 1;
  const workers = options.workers ?? 3;
  const log = options.log ?? (() => {});
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'crr-fuzz-'));
  const victimPath = join(dir, 'victim.db');
  {
    const db = new Database(victimPath);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT, n INTEGER, b BLOB);
      CREATE TABLE u (a INTEGER NOT NULL, b TEXT NOT NULL, v TEXT, PRIMARY KEY (a, b));
      INSERT INTO t VALUES (1, 'one', 1, x'01'), (2, 'two', 2, NULL); INSERT INTO u VALUES (1, 'x', 'ux');`);
    const e = installCrr(db, { pollMs: 0 });
    e.asCrr('t');
    e.asCrr('u');
    e.close();
    db.close();
  }
  // keys of t that frames wrote besides their own valid row (a mutated key can be another frame's
  // valid key, a bit away): such a valid row may lose to what was written there before
  const touched = new Set<string>();
  const result: FuzzResult = { frames: 0, acked: 0, refused: 0, closed: 0, unanswered: 0, handshakes: 0, crashes: 0, partial: 0, integrityFailures: 0, honestPeerServed: false, seconds: 0 };
  const data = (n: string) => {
    const d = join(dir, `data-${n}`);
    mkdirSync(d, { recursive: true });
    return d;
  };
  const victim: PeerProcess = spawnPeer(['--db', victimPath, '--share', '--name', 'victim'], data('victim'));
  let honest: PeerProcess | null = null;
  const nodes: SyncNode[] = [];
  const reader = new Database(victimPath, { readonly: true, timeout: 10_000 });
  try {
    const invite = decodeInvite((await victim.waitFor(/^invite: (\S+)/, 30_000))[1]);
    const address = invite.addresses.find((a) => a.startsWith('/ip4/127.0.0.1/'))!;
    const rowPresent = reader.prepare('SELECT v FROM t WHERE id = ?').pluck();
    const alive = () => victim.proc.exitCode === null && victim.proc.signalCode === null;

    const work = async (w: number) => {
      const r = random(seed * 1000 + w);
      const node = await SyncNode.start({ identityFile: join(data(`fuzz${w}`), 'key'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
      nodes.push(node);
      const own = Uint8Array.from({ length: 16 }, (_, i) => (i === 0 ? 0xf0 + w : i));
      const sites: Uint8Array[] = [own, own, new Uint8Array(16), r.bytes(16)];
      let raw: RawStream | null = null;
      let n = 0;
      const count = Math.ceil(options.frames / workers);
      for (let i = 0; i < count && alive(); i++) {
        if (!raw || raw.closed) {
          raw?.close();
          raw = await handshake(node, address, { databaseId: invite.databaseId, key: invite.key, site: bytesToHex(own), name: `fuzz${w}` });
          result.handshakes++;
          n = 0;
          // the victim's own site, from its state message: changes claiming it must be refused
          const site = raw.inbox.find((m) => m.t === 'state')?.site;
          if (site instanceof Uint8Array && sites.length === 4) sites.push(site);
        }
        const id = 1_000_000 + w * 10_000_000 + i;
        const valid: Change = { table: 't', pk: packPrimaryKey([BigInt(id)]), cid: 'v', val: `valid ${id}`, col_version: 1, db_version: i + 1, site_id: own, cl: 1, seq: 0 };
        const kind = r.next();
        let bytes: Uint8Array;
        let checksValid = false;
        if (kind < 0.75) {
          const other = madeUpChange(r, sites);
          const to = Number.isSafeInteger(other.db_version) && other.db_version <= 2 ** 48 && r.chance(0.8) ? Math.max(other.db_version, valid.db_version) : valid.db_version;
          try {
            bytes = frames.changes(++n, [valid, other], to, r.chance(0.9) ? to : version(r), null, (d) => (r.chance(0.2) ? mutateLeaf(r, d) : d));
          } catch {
            // not even encodable (a value the codec cannot write): the valid row alone, maybe mutated below
            bytes = frames.changes(n, [valid], valid.db_version);
          }
          checksValid = true;
        } else if (kind < 0.85) {
          const entries = Array.from({ length: r.int(1, 3) }, () => madeUpHistory(r, sites));
          const to = Math.max(valid.db_version, ...entries.map((e) => (Number.isSafeInteger(e.db_version) && e.db_version <= 2 ** 48 ? e.db_version : 0)));
          try {
            bytes = frames.changes(++n, [valid, ...entries], to, to, null, (d) => (r.chance(0.3) ? mutateLeaf(r, d) : d));
          } catch {
            bytes = frames.changes(n, [valid], valid.db_version);
          }
          checksValid = true;
        } else if (kind < 0.95) {
          const m = { t: r.pick(['changes', 'history', 'policies', 'ack', 'seen', 'state', 'ping', 'refused', 'refused-frame', 'hello', 'schema', 'x']), n: r.chance(0.5) ? ++n : json(r) };
          for (const k of ['data', 'to', 'head', 'next', 'version', 'cursor', 'history', 'site', 'schema', 'table', 'last', 'reason', 'entries', 'sv', 'vv', 'tables']) if (r.chance(0.3)) Object.assign(m, { [k]: json(r) });
          bytes = frames.message(m);
        } else {
          bytes = new Uint8Array([0, 0, 0, r.int(0, 64), ...r.bytes(r.int(0, 64))]);
        }
        let resized = kind >= 0.95;
        if (kind < 0.95 && r.chance(0.15)) ({ bytes, resized } = mutateBytes(r, bytes));
        // a valid empty frame after it: its answer (or the stream closing) says the victim is done with ours
        const probe = ++n + 1_000_000;
        const from = raw.inbox.length;
        const decoded = checksValid ? decodedChanges(bytes) : null;
        const touchedBefore = touched.has(bytesToHex(valid.pk));
        for (const c of decoded ?? []) if (c.table === 't' && !(c === decoded![0] && sameBytes(c.pk, valid.pk))) touched.add(bytesToHex(c.pk));
        await raw.sendBytes(bytes);
        await raw.sendBytes(frames.changes(probe, [], 0));
        if (resized) await raw.sendBytes(FILLER);
        result.frames++;
        const settled = await raw.waitFor((m) => (m.t === 'ack' || m.t === 'refused-frame') && m.n === probe, 2000, from).catch(() => undefined);
        if (settled === undefined) {
          result.unanswered++;
          raw.close();
        }
        const reply = raw.inbox.slice(from).find((m) => (m.t === 'ack' || m.t === 'refused-frame') && m.n !== probe);
        if (reply?.t === 'ack') result.acked++;
        else if (reply?.t === 'refused-frame') result.refused++;
        else if (settled === null) result.closed++;
        if (!alive()) break;
        if (checksValid && settled !== undefined) {
          const intact = decoded?.some((c) => c.table === 't' && sameBytes(c.pk, valid.pk) && c.cid === 'v' && c.val === valid.val && c.col_version === 1 && sameBytes(c.site_id, own)) ?? false;
          const touchedByOther = touchedBefore || (decoded?.filter((c) => c.table === 't' && sameBytes(c.pk, valid.pk)).length ?? 0) > 1;
          const present = rowPresent.get(id) === valid.val;
          if (reply?.t === 'ack' && intact && !touchedByOther && !present) {
            result.partial++;
            log(`partial: frame ${result.frames} acknowledged but its valid row ${id} is missing`);
          }
          if (reply?.t !== 'ack' && present) {
            result.partial++;
            log(`partial: frame ${result.frames} not acknowledged (${reply?.t ?? (settled === null ? 'stream closed' : 'no answer')}) but its valid row ${id} was applied`);
          }
        }
        if (reply?.t === 'refused-frame' || settled?.t === 'refused-frame') raw.close();
        if (result.frames % 500 === 0) log(`fuzz: ${result.frames} frames, ${result.acked} acked, ${result.refused} refused, ${result.closed} closed the stream`);
      }
      raw?.close();
    };
    await Promise.all(Array.from({ length: workers }, (_, w) => work(w)));
    if (!alive()) {
      result.crashes++;
      log(`the victim exited: ${victim.lines.slice(-20).join('\n')}`);
      return result;
    }

    // an honest peer joins afterwards: it must get everything, and the victim must take its writes
    const honestPath = join(dir, 'honest.db');
    honest = spawnPeer(['--db', honestPath, '--join', (await victim.waitFor(/^invite: (\S+)/))[1], '--name', 'honest'], data('honest'));
    await honest.waitFor(/caught up with victim/, 60_000);
    {
      const db = new Database(honestPath, { timeout: 10_000 });
      db.exec(`INSERT INTO t (id, v) VALUES (99, 'from the honest peer')`);
      db.close();
    }
    const snapshot = (path: string) => {
      const db = new Database(path, { readonly: true, timeout: 10_000 });
      try {
        return JSON.stringify(['t', 'u'].map((t) => db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).raw().all()), (_, v) => (typeof v === 'bigint' ? v.toString() : v));
      } finally {
        db.close();
      }
    };
    const until = Date.now() + 60_000;
    while (Date.now() < until && !(snapshot(victimPath).includes('from the honest peer') && snapshot(victimPath) === snapshot(honestPath))) await sleep(200);
    result.honestPeerServed = snapshot(victimPath) === snapshot(honestPath) && snapshot(victimPath).includes('from the honest peer') && alive();
    if (!result.honestPeerServed) {
      const v = snapshot(victimPath);
      const h = snapshot(honestPath);
      log(`the honest peer was not served: victim ${v.length} chars, honest ${h.length} chars, the honest row ${v.includes('from the honest peer') ? 'reached' : 'did not reach'} the victim`);
      const [vt, ht] = [JSON.parse(v), JSON.parse(h)] as unknown[][][];
      for (let t = 0; t < 2; t++) {
        const hs = new Set(ht[t].map((x) => JSON.stringify(x)));
        const vs = new Set(vt[t].map((x) => JSON.stringify(x)));
        log(`table ${t ? 'u' : 't'}: only on the victim ${[...vs].filter((x) => !hs.has(x)).slice(0, 5).join(' ')}; only on the honest peer ${[...hs].filter((x) => !vs.has(x)).slice(0, 5).join(' ')}`);
      }
      log(`victim: ${victim.lines.filter((l) => /honest|refused|error/i.test(l)).slice(-10).join('\n')}`);
      log(`honest: ${honest.lines.filter((l) => /refused|error|held|cannot/i.test(l)).slice(-10).join('\n')}`);
    }
    if (reader.pragma('integrity_check', { simple: true }) !== 'ok') result.integrityFailures++;
    if (!alive()) result.crashes++;
    return result;
  } finally {
    result.seconds = Math.round((Date.now() - started) / 100) / 10;
    reader.close();
    for (const node of nodes) await node.stop().catch(() => {});
    await honest?.stop('SIGKILL');
    await victim.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
