// Merge-policy settings on the wire (HISTORY.md; cell history itself travels with the changes:
// change-codec.ts). Decoding checks every field and refuses a malformed list whole.
import type { MergePolicy, PolicyEntry } from '../crr/types.ts';
import { MERGE_POLICIES } from '../crr/types.ts';
import { bytesToHex, hexToBytes } from '../../shared/values.ts';
import { isCount, ProtocolError } from './change-codec.ts';

const isSiteHex = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-fA-F]{32}$/.test(s);


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
