// Changes on the wire: a chunk names each table, origin site, primary key and column once, then
// one compact row per change. A cell version carries its history too (the sync stream:
// change-pages.ts): its parent, its writer's time and, for a Keep, the fork it resolves. A counter
// contribution or a text state (Change.kind, main/crr/policy-columns.ts) carries its kind as a
// 14th element. Decoding checks every field: a malformed chunk is refused whole.
//
// A change that continues the one before it (the next cell of the same row, from the same
// transaction: see continues()) is written in CBOR frames (protocol 6) as a continuation row of 3
// items; a clone's changes are mostly such, which halves the frames' bytes and CBOR items.
//
// One row layout, two forms of its keys, sites and values: CBOR frames (protocol 5, frames.ts)
// carry them raw (byte strings, integers, text; a REAL as [number], since CBOR as cborg writes it
// keeps no float/integer distinction for integral numbers: 1.0 would arrive as INTEGER 1), keys
// and columns as indexes into the chunk's lists; the JSON form (held changes in the file,
// sync-store.ts, as protocol 4 sent them) writes keys as base64 and columns inline, sites as hex
// and values tagged (shared/values.ts toWire).
import type { Change, ChangePageCursor, VersionRef } from '../crr/types.ts';
import { NEGATIVE_ZERO } from './frames.ts';
import { sameBytes, sameSite } from '../crr/index.ts';
import { bytesToHex, fromWire, hexToBytes, toWire, type SqlValue, type WireValue } from '../../shared/values.ts';

export class ProtocolError extends Error {}

/** [site index or -1 for none, col_version] */
type WireRef = [number, number] | null;
/**
 * [table, pk, column, value, col_version, db_version, site, cl, seq]
 * + parent, written_at, resolution, resolution's version count
 * + kind: 1 counter contribution, 2 text state (history null)
 */
type WireRow = [number, unknown, unknown, unknown, number, number, number, number, number, ...unknown[]];
/** [column, value, col_version]: the rest is the row before's, with the next seq (CBOR form only) */
type ContinuationRow = [unknown, unknown, number];

const KINDS = ['counter', 'text'] as const;
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n];

export interface WireChanges {
  tables: string[];
  sites: unknown[];
  /** the chunk's keys and columns (CBOR form; the JSON form writes them in each row) */
  pks?: Uint8Array[];
  cids?: string[];
  rows: (WireRow | ContinuationRow)[];
}

export const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** A 16-byte site id off a CBOR frame, or a ProtocolError saying what it was for. */
export function siteBytes(s: unknown, what: string): Uint8Array {
  if (!(s instanceof Uint8Array) || s.length !== 16) throw new ProtocolError(`${what}: a site id is not 16 bytes`);
  return s;
}

/** A SqlValue in a CBOR frame. */
export function toCbor(v: SqlValue): unknown {
  if (typeof v === 'number') return [Object.is(v, -0) ? NEGATIVE_ZERO : v];
  // the same CBOR integer, written faster by cborg as a number
  return typeof v === 'bigint' && v <= SAFE && v >= -SAFE ? Number(v) : v;
}
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A SqlValue off a CBOR frame (a TypeError if it is none). */
export function fromCbor(v: unknown): SqlValue {
  if (v === null || typeof v === 'string' || v instanceof Uint8Array) return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'bigint' && v >= INT64[0] && v <= INT64[1]) return v;
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'number') return v[0];
  throw new TypeError('not a SQLite value');
}

interface Form {
  /** whether a change that continues the one before it is written as a continuation row */
  continues: boolean;
  site(id: Uint8Array): unknown;
  siteFrom(s: unknown): Uint8Array;
  value(v: SqlValue): unknown;
  valueFrom(v: unknown): SqlValue;
  /** a chunk being written: how a row names its key and column, and the lists that go with them, if any */
  writer(): { pk(pk: Uint8Array): unknown; cid(cid: string): unknown; lists(): { pks: Uint8Array[]; cids: string[] } | undefined };
  /** a chunk being read: the key (one object per key) and column a row names, undefined if malformed */
  reader(w: Partial<WireChanges>): { pk(ref: unknown): Uint8Array | undefined; cid(ref: unknown): string | undefined };
}

const sameRef = (a: VersionRef | null | undefined, b: VersionRef | null | undefined) =>
  a && b ? a.col_version === b.col_version && sameSite(a.site_id, b.site_id) : (a ?? null) === (b ?? null);
/** a change without history fields: a 9-element row */
const bare = (c: Change) => c.parent == null && c.written_at == null && c.resolves == null;

/**
 * Whether `c` continues `p`: the next cell of one row, written in one transaction (its key, its
 * writer's db_version, site, life and times, the next seq), no resolution, of the same kind and
 * row form. A row's cells come one after the other, so most changes of a clone continue the one
 * before them; such a change goes as [column, value, col_version] (a third of a full row's items:
 * cborg's encoding and decoding cost is per item).
 */
function continues(p: Change, c: Change): boolean {
  return (
    c.seq === p.seq + 1 && c.db_version === p.db_version && c.cl === p.cl && c.table === p.table && sameBytes(c.pk, p.pk) && sameSite(c.site_id, p.site_id)
    && c.kind === p.kind && c.resolves == null && p.resolves == null && bare(c) === bare(p) && (c.written_at ?? null) === (p.written_at ?? null) && sameRef(c.parent, p.parent)
  );
}

const CBOR: Form = {
  continues: true,
  site: (id) => id,
  siteFrom: (s) => siteBytes(s, 'changes'),
  value: toCbor,
  valueFrom: fromCbor,
  writer() {
    const pks: Uint8Array[] = [];
    const cids: string[] = [];
    const pkIndex = new Map<string, number>();
    const cidIndex = new Map<string, number>();
    let last = -1;
    return {
      pk(pk) {
        // a row's cells come one after the other
        if (last >= 0 && sameBytes(pk, pks[last])) return last;
        const k = Buffer.from(pk.buffer, pk.byteOffset, pk.byteLength).toString('latin1');
        let i = pkIndex.get(k);
        if (i === undefined) pkIndex.set(k, (i = pks.push(pk) - 1));
        return (last = i);
      },
      cid(cid) {
        let i = cidIndex.get(cid);
        if (i === undefined) cidIndex.set(cid, (i = cids.push(cid) - 1));
        return i;
      },
      lists: () => ({ pks, cids }),
    };
  },
  reader({ pks, cids }) {
    if (!Array.isArray(pks) || !pks.every((pk) => pk instanceof Uint8Array)) throw new ProtocolError('changes: malformed primary keys');
    if (!Array.isArray(cids) || !cids.every((c) => typeof c === 'string')) throw new ProtocolError('changes: column names must be text');
    return {
      pk: (ref) => (isCount(ref) && ref < pks.length ? pks[ref] : undefined),
      cid: (ref) => (isCount(ref) && ref < cids.length ? cids[ref] : undefined),
    };
  },
};

/** The JSON form: held changes in the file (sync-store.ts), as protocol 4 wrote them. */
export const JSON_FORM: Form = {
  continues: false,
  site: bytesToHex,
  siteFrom(s) {
    if (typeof s !== 'string' || !/^[0-9a-fA-F]{32}$/.test(s)) throw new ProtocolError('changes: a site id is not 16 bytes of hex');
    return hexToBytes(s);
  },
  value: toWire,
  valueFrom: (v) => fromWire(v as WireValue),
  writer: () => ({ pk: (pk) => Buffer.from(pk).toString('base64'), cid: (cid) => cid, lists: () => undefined }),
  reader() {
    // a row's cells share one key: decoded once per chunk (and one object, which the engine's
    // per-batch caches use)
    const pks = new Map<string, Uint8Array>();
    return {
      pk(b64) {
        if (typeof b64 !== 'string') return undefined;
        let pk = pks.get(b64);
        if (!pk) pks.set(b64, (pk = new Uint8Array(Buffer.from(b64, 'base64'))));
        return pk;
      },
      cid: (cid) => (typeof cid === 'string' ? cid : undefined),
    };
  },
};

export function encodeChanges(changes: Change[], form: Form = CBOR): WireChanges {
  const tables: string[] = [];
  const sites: unknown[] = [];
  const tIdx = new Map<string, number>();
  const sIdx = new Map<string, number>();
  // the engine hands out one object per site: hex only for a new object
  const sObj = new Map<Uint8Array, number>();
  const refs = form.writer();
  const site = (id: Uint8Array) => {
    let s = sObj.get(id);
    if (s !== undefined) return s;
    const siteHex = bytesToHex(id);
    s = sIdx.get(siteHex);
    if (s === undefined) sIdx.set(siteHex, (s = sites.push(form.site(id)) - 1));
    sObj.set(id, s);
    return s;
  };
  const ref = (r: VersionRef | null | undefined): WireRef => (r ? [r.site_id ? site(r.site_id) : -1, r.col_version] : null);
  let prev: Change | null = null;
  const rows = changes.map((c): WireRow | ContinuationRow => {
    const p = prev;
    prev = c;
    if (form.continues && p && continues(p, c)) return [refs.cid(c.cid), form.value(c.val), c.col_version];
    let t = tIdx.get(c.table);
    if (t === undefined) tIdx.set(c.table, (t = tables.push(c.table) - 1));
    const row: WireRow = [t, refs.pk(c.pk), refs.cid(c.cid), form.value(c.val), c.col_version, c.db_version, site(c.site_id), c.cl, c.seq];
    if (c.kind) return [...row, null, null, null, null, KINDS.indexOf(c.kind) + 1];
    if (c.parent == null && c.written_at == null && c.resolves == null) return row;
    return [...row, ref(c.parent), c.written_at ?? null, ref(c.resolves), c.resolves ? c.resolves.versions : null];
  });
  const lists = refs.lists();
  return lists ? { tables, sites, ...lists, rows } : { tables, sites, rows };
}

export function decodeChanges(wire: unknown, form: Form = CBOR): Change[] {
  const w = wire as Partial<WireChanges> | null;
  if (!w || !Array.isArray(w.tables) || !Array.isArray(w.sites) || !Array.isArray(w.rows)) throw new ProtocolError('changes: missing tables, sites or rows');
  if (!w.tables.every((t) => typeof t === 'string')) throw new ProtocolError('changes: table names must be text');
  const sites = w.sites.map(form.siteFrom);
  const tables = w.tables;
  const refs = form.reader(w);
  const ref = (r: unknown, i: number): VersionRef | null => {
    if (r === null) return null;
    if (!Array.isArray(r) || r.length !== 2 || !Number.isSafeInteger(r[0]) || r[0] < -1 || r[0] >= sites.length || !isCount(r[1])) {
      throw new ProtocolError(`changes: row ${i} has a malformed version reference`);
    }
    return { site_id: r[0] === -1 ? null : sites[r[0]], col_version: r[1] };
  };
  const valueAt = (val: unknown, i: number): SqlValue => {
    try {
      return form.valueFrom(val);
    } catch {
      throw new ProtocolError(`changes: row ${i} has a malformed value`);
    }
  };
  let prev: Change | null = null;
  return w.rows.map((r, i): Change => (prev = Array.isArray(r) && r.length === 3 && form.continues ? continuation(r, i) : full(r, i)));

  /** a continuation row: the row before's change, another column and value, the next seq */
  function continuation([cidRef, val, colVersion]: unknown[], i: number): Change {
    if (!prev || prev.resolves) throw new ProtocolError(`changes: row ${i} continues no row`);
    const cid = refs.cid(cidRef);
    if (cid === undefined) throw new ProtocolError(`changes: row ${i} has a malformed column`);
    if (!isCount(colVersion) || !isCount(prev.seq + 1)) throw new ProtocolError(`changes: row ${i} has malformed versions`);
    const { table, pk, db_version, site_id, cl, seq } = prev;
    const change: Change = { table, pk, cid, val: valueAt(val, i), col_version: colVersion, db_version, site_id, cl, seq: seq + 1 };
    if (prev.kind) change.kind = prev.kind;
    else if (!bare(prev)) Object.assign(change, { parent: prev.parent, written_at: prev.written_at, resolves: null });
    return change;
  }

  function full(r: unknown, i: number): Change {
    if (!Array.isArray(r) || (r.length !== 9 && r.length !== 13 && r.length !== 14)) throw new ProtocolError(`changes: row ${i} is malformed`);
    const [t, pkRef, cidRef, val, colVersion, dbVersion, s, cl, seq, parent, writtenAt, res, members, kind] = r;
    if (!isCount(t) || t >= tables.length || !isCount(s) || s >= sites.length) throw new ProtocolError(`changes: row ${i} names an unknown table or site`);
    const pk = refs.pk(pkRef);
    const cid = refs.cid(cidRef);
    if (!pk || cid === undefined) throw new ProtocolError(`changes: row ${i} has a malformed pk or column`);
    if (!isCount(colVersion) || !isCount(dbVersion) || !isCount(cl) || !isCount(seq) || cl < 1) throw new ProtocolError(`changes: row ${i} has malformed versions`);
    const change: Change = { table: tables[t], pk, cid, val: valueAt(val, i), col_version: colVersion, db_version: dbVersion, site_id: sites[s], cl, seq };
    if (r.length === 9) return change;
    if (r.length === 14) {
      if (kind !== 1 && kind !== 2) throw new ProtocolError(`changes: row ${i} has an unknown kind`);
      if (parent !== null || writtenAt !== null || res !== null || members !== null) throw new ProtocolError(`changes: row ${i} has history on a ${KINDS[kind - 1]} change`);
      change.kind = KINDS[kind - 1];
      return change;
    }
    if (writtenAt !== null && !Number.isSafeInteger(writtenAt)) throw new ProtocolError(`changes: row ${i} has a malformed time`);
    const resolves = ref(res, i);
    if (resolves && (!isCount(members) || (members as number) < 2)) throw new ProtocolError(`changes: row ${i} has a malformed resolution`);
    change.parent = ref(parent, i);
    change.written_at = writtenAt as number | null;
    change.resolves = resolves ? { ...resolves, versions: members as number } : null;
    return change;
  }
}

/**
 * A page cursor: in its JSON form in frames too (one per frame; sync-store.ts keeps it as JSON).
 * Its place within a table is `branch` and `after` (the branch's index and the last clock read).
 * Cursors before the stream sent implied versions first (change-pages.ts) named it `arm` and
 * `key`, indexes into the old branch order: such a cursor resumes at the start of its table
 * (merging again is harmless, skipping is not). Under those old names, a new cursor reads as
 * "the start of the table" to a peer that still has the old order.
 */
export interface WireCursor {
  from: number;
  to: number;
  table?: string;
  branch?: number;
  after?: WireValue[];
  /** the old names (read only) */
  arm?: number;
  key?: WireValue[];
}

export function cursorToWire(c: ChangePageCursor): WireCursor {
  const w: WireCursor = { from: c.from, to: c.to };
  if (c.table !== undefined) w.table = c.table;
  if (c.arm !== undefined) w.branch = c.arm;
  if (c.key !== undefined) w.after = c.key.map(toWire);
  return w;
}

export function cursorFromWire(w: unknown): ChangePageCursor {
  const c = w as WireCursor | null;
  if (!c || !isCount(c.from) || !isCount(c.to) || c.from > c.to) throw new ProtocolError('cursor: malformed range');
  if (c.table !== undefined && typeof c.table !== 'string') throw new ProtocolError('cursor: malformed table');
  if (c.branch !== undefined && !isCount(c.branch)) throw new ProtocolError('cursor: malformed branch');
  if (c.after !== undefined && !Array.isArray(c.after)) throw new ProtocolError('cursor: malformed key');
  if (c.arm !== undefined && !isCount(c.arm)) throw new ProtocolError('cursor: malformed branch');
  if (c.key !== undefined && !Array.isArray(c.key)) throw new ProtocolError('cursor: malformed key');
  // an old cursor's place is in the old branch order: its table again from its start
  if (c.branch === undefined) return { from: c.from, to: c.to, table: c.table };
  try {
    return { from: c.from, to: c.to, table: c.table, arm: c.branch, key: c.after?.map(fromWire) };
  } catch {
    throw new ProtocolError('cursor: malformed key value');
  }
}
