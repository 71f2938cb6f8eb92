// Issue 16.1, 16.2 and 16.4: each line of README.md's threat model ("What a key holder can and
// cannot do"), played by a hand-driven key holder (raw-peer.ts) against a real peer A in this
// process (so its peer list can be read), with an honest peer B in its own process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { closeReplica, openReplica, tableSnapshot, tempDir, type Replica } from '../crr/test-helpers.ts';
import { packPrimaryKey } from '../crr/index.ts';
import type { Change } from '../crr/types.ts';
import { bytesToHex, hexToBytes } from '../../shared/values.ts';
import { DatabaseSync } from './database-sync.ts';
import { SyncNode } from './node.ts';
import { encodeInvite } from './invite.ts';
import { encodeFrame } from './frames.ts';
import { frames, handshake, openRaw, seenNothing, type RawStream } from './raw-peer.ts';
import { sleep, spawnPeer, until, type PeerProcess } from './test-peers.ts';

const t = tempDir('crr-threats-');
let a: { r: Replica; ds: DatabaseSync; node: SyncNode; lines: string[]; address: string };
let b: PeerProcess;
let bSite: string;
let mallory: SyncNode;
const bPath = join(t.dir, 'b.db');
const bData = join(t.dir, 'data-b');
const siteM = 'cd'.repeat(16);

function bRows(): string[][] {
  const db = new Database(bPath, { readonly: true });
  try {
    return tableSnapshot(db, 't');
  } finally {
    db.close();
  }
}
function writeOnB(sql: string): void {
  const db = new Database(bPath, { timeout: 10_000 });
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}
const aRows = () => tableSnapshot(a.r.db, 't');
const row = (id: number, over: Partial<Change> = {}): Change => ({
  table: 't', pk: packPrimaryKey([BigInt(id)]), cid: 'v', val: `row ${id}`, col_version: 1, db_version: 1, site_id: hexToBytes(siteM), cl: 1, seq: 0, ...over,
});
const peerOnA = (peerId: string) => a.node.peers(a.ds).find((p) => p.peerId === peerId);
const asMallory = (over: { site?: string; name?: string } = {}) =>
  handshake(mallory, a.address, { databaseId: a.ds.databaseId, key: a.ds.key, site: over.site ?? siteM, name: over.name ?? 'Mallory' });
const reply = (raw: RawStream, n: number) => raw.waitFor((m) => (m.t === 'ack' || m.t === 'refused-frame') && m.n === n);
/** B's session on A, and the site B presented */
const bSession = () => [...a.ds.sessions].find((s) => s.info().remoteName === 'B' && s.info().authorised);

beforeAll(async () => {
  const r = openReplica(join(t.dir, 'a.db'), { pollMs: 50 });
  r.db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT); INSERT INTO t VALUES (1, 'one'), (2, 'two')`);
  r.engine.asCrr('t');
  const lines: string[] = [];
  const ds = new DatabaseSync(r.db, r.engine, { name: 'A', log: (l) => lines.push(l) });
  const node = await SyncNode.start({ identityFile: join(t.dir, 'a.key'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false, handshakeMs: 1500, log: (l) => lines.push(l) });
  node.addDatabase(ds);
  a = { r, ds, node, lines, address: node.addresses()[0] };
  mkdirSync(bData, { recursive: true });
  b = spawnPeer(['--db', bPath, '--join', encodeInvite({ databaseId: ds.databaseId, key: ds.key, addresses: node.addresses() }), '--name', 'B'], bData);
  await b.waitFor(/caught up with A/);
  await until(() => !!bSession()?.info().remoteSite, 'B authorised on A');
  bSite = bSession()!.info().remoteSite!;
  mallory = await SyncNode.start({ identityFile: join(t.dir, 'm.key'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
  await mallory.dial(a.address);
}, 60_000);

afterAll(async () => {
  await b?.stop('SIGKILL');
  await mallory?.stop();
  a?.ds.close();
  await a?.node.stop();
  if (a) closeReplica(a.r);
  t.cleanup();
});

/** A and B still sync both ways (the honest peer is unaffected). */
async function honestSyncWorks(id: number): Promise<void> {
  a.r.db.prepare('INSERT INTO t VALUES (?, ?)').run(id, `from A ${id}`);
  writeOnB(`INSERT INTO t VALUES (${id + 1}, 'from B ${id + 1}')`);
  await until(() => bRows().some((r) => r[0] === String(id)), `A's row ${id} reached B`);
  await until(() => aRows().some((r) => r[0] === String(id + 1)), `B's row ${id + 1} reached A`);
}

describe('what a key holder cannot do', () => {
  it('poison the Lamport clock: a version far ahead merges without moving the clock, one beyond 2^48 is refused and shown; sync with B goes on', async () => {
    const m = await asMallory();
    const before = a.r.engine.dbVersion();
    // one valid row, one 2^40 ahead (within the wire's range): both merge, the clock stays
    await m.sendBytes(frames.changes(1, [row(100, { db_version: 1 }), row(101, { db_version: 2 ** 40 })], 2 ** 40));
    expect((await reply(m, 1))?.t).toBe('ack');
    expect(aRows().map((r) => r[0])).toEqual(expect.arrayContaining(['100', '101']));
    expect(a.r.engine.dbVersion()).toBe(before + 1);
    expect(peerOnA(mallory.peerId)?.lastError).toMatch(/far ahead .* not adopted/);
    m.close();
    // a range end near 2^53 (the value) is refused before the engine sees it, and shown
    const m2 = await asMallory();
    await m2.sendBytes(frames.changes(1, [row(103, { db_version: 2 ** 53 - 2 })], 2 ** 53 - 2));
    const r1 = await reply(m2, 1);
    expect(r1?.t).toBe('refused-frame');
    expect(String(r1?.reason)).toMatch(/beyond 2\^48/);
    expect(peerOnA(mallory.peerId)?.refused).toMatch(/beyond 2\^48/);
    // nothing more from that session is applied (it would skip the refused frame)
    await m2.sendBytes(frames.changes(2, [row(102)], 1));
    expect((await reply(m2, 2))?.t).toBe('refused-frame');
    expect(aRows().map((r) => r[0])).not.toContain('102');
    expect(aRows().map((r) => r[0])).not.toContain('103');
    expect(a.r.engine.dbVersion()).toBe(before + 1);
    await honestSyncWorks(200);
    m2.close();
  });

  it('push the clock up step by step or lock fresh joiners out: frames 2^32 - 1 ahead merge, the clock is not adopted, a new peer copies everything', async () => {
    const m = await asMallory();
    for (let k = 0; k < 3; k++) {
      const ahead = a.r.engine.dbVersion() + 2 ** 32 - 1;
      await m.sendBytes(frames.changes(k + 1, [row(700 + k, { db_version: ahead })], ahead));
      expect((await reply(m, k + 1))?.t).toBe('ack');
    }
    expect(aRows().filter((r) => ['700', '701', '702'].includes(r[0])).length).toBe(3);
    // each such step used to move A's clock by 2^32: 65536 of them reach 2^48, after which no peer takes A's writes
    expect(a.r.engine.dbVersion()).toBeLessThan(10_000);
    expect(peerOnA(mallory.peerId)?.lastError).toMatch(/far ahead/);
    m.close();
    // and a peer joining now (its own clock at 0) copies A whole
    const c = spawnPeer(['--db', join(t.dir, 'c.db'), '--join', encodeInvite({ databaseId: a.ds.databaseId, key: a.ds.key, addresses: a.node.addresses() }), '--name', 'C'], join(t.dir, 'data-c'));
    try {
      await c.waitFor(/caught up with A/, 30_000);
      await until(() => {
        const db = new Database(join(t.dir, 'c.db'), { readonly: true });
        try {
          return JSON.stringify(tableSnapshot(db, 't')) === JSON.stringify(aRows());
        } finally {
          db.close();
        }
      }, 'C holds what A holds');
      expect(c.lines.some((l) => /refused/.test(l))).toBe(false);
    } finally {
      await c.stop('SIGKILL');
    }
  });

  it("move another peer's progress: presenting B's site and 'having seen' 2^48 of it changes only its own", async () => {
    const m = await asMallory({ site: bSite, name: 'Mallory' });
    await m.sendBytes(frames.changes(1, [], 2 ** 48));
    expect((await reply(m, 1))?.t).toBe('ack');
    m.close();
    // B's next session resumes from B's own progress: its new rows still reach A
    await b.stop('SIGTERM');
    writeOnB(`INSERT INTO t VALUES (300, 'written while B was down')`);
    b = spawnPeer(['--db', bPath, '--name', 'B'], bData);
    await until(() => aRows().some((r) => r[0] === '300'), "B's row reached A after B's restart");
    await honestSyncWorks(310);
  });

  it("rename another peer in cell history: a site's name belongs to the first peer id that presented it", async () => {
    expect(a.ds.siteName(bSite)).toBe('B');
    const m = await asMallory({ site: bSite, name: 'Mallory' });
    await m.send(seenNothing);
    await sleep(300);
    expect(a.ds.siteName(bSite)).toBe('B');
    expect(a.lines.some((l) => /which .* presented first/.test(l))).toBe(true);
    m.close();
  });

  it("attribute changes or history to the receiver's own site", async () => {
    const m = await asMallory();
    const own = a.r.engine.siteId;
    await m.sendBytes(frames.changes(1, [row(1, { val: 'forged as A', col_version: 9, site_id: own })], 1));
    expect((await reply(m, 1))?.reason).toMatch(/own site/);
    expect(aRows().find((r) => r[0] === '1')).toEqual(['1', "'one'"]);
    // history rides in change rows: a forged earlier version of A's own, with a parent
    const m2 = await asMallory();
    await m2.sendBytes(frames.changes(1, [row(1, { val: 'forged', col_version: 1, site_id: own, parent: { site_id: null, col_version: 0 }, written_at: 1 })], 1));
    expect((await reply(m2, 1))?.reason).toMatch(/own site/);
    m.close();
    m2.close();
  });

  it('send changes outside the range its frame announces', async () => {
    const m = await asMallory();
    await m.sendBytes(frames.changes(1, [row(400, { db_version: 10 })], 5));
    expect((await reply(m, 1))?.reason).toMatch(/past the frame's range end/);
    const m2 = await asMallory();
    await m2.sendBytes(frames.changes(1, [row(401, { db_version: 3 })], 5, 4));
    expect((await reply(m2, 1))?.reason).toMatch(/head/);
    expect(aRows().map((r) => r[0])).not.toContain('400');
    expect(aRows().map((r) => r[0])).not.toContain('401');
    m.close();
    m2.close();
  });

  it("make A skip sending to it: claiming to have seen more than A ever wrote gets it everything again", async () => {
    const m = await asMallory();
    await m.sendBytes(frames.seen(2 ** 50));
    const page = await m.waitFor((x) => x.t === 'changes' && JSON.stringify(x.data).includes('one'));
    expect(page).not.toBeNull();
    m.close();
  });

  it('have A create tables with reserved names from its schema', async () => {
    const m = await handshake(mallory, a.address, {
      databaseId: a.ds.databaseId, key: a.ds.key, site: siteM, schema: [{ name: 'crr_sync_evil', sql: 'CREATE TABLE crr_sync_evil (x)', columns: ['x'] }],
    }).catch((e) => e as Error);
    await until(() => a.lines.some((l) => /refusing to create table "crr_sync_evil"/.test(l)), 'schema refused');
    expect(a.r.db.prepare(`SELECT count(*) FROM sqlite_schema WHERE name = 'crr_sync_evil'`).pluck().get()).toBe(0);
    if (!(m instanceof Error)) m.close();
  });
});

describe('what anyone who can reach the port cannot do (no key)', () => {
  it('hold memory or a stream before authenticating: frames over 8 KB and slow handshakes are cut', async () => {
    const s = await openRaw(mallory, a.address);
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, 64 * 1024 * 1024);
    await s.sendBytes(header);
    await s.sendBytes(new Uint8Array(64 * 1024));
    await until(() => a.lines.some((l) => /unauthenticated stream .*over the 8192-byte limit/.test(l)), 'oversized pre-auth frame refused');
    await until(() => s.closed, 'stream closed');
    // a stream that says nothing is closed at the handshake deadline (1.5 s on this node)
    const quiet = await openRaw(mallory, a.address);
    await until(() => quiet.closed, 'silent stream closed', 10_000);
    expect(a.lines.some((l) => /unauthenticated stream .*no handshake within 1.5 s/.test(l))).toBe(true);
    // a frame just under the limit that is not a hello is refused too
    const junk = await openRaw(mallory, a.address);
    await junk.sendBytes(encodeFrame({ t: 'changes', pad: 'x'.repeat(7000) }));
    await until(() => junk.closed, 'junk stream closed');
    await honestSyncWorks(500);
  });
});

describe('what a key holder can do (the protocol cannot tell)', () => {
  it('forge changes attributed to a third site: they merge and are relayed like honest relays', async () => {
    const m = await asMallory();
    const third = bytesToHex(new Uint8Array(16).fill(0x3c));
    await m.sendBytes(frames.changes(1, [row(600, { site_id: hexToBytes(third), val: 'as a third site', db_version: 1 })], 1));
    expect((await reply(m, 1))?.t).toBe('ack');
    await until(() => bRows().some((r) => r[0] === '600'), 'relayed to B');
    m.close();
  });
});
