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
import { encodeFrame, encodeJsonFrame, FrameError, FrameReader, MAX_FRAME_BYTES } from './frames.ts';
import { cursorFromWire, cursorToWire, decodeChanges, encodeChanges, JSON_FORM, ProtocolError } from './change-codec.ts';
import { decodeInvite, encodeInvite, InviteError } from './invite.ts';
import { newNonce, proof } from './auth.ts';
import { PROTOCOL, PROTOCOL_VERSION } from './session.ts';
import { sleep, until } from './test-peers.ts';
import { frames } from './raw-peer.ts';

/** a value as the peer decodes it off a frame */
const overTheWire = (x: unknown) => new FrameReader().push(encodeFrame(x))[0];
/** one frame of these body bytes */
const framed = (body: number[]) => new Uint8Array([0, 0, 0, body.length, ...body]);

describe('frames, codec and invites', () => {
  it('reassembles CBOR frames split anywhere and refuses oversized frames, CBOR outside what the protocol uses, and JSON after the handshake', () => {
    const message = { a: 1, b: 'é'.repeat(100), bytes: new Uint8Array([0, 255]), big: 2n ** 62n, none: null, list: [1.5, -3] };
    const bytes = new Uint8Array([...encodeFrame({ a: 1 }), ...encodeFrame(message)]);
    const r = new FrameReader();
    const out: unknown[] = [];
    for (let i = 0; i < bytes.length; i += 3) out.push(...r.push(bytes.subarray(i, i + 3)));
    expect(out).toEqual([{ a: 1 }, message]);
    expect(overTheWire({ left: undefined, kept: 1 })).toEqual({ kept: 1 });
    expect(() => new FrameReader(10).push(encodeFrame({ long: 'x'.repeat(20) }))).toThrow(FrameError);
    // the limit is checked on the header, before the body arrives
    expect(() => new FrameReader(10).push(new Uint8Array([0, 0, 0, 11]))).toThrow(/over the 10-byte limit/);
    const refused = {
      'a duplicate map key': [0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02],
      'an integer longer than it needs': [0x18, 0x01],
      'an indefinite-length list': [0x9f, 0x01, 0xff],
      undefined: [0xf7],
      NaN: [0xf9, 0x7e, 0x00],
      'a tag': [0xc1, 0x01],
      'a map key that is not text': [0xa1, 0x01, 0x02],
      'text that is not UTF-8': [0x62, 0xff, 0xfe],
      'a text length longer than it needs': [0x78, 0x01, 0x61],
      'text longer than the frame': [0x63, 0x61],
      'a list claiming more items than the frame holds': [0x9a, 0xff, 0xff, 0xff, 0xff, 0x01],
      'a byte string longer than the frame': [0x5a, 0x00, 0x10, 0x00, 0x00, 0x01],
      'trailing bytes': [0x01, 0x02],
      'an empty body': [],
      'a JSON body': [...new TextEncoder().encode('{"t":"ping"}')],
    };
    for (const [what, body] of Object.entries(refused)) expect(() => new FrameReader().push(framed(body)), what).toThrow(FrameError);
    expect(new FrameReader().push(framed([0x63, 0xef, 0xbf, 0xbd]))).toEqual(['\uFFFD']);
    // before the handshake JSON is read too (the hello and refusals: session.ts), and must be JSON
    expect(new FrameReader(MAX_FRAME_BYTES, true).push(encodeJsonFrame({ t: 'hello', v: 4 }))).toEqual([{ t: 'hello', v: 4 }]);
    expect(() => new FrameReader(MAX_FRAME_BYTES, true).push(framed([0x7b, 0x7b]))).toThrow(/not UTF-8 JSON/);
  });

  it('round-trips changes with exact storage classes (CBOR on the wire, JSON in the file) and refuses malformed rows', () => {
    const site = new Uint8Array(16).fill(7);
    const change = (cid: string, val: unknown, pk = [1, 9, 1]) => ({ table: 't', pk: new Uint8Array(pk), cid, val, col_version: 1, db_version: 3, site_id: site, cl: 1, seq: 0 });
    const changes = [
      change('big', 2n ** 62n),
      change('int', 1n),
      change('real', 1),
      change('min', -(2n ** 63n)),
      change('frac', 1 / 3, [1, 9, 2]),
      change('inf', -Infinity, [1, 9, 2]),
      change('negzero', -0, [1, 9, 2]),
      change('text', '1', [1, 9, 2]),
      change('blob', new Uint8Array([0, 255]), [1, 11, 0]),
      change('none', null, [1, 11, 0]),
    ] as Parameters<typeof encodeChanges>[0];
    const wire = encodeChanges(changes);
    // each key and column once: a row's cells share one key object
    expect(wire.pks).toHaveLength(3);
    expect(wire.cids).toHaveLength(10);
    const back = decodeChanges(overTheWire(wire));
    expect(back).toEqual(changes);
    expect(back.map((c) => typeof c.val)).toEqual(['bigint', 'bigint', 'number', 'bigint', 'number', 'number', 'number', 'string', 'object', 'object']);
    // a REAL -0.0 (an untyped column keeps its sign) is not 0.0
    expect(Object.is(back[6].val, -0)).toBe(true);
    expect(back[0].pk).toBe(back[3].pk);
    const stored = decodeChanges(JSON.parse(JSON.stringify(encodeChanges(changes, JSON_FORM))), JSON_FORM);
    expect(stored).toEqual(changes);
    expect(Object.is(stored[6].val, -0)).toBe(true);
    expect(stored[1].pk).toBe(stored[2].pk);
    const malformed = (rows: unknown[][], over: object = {}) => expect(() => decodeChanges(overTheWire({ ...wire, ...over, rows }))).toThrow(ProtocolError);
    expect(decodeChanges(overTheWire({ ...wire, rows: [[0, 0, 0, null, 1, 1, 0, 1, 0]] }))).toHaveLength(1);
    malformed([[9, 0, 0, null, 1, 1, 0, 1, 0]]);
    malformed([[0, 0, 0, null, -1, 1, 0, 1, 0]]);
    malformed([[0, 0, 0, { x: 1 }, 1, 1, 0, 1, 0]]);
    malformed([[0, 3, 0, null, 1, 1, 0, 1, 0]]);
    malformed([[0, 'AQkB', 0, null, 1, 1, 0, 1, 0]]);
    malformed([[0, 0, 0, 1.5, 1, 1, 0, 1, 0]]);
    malformed([[0, 0, 0, 2n ** 63n, 1, 1, 0, 1, 0]]);
    malformed([[0, 0, 0, [1, 2], 1, 1, 0, 1, 0]]);
    malformed([[0, 0, 0, ['1.5'], 1, 1, 0, 1, 0]]);
    malformed([[0, 0, 0, true, 1, 1, 0, 1, 0]]);
    malformed([[0, 0, 0, null, 2n ** 64n - 1n, 1, 0, 1, 0]]);
    malformed([[0, 0, 'big', null, 1, 1, 0, 1, 0]]);
    malformed([[0, 0, 99, null, 1, 1, 0, 1, 0]]);
    malformed([], { pks: ['AQkB'] });
    malformed([], { cids: [1] });
    malformed([], { sites: ['07'.repeat(16)] });
    malformed([], { sites: [new Uint8Array(15)] });
    expect(() => decodeChanges({ tables: ['t'], sites: ['zz'], rows: [] }, JSON_FORM)).toThrow(ProtocolError);
  });

  it("writes a row's next cells of one transaction as continuation rows, and refuses continuations of nothing", () => {
    const site = new Uint8Array(16).fill(7);
    const other = new Uint8Array(16).fill(8);
    const cell = (pk: number, cid: string, seq: number, more: object = {}) =>
      ({ table: 't', pk: new Uint8Array([1, 9, pk]), cid, val: `${cid}${pk}`, col_version: 1, db_version: 3, site_id: site, cl: 1, seq, ...more }) as Parameters<typeof encodeChanges>[0][number];
    const history = { parent: { site_id: null, col_version: 0 }, written_at: 1_700_000_000_000, resolves: null };
    const changes = [
      // a bare row: three cells in one, then another key
      cell(1, 'a', 0), cell(1, 'b', 1), cell(1, 'c', 2), cell(2, 'a', 3),
      // with history: the same parent and time continue; another parent, time, seq, db_version, cl, site, form do not
      cell(3, 'a', 0, history), cell(3, 'b', 1, history), cell(3, 'c', 2, { ...history, parent: { site_id: site, col_version: 1 }, col_version: 2 }),
      cell(3, 'd', 3, { ...history, parent: { site_id: site, col_version: 1 }, col_version: 2 }),
      cell(3, 'e', 4, { ...history, written_at: 1 }), cell(3, 'f', 6, { ...history, written_at: 1 }), cell(3, 'g', 7, { ...history, written_at: 1, db_version: 4 }),
      cell(3, 'h', 8, { ...history, written_at: 1, db_version: 4, cl: 3 }), cell(3, 'i', 9, { ...history, written_at: 1, db_version: 4, cl: 3, site_id: other }),
      cell(3, 'j', 10, { db_version: 4, cl: 3, site_id: other }),
      // a resolution is never continued, nor continues
      cell(4, 'a', 0, { ...history, resolves: { site_id: other, col_version: 2, versions: 2 } }), cell(4, 'b', 1, history), cell(4, 'c', 2, history),
      // counter contributions continue one another, not a cell version
      cell(5, 'n', 0, { kind: 'counter' }), cell(5, 'm', 1, { kind: 'counter' }), cell(5, 'o', 2),
    ];
    const wire = encodeChanges(changes);
    expect(wire.rows.map((r) => r.length)).toEqual([9, 3, 3, 9, 13, 3, 13, 3, 13, 13, 13, 13, 13, 9, 13, 13, 3, 14, 3, 9]);
    const back = decodeChanges(overTheWire(wire));
    expect(back).toEqual(changes);
    expect(back[2].pk).toBe(back[0].pk);
    // the file keeps full rows (protocol 4's form)
    expect(encodeChanges(changes, JSON_FORM).rows.every((r) => r.length >= 9)).toBe(true);
    const refused = (rows: unknown[], message: RegExp) => expect(() => decodeChanges(overTheWire({ ...wire, rows }))).toThrow(message);
    const row = wire.rows[0];
    refused([[0, 'x', 1]], /row 0 continues no row/);
    refused([wire.rows[14], [0, 'x', 1]], /row 1 continues no row/);
    refused([row, [99, 'x', 1]], /row 1 has a malformed column/);
    refused([row, [0, 'x', -1]], /row 1 has malformed versions/);
    refused([row, [0, { x: 1 }, 1]], /row 1 has a malformed value/);
    refused([row, null], /row 1 is malformed/);
    refused([[0, 0, 0, null, 1, 1, 0, 1, Number.MAX_SAFE_INTEGER], [0, 'x', 1]], /row 1 has malformed versions/);
  });

  it("keeps a cursor's place, and resumes a cursor of the old branch order at the start of its table", () => {
    const cursor = { from: 3, to: 90, table: 't', arm: 2, key: [41n, 'k', new Uint8Array([1])] };
    const wire = cursorToWire(cursor);
    expect(cursorFromWire(JSON.parse(JSON.stringify(wire)))).toEqual(cursor);
    // a peer that reads `arm` and `key` (the old order) sees the start of the table
    expect(wire).not.toHaveProperty('arm');
    expect(wire).not.toHaveProperty('key');
    expect(cursorFromWire({ from: 3, to: 90, table: 't', arm: 2, key: [{ i: '41' }] })).toEqual({ from: 3, to: 90, table: 't' });
    expect(cursorFromWire({ from: 0, to: 5 })).toEqual({ from: 0, to: 5 });
    expect(() => cursorFromWire({ from: 0, to: 5, table: 't', branch: -1 })).toThrow(ProtocolError);
    expect(() => cursorFromWire({ from: 0, to: 5, table: 't', branch: 1, after: 'x' })).toThrow(ProtocolError);
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
      const reader = new FrameReader(MAX_FRAME_BYTES, true);
      const inbox: Record<string, unknown>[] = [];
      const received: Uint8Array[] = [];
      void (async () => {
        try {
          for await (const chunk of stream) {
            const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
            received.push(bytes);
            inbox.push(...(reader.push(bytes) as Record<string, unknown>[]));
          }
        } catch {
          // closed by the peer
        }
      })();
      return { stream, inbox, received };
    }
    async function authorisedStream() {
      const { stream, inbox } = await openStream();
      const facts = { databaseId: a.ds.databaseId, initiatorNonce: newNonce(), initiatorPeer: intruder.peerId, responderPeer: a.node.peerId };
      stream.send(frames.hello(PROTOCOL_VERSION, facts.databaseId, facts.initiatorNonce));
      await until(() => inbox.some((m) => m.t === 'challenge'), 'challenge');
      const challenge = inbox.find((m) => m.t === 'challenge')!;
      const full = { ...facts, responderNonce: challenge.nonce as Uint8Array };
      stream.send(encodeFrame({ t: 'proof', proof: proof(a.ds.key, 'initiator', full) }));
      await until(() => inbox.some((m) => m.t === 'state'), 'state');
      stream.send(encodeFrame({ t: 'state', site: new Uint8Array(16).fill(0xab), name: 'x', schema: [], head: 5 }));
      return stream;
    }

    // a peer of protocol 5 (CBOR frames, but rows without continuations), 4 (JSON frames, as every
    // protocol's hello) or 3 is refused with the reason, in JSON, which it reads
    for (const v of [5, 4, 3]) {
      const old = await openStream();
      old.stream.send(frames.hello(v, a.ds.databaseId, newNonce()));
      await until(() => old.inbox.some((m) => m.t === 'refused'), 'old protocol refused');
      expect(old.inbox.find((m) => m.t === 'refused')).toMatchObject({ reason: 'version', message: `this peer speaks sync protocol 6, the other ${v}: update crr-desk on both` });
      expect(JSON.parse(Buffer.concat(old.received).subarray(4).toString('utf8'))).toMatchObject({ t: 'refused', reason: 'version' });
    }

    // a changes frame whose second row is malformed: the first row must not be applied either
    const s1 = await authorisedStream();
    const good = encodeChanges([{ table: 't', pk: new Uint8Array([1, 9, 2]), cid: 'v', val: 'evil', col_version: 1, db_version: 1, site_id: new Uint8Array(16).fill(0xab), cl: 1, seq: 0 }]);
    s1.send(encodeFrame({ t: 'changes', n: 1, head: 1, to: 1, next: null, data: { ...good, rows: [...good.rows, [0, 0, 0, { bad: 1 }, 1, 1, 0, 1, 0]] } }));
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

  it("a joiner takes the peer's schema as it is now, not a replay of its log (a column added, renamed and dropped there does not wait here)", async () => {
    const t = tempDir('crr-proto-');
    stops.push(t.cleanup);
    const a = await peer(t.dir, 'a', `CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT); INSERT INTO t VALUES (1, 'one')`);
    a.r.db.exec(`ALTER TABLE t ADD COLUMN c TEXT; UPDATE t SET c = 'cee'; ALTER TABLE t RENAME COLUMN v TO title; CREATE INDEX t_title ON t (title)`);
    a.r.db.exec(`CREATE TABLE gone (k INTEGER PRIMARY KEY NOT NULL); SELECT crsql_as_crr('gone');`);
    a.r.db.exec(`ALTER TABLE t DROP COLUMN c; DROP TABLE gone;`);
    a.r.engine.noticeChanges();
    const b = await peer(t.dir, 'b', '', { databaseId: a.ds.databaseId, key: a.ds.key });
    await b.node.dial(a.node.addresses()[0]);
    await until(() => b.r.engine.schemaLog.list().length === a.r.engine.schemaLog.list().length && tableSnapshot(b.r.db, 't').length === 1, 'b joined with a\'s log');
    expect(tableSnapshot(b.r.db, 't')).toEqual([['1', "'one'"]]);
    expect(b.r.db.prepare(`SELECT name FROM pragma_table_info('t')`).pluck().all()).toEqual(['id', 'title']);
    expect(b.r.engine.schemaLog.waiting()).toEqual([]);
    expect(b.r.engine.schemaLog.summary()).toEqual(a.r.engine.schemaLog.summary());
    expect(b.r.engine.crrTables()).toEqual(['t']);
    // and the schema moves on from there as usual
    a.r.db.exec(`ALTER TABLE t ADD COLUMN later INTEGER DEFAULT 1`);
    await until(() => (b.r.db.prepare(`SELECT count(*) FROM pragma_table_info('t') WHERE name = 'later'`).pluck().get() as number) === 1, 'b got the next column');
    expect(b.ds.status().heldChanges).toBe(0);
  });

  it('a table dropped on A waits on B, which goes on writing it: A holds none of it; C joining from B waits on the drop too', async () => {
    const t = tempDir('crr-proto-');
    stops.push(t.cleanup);
    const a = await peer(t.dir, 'a', `CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT); CREATE TABLE u (k INTEGER PRIMARY KEY NOT NULL, w TEXT);
      INSERT INTO t VALUES (1, 'one'); INSERT INTO u VALUES (1, 'uu'); SELECT crsql_as_crr('u');`);
    const b = await peer(t.dir, 'b', '', { databaseId: a.ds.databaseId, key: a.ds.key });
    await b.node.dial(a.node.addresses()[0]);
    await until(() => b.r.engine.crrTables().length === 2 && tableSnapshot(b.r.db, 'u').length === 1, 'b joined');
    a.r.db.exec(`DROP TABLE u`);
    await until(() => b.r.engine.schemaLog.waiting().length === 1, 'the drop waits on b');
    expect(b.r.engine.schemaLog.waiting()[0]).toMatchObject({ kind: 'drop-table', table: 'u', state: 'confirm' });
    b.r.db.exec(`INSERT INTO u VALUES (2, 'written on b'); UPDATE t SET v = 'b goes on' WHERE id = 1;`);
    await until(() => tableSnapshot(a.r.db, 't')[0][1] === "'b goes on'", 'b\'s other change reached a');
    expect(a.ds.status().heldChanges).toBe(0);
    expect(a.r.db.prepare(`SELECT 1 FROM sqlite_schema WHERE name = 'u'`).get()).toBeUndefined();

    // C joins from B only: it gets u as B has it, and the drop waits on C too (B has not applied it)
    const c = await peer(t.dir, 'c', '', { databaseId: a.ds.databaseId, key: a.ds.key });
    a.ds.close();
    await a.node.stop();
    await c.node.dial(b.node.addresses()[0]);
    await until(() => c.r.engine.crrTables().length === 2 && tableSnapshot(c.r.db, 'u').length === 2, 'c joined from b');
    await until(() => c.r.engine.schemaLog.list().length === b.r.engine.schemaLog.list().length, 'c has b\'s log');
    expect(c.r.engine.schemaLog.waiting().map((e) => [e.kind, e.table, e.state])).toEqual([['drop-table', 'u', 'confirm']]);
    const [drop] = b.r.engine.schemaLog.waiting();
    b.r.engine.schemaLog.confirm(drop.site_id, drop.clock);
    expect(b.r.engine.crrTables()).toEqual(['t']);
    await until(() => c.node.peers(c.ds).find((p) => p.name === 'b')?.schemaWaiting === 0, 'c sees b applied it');
    expect(c.node.peers(c.ds).find((p) => p.name === 'b')?.schemaSame).toBe(false);
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
