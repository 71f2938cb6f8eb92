// Changes on the wire: a chunk names each table and origin site once, then one compact row per
// change. Decoding checks every field: a malformed chunk is refused whole.
import type { Change, ChangePageCursor } from '../crr/types.ts';
import { bytesToHex, fromWire, hexToBytes, toWire, type WireValue } from '../../shared/values.ts';

export class ProtocolError extends Error {}

type WireRow = [number, string, string, WireValue, number, number, number, number, number];

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
  const rows = changes.map((c): WireRow => {
    let t = tIdx.get(c.table);
    if (t === undefined) tIdx.set(c.table, (t = tables.push(c.table) - 1));
    const siteHex = bytesToHex(c.site_id);
    let s = sIdx.get(siteHex);
    if (s === undefined) sIdx.set(siteHex, (s = sites.push(siteHex) - 1));
    return [t, Buffer.from(c.pk).toString('base64'), c.cid, toWire(c.val), c.col_version, c.db_version, s, c.cl, c.seq];
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
  return w.rows.map((r, i) => {
    if (!Array.isArray(r) || r.length !== 9) throw new ProtocolError(`changes: row ${i} is malformed`);
    const [t, pk, cid, val, colVersion, dbVersion, s, cl, seq] = r;
    if (!isCount(t) || t >= w.tables!.length || !isCount(s) || s >= sites.length) throw new ProtocolError(`changes: row ${i} names an unknown table or site`);
    if (typeof pk !== 'string' || typeof cid !== 'string') throw new ProtocolError(`changes: row ${i} has a malformed pk or column`);
    if (![colVersion, dbVersion, cl, seq].every(isCount) || cl < 1) throw new ProtocolError(`changes: row ${i} has malformed versions`);
    const value = wireValue(val, 'changes', i);
    return {
      table: w.tables![t],
      pk: new Uint8Array(Buffer.from(pk, 'base64')),
      cid,
      val: value,
      col_version: colVersion,
      db_version: dbVersion,
      site_id: sites[s],
      cl,
      seq,
    };
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
