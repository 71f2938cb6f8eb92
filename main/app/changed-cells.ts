// The cells a commit changed, for the editor to flash in the writer's colour: read back from the
// engine's clocks for the commit's db_version range, or null when there are too many to matter.
import type { CommitEvent, CrrEngine } from '../crr/types.ts';
import { unpackPrimaryKey } from '../crr/pack-pk.ts';
import type { ApiEvents } from '../../shared/api.ts';
import { bytesToHex, toWire } from '../../shared/values.ts';

export const MAX_FLASH_CELLS = 500;

export function changedCells(engine: CrrEngine, e: CommitEvent): ApiEvents['rowsChanged']['cells'] {
  const page = engine.changesPage({ from: e.fromDbVersion - 1, to: e.toDbVersion }, MAX_FLASH_CELLS + 1);
  if (page.next || page.changes.length > MAX_FLASH_CELLS) return null;
  return page.changes
    .filter((c) => c.cid !== '-1')
    .map((c) => ({ table: c.table, key: unpackPrimaryKey(c.pk).map(toWire), column: c.cid, site: bytesToHex(c.site_id) }));
}
