// Changes on the wire: a chunk names each table and origin site once, then one compact row per
// change. A cell version carries its history too (the sync stream: change-pages.ts): its parent,
// its writer's time and, for a Keep, the fork it resolves. A counter contribution or a text
// state (Change.kind, main/crr/policy-columns.ts) carries its kind as a 14th element. Decoding
// checks every field: a malformed chunk is refused whole.
import type { Change, ChangePageCursor, VersionRef } from '../crr/types.ts';
import { bytesToHex, fromWire, hexToBytes, toWire, type WireValue } from '../../shared/values.ts';

export class ProtocolError extends Error {}

/** [site index or -1 for none, col_version] */
type WireRef = [number, number] | null;
type WireRow =
  | [number, string, string, WireValue, number, number, number, number, number]
  // + parent, written_at, resolution, resolution's version count
  | [number, string, string, WireValue, number, number, number, number, number, WireRef, number | null, WireRef, number | null]
  // + kind: 1 counter contribution, 2 text state
  | [number, string, string, WireValue, number, number, number, number, number, WireRef, number | null, WireRef, number | null, number];

const KINDS = ['counter', 'text'] as const;

export interface WireChanges {
  tables: string[];
  sites: string[];
  rows: WireRow[];
}

export function encodeChanges(changes: Change[]): WireChanges {
  const tables: string[] = [];
  const sites: string[] = [];
  const tIdx = new Map<string, number>();
  const sIdx = new Map<string, number>();
  const site = (id: Uint8Array) => {
    const siteHex = bytesToHex(id);
    let s = sIdx.get(siteHex);
    if (s === undefined) sIdx.set(siteHex, (s = sites.push(siteHex) - 1));
    return s;
  };
  const ref = (r: VersionRef | null | undefined): WireRef => (r ? [r.site_id ? site(r.site_id) : -1, r.col_version] : null);
  const rows = changes.map((c): WireRow => {
    let t = tIdx.get(c.table);
    if (t === undefined) tIdx.set(c.table, (t = tables.push(c.table) - 1));
    const row: WireRow = [t, Buffer.from(c.pk).toString('base64'), c.cid, toWire(c.val), c.col_version, c.db_version, site(c.site_id), c.cl, c.seq];
    if (c.kind) return [...row, null, null, null, null, KINDS.indexOf(c.kind) + 1];
    if (c.parent == null && c.written_at == null && c.resolves == null) return row;
    return [...row, ref(c.parent), c.written_at ?? null, ref(c.resolves), c.resolves ? c.resolves.versions : null];
  });
  return { tables, sites, rows };
}

export const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** A value off the wire, or a ProtocolError naming the frame kind and row. */
export function wireValue(val: unknown, frame: string, row: number): ReturnType<typeof fromWire> {
  try {
    return fromWire(val as WireValue);
  } catch {
    throw new ProtocolError(`${frame}: row ${row} has a malformed value`);
  }
}

export function decodeChanges(wire: unknown): Change[] {
  const w = wire as Partial<WireChanges> | null;
  if (!w || !Array.isArray(w.tables) || !Array.isArray(w.sites) || !Array.isArray(w.rows)) throw new ProtocolError('changes: missing tables, sites or rows');
  if (!w.tables.every((t) => typeof t === 'string')) throw new ProtocolError('changes: table names must be text');
  const sites = w.sites.map((s) => {
    if (typeof s !== 'string' || !/^[0-9a-fA-F]{32}$/.test(s)) throw new ProtocolError('changes: a site id is not 16 bytes of hex');
    return hexToBytes(s);
  });
  const ref = (r: unknown, i: number): VersionRef | null => {
    if (r === null) return null;
    if (!Array.isArray(r) || r.length !== 2 || !Number.isSafeInteger(r[0]) || r[0] < -1 || r[0] >= sites.length || !isCount(r[1])) {
      throw new ProtocolError(`changes: row ${i} has a malformed version reference`);
    }
    return { site_id: r[0] === -1 ? null : sites[r[0]], col_version: r[1] };
  };
  // a row's cells share one key: decoded once per chunk (and one object, which the engine's
  // per-batch caches use)
  const pks = new Map<string, Uint8Array>();
  const pkOf = (b64: string) => {
    let pk = pks.get(b64);
    if (!pk) pks.set(b64, (pk = new Uint8Array(Buffer.from(b64, 'base64'))));
    return pk;
  };
  return w.rows.map((r, i): Change => {
    if (!Array.isArray(r) || (r.length !== 9 && r.length !== 13 && r.length !== 14)) throw new ProtocolError(`changes: row ${i} is malformed`);
    const [t, pk, cid, val, colVersion, dbVersion, s, cl, seq, parent, writtenAt, res, members, kind] = r;
    if (!isCount(t) || t >= w.tables!.length || !isCount(s) || s >= sites.length) throw new ProtocolError(`changes: row ${i} names an unknown table or site`);
    if (typeof pk !== 'string' || typeof cid !== 'string') throw new ProtocolError(`changes: row ${i} has a malformed pk or column`);
    if (![colVersion, dbVersion, cl, seq].every(isCount) || cl < 1) throw new ProtocolError(`changes: row ${i} has malformed versions`);
    const value = wireValue(val, 'changes', i);
    const change: Change = { table: w.tables![t], pk: pkOf(pk), cid, val: value, col_version: colVersion, db_version: dbVersion, site_id: sites[s], cl, seq };
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
  });
}

export interface WireCursor {
  from: number;
  to: number;
  table?: string;
  arm?: number;
  key?: WireValue[];
}

export function cursorToWire(c: ChangePageCursor): WireCursor {
  return { ...c, key: c.key?.map(toWire) };
}

export function cursorFromWire(w: unknown): ChangePageCursor {
  const c = w as WireCursor | null;
  if (!c || !isCount(c.from) || !isCount(c.to) || c.from > c.to) throw new ProtocolError('cursor: malformed range');
  if (c.table !== undefined && typeof c.table !== 'string') throw new ProtocolError('cursor: malformed table');
  if (c.arm !== undefined && !isCount(c.arm)) throw new ProtocolError('cursor: malformed branch');
  if (c.key !== undefined && !Array.isArray(c.key)) throw new ProtocolError('cursor: malformed key');
  try {
    return { from: c.from, to: c.to, table: c.table, arm: c.arm, key: c.key?.map(fromWire) };
  } catch {
    throw new ProtocolError('cursor: malformed key value');
  }
}
