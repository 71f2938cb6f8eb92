// The history route on the wire (HISTORY.md): cell versions with their parents and resolutions,
// and merge-policy settings. Like change-codec.ts, decoding checks every field and refuses a
// malformed chunk whole.
import type { HistoryEntry, MergePolicy, PolicyEntry, VersionRef } from '../crr/types.ts';
import { MERGE_POLICIES } from '../crr/types.ts';
import { bytesToHex, hexToBytes, toWire, type WireValue } from '../../shared/values.ts';
import { isCount, ProtocolError, wireValue } from './change-codec.ts';

/** [site index or -1 for none, col_version] */
type WireRef = [number, number] | null;
type WireEntry = [string, string, number, number, number, WireValue, WireRef, number | null, WireRef, number | null];

export interface WireHistory {
  sites: string[];
  rows: WireEntry[];
}

const isSiteHex = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-fA-F]{32}$/.test(s);

export function encodeHistory(entries: HistoryEntry[]): WireHistory {
  const sites: string[] = [];
  const index = new Map<string, number>();
  const site = (b: Uint8Array | null) => {
    if (b === null) return -1;
    const hex = bytesToHex(b);
    let i = index.get(hex);
    if (i === undefined) index.set(hex, (i = sites.push(hex) - 1));
    return i;
  };
  const ref = (r: VersionRef | null): WireRef => (r ? [site(r.site_id), r.col_version] : null);
  const rows = entries.map(
    (e): WireEntry => [
      Buffer.from(e.pk).toString('base64'),
      e.cid,
      e.cl,
      e.col_version,
      site(e.site_id),
      toWire(e.val),
      ref(e.parent),
      e.written_at,
      ref(e.resolves),
      e.resolves ? e.resolves.versions : null,
    ],
  );
  return { sites, rows };
}

export function decodeHistory(table: string, wire: unknown): HistoryEntry[] {
  const w = wire as Partial<WireHistory> | null;
  if (!w || !Array.isArray(w.sites) || !Array.isArray(w.rows)) throw new ProtocolError('history: missing sites or rows');
  const sites = w.sites.map((s) => {
    if (!isSiteHex(s)) throw new ProtocolError('history: a site id is not 16 bytes of hex');
    return hexToBytes(s);
  });
  const ref = (r: unknown, i: number): VersionRef | null => {
    if (r === null) return null;
    if (!Array.isArray(r) || r.length !== 2 || !Number.isSafeInteger(r[0]) || r[0] < -1 || r[0] >= sites.length || !isCount(r[1])) {
      throw new ProtocolError(`history: row ${i} has a malformed version reference`);
    }
    return { site_id: r[0] === -1 ? null : sites[r[0]], col_version: r[1] };
  };
  return w.rows.map((r, i): HistoryEntry => {
    if (!Array.isArray(r) || r.length !== 10) throw new ProtocolError(`history: row ${i} is malformed`);
    const [pk, cid, cl, cv, s, val, parent, writtenAt, res, members] = r;
    if (typeof pk !== 'string' || typeof cid !== 'string') throw new ProtocolError(`history: row ${i} has a malformed pk or column`);
    if (!isCount(cl) || cl < 1 || !isCount(cv) || cv < 1 || !isCount(s) || s >= sites.length) throw new ProtocolError(`history: row ${i} has malformed versions`);
    if (writtenAt !== null && !Number.isFinite(writtenAt)) throw new ProtocolError(`history: row ${i} has a malformed time`);
    const resolves = ref(res, i);
    if (resolves && (!isCount(members) || members < 2)) throw new ProtocolError(`history: row ${i} has a malformed resolution`);
    const value = wireValue(val, 'history', i);
    return {
      table,
      pk: new Uint8Array(Buffer.from(pk, 'base64')),
      cid,
      cl,
      col_version: cv,
      site_id: sites[s],
      val: value,
      parent: ref(parent, i),
      written_at: writtenAt,
      resolves: resolves ? { ...resolves, versions: members as number } : null,
    };
  });
}

type WirePolicy = [string, string, string, number, string];

export const encodePolicies = (entries: PolicyEntry[]): WirePolicy[] =>
  entries.map((p) => [p.table, p.cid, p.policy, p.clock, bytesToHex(p.site_id)]);

export function decodePolicies(wire: unknown): PolicyEntry[] {
  if (!Array.isArray(wire)) throw new ProtocolError('policies: not a list');
  return wire.map((p, i) => {
    if (!Array.isArray(p) || p.length !== 5) throw new ProtocolError(`policies: entry ${i} is malformed`);
    const [table, cid, policy, clock, site] = p;
    if (typeof table !== 'string' || typeof cid !== 'string' || !MERGE_POLICIES.includes(policy as MergePolicy) || !isCount(clock) || !isSiteHex(site)) {
      throw new ProtocolError(`policies: entry ${i} is malformed`);
    }
    return { table, cid, policy: policy as MergePolicy, clock, site_id: hexToBytes(site) };
  });
}
