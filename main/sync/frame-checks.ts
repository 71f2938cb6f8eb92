// What a receiver checks of a decoded frame before the engine sees it, beyond its shape (the
// codecs) and the engine's own bounds (main/crr/input-limits.ts): that its origins and versions
// are possible at all in this protocol. See README.md, "What a key holder can and cannot do".
//   - a peer never sends a replica changes (history included) of that replica's own site (the sender
//     skips them: excludeSite), so such items are forged;
//   - a frame covers a range of the sender's db_versions up to `to`: a change beyond it is forged;
//   - every version and clock is an integer in [0, 2^48], like the engine's.
// Changes attributed to third sites cannot be told from honest relays without signatures: they
// pass. A frame that fails is refused whole (nothing applied, no progress recorded).
import type { Change, PolicyEntry } from '../crr/types.ts';
import { MAX_CLOCK, sameSite } from '../crr/index.ts';

export class FrameRefused extends Error {
  override name = 'FrameRefused';
}

const clock = (n: number) => Number.isSafeInteger(n) && n >= 0 && n <= MAX_CLOCK;

/** A frame's own numbers: the range end it covers and the sender's head. */
export function checkRange(to: number, head: unknown): void {
  if (!clock(to)) throw new FrameRefused(`changes: range end ${to} is beyond 2^48`);
  if (head !== undefined && head !== null && !(clock(head as number) && (head as number) >= to)) {
    throw new FrameRefused(`changes: the sender's head ${String(head)} is not a version at or after its range end ${to}`);
  }
}

export function checkChanges(changes: Change[], to: number, localSite: Uint8Array): void {
  changes.forEach((c, i) => {
    if (sameSite(c.site_id, localSite)) {
      throw new FrameRefused(`change ${i} is attributed to this replica's own site (peers never send a replica its own changes)`);
    }
    if (c.db_version > to) throw new FrameRefused(`change ${i}: db_version ${c.db_version} is past the frame's range end ${to}`);
  });
}

export function checkPolicies(entries: PolicyEntry[]): void {
  entries.forEach((p, i) => {
    if (!clock(p.clock)) throw new FrameRefused(`policy ${i}: clock ${p.clock} is beyond 2^48`);
  });
}
