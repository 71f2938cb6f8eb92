// Merge-policy settings on the wire (HISTORY.md; cell history itself travels with the changes:
// change-codec.ts). Decoding checks every field and refuses a malformed list whole.
import type { MergePolicy, PolicyEntry } from '../crr/types.ts';
import { MERGE_POLICIES } from '../crr/types.ts';
import { isCount, ProtocolError, siteBytes } from './change-codec.ts';

type WirePolicy = [string, string, string, number, Uint8Array];

export const encodePolicies = (entries: PolicyEntry[]): WirePolicy[] => entries.map((p) => [p.table, p.cid, p.policy, p.clock, p.site_id]);

export function decodePolicies(wire: unknown): PolicyEntry[] {
  if (!Array.isArray(wire)) throw new ProtocolError('policies: not a list');
  return wire.map((p, i) => {
    if (!Array.isArray(p) || p.length !== 5) throw new ProtocolError(`policies: entry ${i} is malformed`);
    const [table, cid, policy, clock, site] = p;
    if (typeof table !== 'string' || typeof cid !== 'string' || !MERGE_POLICIES.includes(policy as MergePolicy) || !isCount(clock)) {
      throw new ProtocolError(`policies: entry ${i} is malformed`);
    }
    return { table, cid, policy: policy as MergePolicy, clock, site_id: siteBytes(site, `policies: entry ${i}`) };
  });
}
