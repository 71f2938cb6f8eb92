// Recent activity with bulk writes as one entry: enabling collaboration on a table records every
// existing cell as its first version (400,000 versions for 100k rows × 4 columns), all by one
// writer in one transaction. Consecutive versions with the same writer and db_version form a
// run; a run of more than BULK_CELLS versions is shown as one entry with its size, which the
// engine counts (history.writeSize) so the activity list never reads the whole run, and once.
import type { ActivityEntry } from '../../shared/api.ts';
import type { CrrEngine } from '../crr/types.ts';

export const BULK_CELLS = 20;
/** versions read to find the runs of the newest entries */
const SCAN = 500;

/** an entry, with the db_version and writer (site hex) it was recorded at */
export type Entry = Omit<ActivityEntry, 'bulk'> & { dbVersion: number };

/**
 * Groups `newest(SCAN)` (the table's versions, newest first) into at most `limit` entries. A run
 * still going at the end of the scan is measured in the file (`table`'s history, by hid).
 */
/** sizes of runs measured before, by table, newest hid, writer and time */
export type RunSizes = Map<string, NonNullable<ActivityEntry['bulk']>>;

export function groupActivity(engine: CrrEngine, table: string, newest: (n: number) => Entry[], limit: number, sizes: RunSizes): ActivityEntry[] {
  const versions = newest(SCAN);
  const out: ActivityEntry[] = [];
  for (let i = 0; i < versions.length && out.length < limit; ) {
    let j = i + 1;
    while (j < versions.length && sameWrite(versions[i], versions[j])) j++;
    if (j - i <= BULK_CELLS) {
      for (const { dbVersion: _, ...e } of versions.slice(i, j)) if (out.length < limit) out.push(e);
    } else {
      const cut = j === versions.length && versions.length === SCAN;
      const { dbVersion: _, ...first } = versions[i];
      out.push({ ...first, bulk: cut ? measure(engine, table, versions[i], sizes) : sizeOf(versions.slice(i, j)) });
    }
    i = j;
  }
  return out;
}

const sameWrite = (a: Entry, b: Entry) => a.version.site === b.version.site && a.dbVersion === b.dbVersion;

function sizeOf(run: Entry[]): NonNullable<ActivityEntry['bulk']> {
  const columns = new Set(run.map((e) => e.column)).size;
  const rows = new Set(run.map((e) => JSON.stringify(e.key))).size;
  return { cells: run.length, columns, rows };
}

/** The size of a run going on past the scan: the whole write, counted by the engine (once). */
function measure(engine: CrrEngine, table: string, e: Entry, sizes: RunSizes): NonNullable<ActivityEntry['bulk']> {
  const id = JSON.stringify([table, e.dbVersion, e.version.site]);
  const known = sizes.get(id);
  if (known) return known;
  const size = engine.history.writeSize(table, e.dbVersion, Buffer.from(e.version.site, 'hex'));
  if (sizes.size > 50) sizes.clear();
  sizes.set(id, size);
  return size;
}
