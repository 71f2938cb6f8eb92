// The sync protocol's edges, with real libp2p nodes in this process on 127.0.0.1: frames, the
// change codec, invites, malformed and oversized frames, key rotation, and peers on different
// schemas (changes held until the schema catches up).
import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { closeReplica, openReplica, tableSnapshot, tempDir, type Replica } from '../crr/test-helpers.ts';
import { DatabaseSync } from './database-sync.ts';
import { SyncStore } from './sync-store.ts';
import { SyncNode } from './node.ts';
import { encodeFrame, FrameError, FrameReader } from './frames.ts';
import { decodeChanges, encodeChanges, ProtocolError } from './change-codec.ts';
import { decodeInvite, encodeInvite, InviteError } from './invite.ts';
import { newNonce, proof } from './auth.ts';
import { PROTOCOL, PROTOCOL_VERSION } from './session.ts';
import { sleep, until } from './test-peers.ts';

describe('frames, codec and invites', () => {
  it('reassembles frames split anywhere and refuses oversized or non-JSON frames', () => {
    const bytes = new Uint8Array([...encodeFrame({ a: 1 }), ...encodeFrame({ b: 'é'.repeat(100) })]);
    const r = new FrameReader();
    const out: unknown[] = [];
    for (let i = 0; i < bytes.length; i += 3) out.push(...r.push(bytes.subarray(i, i + 3)));
    expect(out).toEqual([{ a: 1 }, { b: 'é'.repeat(100) }]);
    expect(() => new FrameReader(10).push(encodeFrame({ long: 'x'.repeat(20) }))).toThrow(FrameError);
    const bad = new Uint8Array([0, 0, 0, 2, 0x7b, 0x7b]);
    expect(() => new FrameReader().push(bad)).toThrow(/not UTF-8 JSON/);
  });

  it('round-trips changes with exact storage classes and refuses malformed rows', () => {
    const site = new Uint8Array(16).fill(7);
    const changes = [
      { table: 't', pk: new Uint8Array([1, 9, 1]), cid: 'v', val: 2n ** 62n, col_version: 1, db_version: 3, site_id: site, cl: 1, seq: 0 },
      { table: 't', pk: new Uint8Array([1, 9, 2]), cid: 'r', val: 1, col_version: 2, db_version: 3, site_id: site, cl: 1, seq: 1 },
      { table: 'u', pk: new Uint8Array([1, 11, 0]), cid: 'b', val: new Uint8Array([0, 255]), col_version: 1, db_version: 4, site_id: site, cl: 3, seq: 0 },
    ];
    const back = decodeChanges(JSON.parse(JSON.stringify(encodeChanges(changes))));
    expect(back).toEqual(changes);
    expect(typeof back[1].val).toBe('number');
    const wire = encodeChanges(changes);
    expect(() => decodeChanges({ ...wire, rows: [[9, '', 'v', null, 1, 1, 0, 1, 0]] })).toThrow(ProtocolError);
    expect(() => decodeChanges({ ...wire, rows: [[0, '', 'v', null, -1, 1, 0, 1, 0]] })).toThrow(ProtocolError);
    expect(() => decodeChanges({ ...wire, rows: [[0, '', 'v', { x: 1 }, 1, 1, 0, 1, 0]] })).toThrow(ProtocolError);
    expect(() => decodeChanges({ tables: ['t'], sites: ['zz'], rows: [] })).toThrow(ProtocolError);
  });

  it('encodes invites and explains a damaged one', () => {
    const invite = { databaseId: 'ab'.repeat(16), key: new Uint8Array(32).fill(3), addresses: ['/ip4/127.0.0.1/tcp/1/p2p/x'] };
    expect(decodeInvite(` ${encodeInvite(invite)}\n`)).toEqual(invite);
    expect(() => decodeInvite('hello')).toThrow(InviteError);
    expect(() => decodeInvite('crrdesk1.AAAA')).toThrow(/damaged/);
  });
});

describe('sync protocol between nodes', () => {
  const stops: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });

  async function peer(dir: string, name: string, setup: string, share?: { databaseId: string; key: Uint8Array }) {
    const r: Replica = openReplica(join(dir, `${name}.db`), { pollMs: 50 });
    if (setup) r.db.exec(setup);
    for (const t of r.db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name = 't'`).pluck().all() as string[]) r.engine.asCrr(t);
    const lines: string[] = [];
    const ds = new DatabaseSync(r.db, r.engine, { name, log: (l) => lines.push(l), share });
    const node = await SyncNode.start({ identityFile: join(dir, `${name}.key`), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
    node.addDatabase(ds);
    stops.push(() => closeReplica(r), () => ds.close(), () => node.stop());
    return { r, ds, node, lines };
  }

  it('closes the stream on a malformed or oversized frame and applies nothing from it', async () => {
    const t = tempDir('crr-proto-');
    stops.push(t.cleanup);
    const a = await peer(t.dir, 'a', `CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT); INSERT INTO t VALUES (1, 'one')`);
    const before = tableSnapshot(a.r.db, 't');
    const intruder = await SyncNode.start({ identityFile: join(t.dir, 'x.key'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false });
    stops.push(() => intruder.stop());

    // A opens its own session on the connection first (refused: the intruder has no databases);
    // a hello racing it would be refused as a duplicate
    await intruder.dial(a.node.addresses()[0]);
    await sleep(1500);
    async function openStream() {
      const stream = await intruder.libp2p.dialProtocol(multiaddr(a.node.addresses()[0]), PROTOCOL);
      const reader = new FrameReader();
      const inbox: Record<string, unknown>[] = [];
      void (async () => {
        try {
          for await (const chunk of stream) inbox.push(...(reader.push(chunk instanceof Uint8Array ? chunk : chunk.subarray()) as Record<string, unknown>[]));
        } catch {
          // closed by the peer
        }
      })();
      return { stream, inbox };
    }
    async function authorisedStream() {
      const { stream, inbox } = await openStream();
      const facts = { databaseId: a.ds.databaseId, initiatorNonce: newNonce(), initiatorPeer: intruder.peerId, responderPeer: a.node.peerId };
      stream.send(encodeFrame({ t: 'hello', v: PROTOCOL_VERSION, db: facts.databaseId, nonce: Buffer.from(facts.initiatorNonce).toString('base64') }));
      await until(() => inbox.some((m) => m.t === 'challenge'), 'challenge');
      const challenge = inbox.find((m) => m.t === 'challenge')!;
      const full = { ...facts, responderNonce: new Uint8Array(Buffer.from(challenge.nonce as string, 'base64')) };
      stream.send(encodeFrame({ t: 'proof', proof: Buffer.from(proof(a.ds.key, 'initiator', full)).toString('base64') }));
      await until(() => inbox.some((m) => m.t === 'state'), 'state');
      stream.send(encodeFrame({ t: 'state', site: 'ab'.repeat(16), name: 'x', schema: [], head: 5 }));
      return stream;
    }

    // a peer of protocol 2 (no counter contributions or text states) is refused with the reason
    const old = await openStream();
    old.stream.send(encodeFrame({ t: 'hello', v: 2, db: a.ds.databaseId, nonce: Buffer.from(newNonce()).toString('base64') }));
    await until(() => old.inbox.some((m) => m.t === 'refused'), 'old protocol refused');
    expect(old.inbox.find((m) => m.t === 'refused')).toMatchObject({ reason: 'version', message: expect.stringMatching(/protocol 3, the other 2/) });

    // a changes frame whose second row is malformed: the first row must not be applied either
    const s1 = await authorisedStream();
    const good = encodeChanges([{ table: 't', pk: new Uint8Array([1, 9, 2]), cid: 'v', val: 'evil', col_version: 1, db_version: 1, site_id: new Uint8Array(16).fill(0xab), cl: 1, seq: 0 }]);
    s1.send(encodeFrame({ t: 'changes', n: 1, head: 1, to: 1, next: null, data: { ...good, rows: [...good.rows, [0, 'AQkD', 'v', { bad: 1 }, 1, 1, 0, 1, 0]] } }));
    await until(() => a.lines.some((l) => /sync error .*row 1 has a malformed value/.test(l)), 'malformed frame logged');
    await until(() => s1.status !== 'open', 'stream closed');
    expect(tableSnapshot(a.r.db, 't')).toEqual(before);

    // a frame announcing more than the limit
    const s2 = await authorisedStream();
    s2.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x7b]));
    await until(() => a.lines.some((l) => /over the .*-byte limit/.test(l)), 'oversized frame logged');
    await until(() => s2.status !== 'open', 'stream closed');
    expect(tableSnapshot(a.r.db, 't')).toEqual(before);
  });

  it('holds changes for a column this replica lacks and merges them once its schema catches up; rotating the key revokes the old one', async () => {
    const t = tempDir('crr-proto-');
    stops.push(t.cleanup);
    const a = await peer(t.dir, 'a', `CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT, extra TEXT)`);
    const b = await peer(t.dir, 'b', `CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT)`, { databaseId: a.ds.databaseId, key: a.ds.key });
    await b.node.dial(a.node.addresses()[0]);
    a.r.db.exec(`INSERT INTO t VALUES (1, 'one', 'only in a')`);
    await until(() => tableSnapshot(b.r.db, 't').length === 1, 'row reached b');
    expect(tableSnapshot(b.r.db, 't')).toEqual([['1', "'one'"]]);
    expect(b.ds.status().heldChanges).toBe(1);
    expect(b.node.peers(b.ds).find((p) => p.peerId === a.node.peerId)?.schemaMismatch).toMatch(/this copy lacks column extra/);
    // b knows a's site by the name a gave, and keeps it in the file (history names writers after a restart)
    const siteA = Buffer.from(a.r.engine.siteId).toString('hex');
    expect(b.ds.siteName(siteA)).toBe('a');
    expect(new SyncStore(b.r.db).siteName(siteA.toUpperCase())).toBe('a');

    // a later version of the column is held too, with its history (its parent)
    a.r.db.exec(`UPDATE t SET extra = 'changed in a' WHERE id = 1`);
    await until(() => b.ds.status().heldChanges === 2, 'the next version held');

    b.r.engine.noticeChanges();
    b.r.db.exec(`SELECT crsql_begin_alter('t'); ALTER TABLE t ADD COLUMN extra TEXT; SELECT crsql_commit_alter('t');`);
    await until(() => b.ds.status().heldChanges === 0, 'held change merged');
    expect(tableSnapshot(b.r.db, 't')).toEqual([['1', "'one'", "'changed in a'"]]);
    expect(b.ds.status().heldChanges).toBe(0);
    // b now knows both versions of the cell and how they follow each other, like a does
    const versions = (r: Replica) => r.engine.history.cell('t', [1], 'extra').map((v) => [v.col_version, v.val, v.parent?.col_version ?? null]);
    expect(versions(b.r)).toEqual([[2, 'changed in a', 1], [1, 'only in a', 0]]);
    expect(versions(b.r)).toEqual(versions(a.r));

    // rotation: b holds only the old key now, so nothing more flows either way
    a.ds.rotateKey();
    await until(() => [...a.ds.sessions].every((s) => !s.info().authorised), 'sessions closed');
    a.r.db.exec(`INSERT INTO t VALUES (2, 'after rotation', NULL)`);
    b.r.db.exec(`INSERT INTO t VALUES (3, 'from b', NULL)`);
    await sleep(4000);
    expect(tableSnapshot(b.r.db, 't').map((r) => r[0])).toEqual(['1', '3']);
    expect(tableSnapshot(a.r.db, 't').map((r) => r[0])).toEqual(['1', '2']);
    expect([...a.lines, ...b.lines].some((l) => /does not hold the key/.test(l))).toBe(true);
  }, 30_000);
});
