// Recent activity with bulk writes as one entry: enabling collaboration on a table records every
// existing cell as its first version (400,000 versions for 100k rows × 4 columns), all by one
// writer in one instant. Consecutive versions with the same writer and time form a run; a run of
// more than BULK_CELLS versions is shown as one entry with its size, measured in SQL from the
// history table (main/crr/HISTORY.md) so the activity list never reads the whole run, and once:
// new versions land above a run, so its newest version (hid) keeps naming it.
import type Database from 'better-sqlite3';
import type { ActivityEntry, CellVersion } from '../../shared/api.ts';
import { histTable } from '../crr/history-sql.ts';

export const BULK_CELLS = 20;
/** versions read to find the runs of the newest entries */
const SCAN = 500;

type Entry = Omit<ActivityEntry, 'bulk'>;

/**
 * Groups `newest(SCAN)` (the table's versions, newest first) into at most `limit` entries. A run
 * still going at the end of the scan is measured in the file (`table`'s history, by hid).
 */
/** sizes of runs measured before, by table, newest hid, writer and time */
export type RunSizes = Map<string, NonNullable<ActivityEntry['bulk']>>;

export function groupActivity(db: Database.Database, table: string, newest: (n: number) => Entry[], limit: number, sizes: RunSizes): ActivityEntry[] {
  const versions = newest(SCAN);
  const out: ActivityEntry[] = [];
  for (let i = 0; i < versions.length && out.length < limit; ) {
    let j = i + 1;
    while (j < versions.length && sameWrite(versions[i].version, versions[j].version)) j++;
    if (j - i <= BULK_CELLS) {
      for (const e of versions.slice(i, j)) if (out.length < limit) out.push(e);
    } else {
      const cut = j === versions.length && versions.length === SCAN;
      out.push({ ...versions[i], bulk: cut ? measure(db, table, i, versions[i].version, sizes) : sizeOf(versions.slice(i, j)) });
    }
    i = j;
  }
  return out;
}

const sameWrite = (a: CellVersion, b: CellVersion) => a.site === b.site && a.writtenAt !== null && a.writtenAt === b.writtenAt;

function sizeOf(run: Entry[]): NonNullable<ActivityEntry['bulk']> {
  const columns = new Set(run.map((e) => e.column)).size;
  const rows = new Set(run.map((e) => JSON.stringify(e.key))).size;
  return { cells: run.length, columns, rows };
}

/** The size of the run starting at the `first`-th newest version and going on past the scan. */
function measure(db: Database.Database, table: string, first: number, v: CellVersion, sizes: RunSizes): NonNullable<ActivityEntry['bulk']> {
  const h = histTable(table);
  const top = db.prepare(`SELECT hid FROM ${h} ORDER BY hid DESC LIMIT 1 OFFSET ?`).pluck().safeIntegers(false).get(first) as number;
  const id = JSON.stringify([table, top, v.site, v.writtenAt]);
  const known = sizes.get(id);
  if (known) return known;
  const r = db
    .prepare(
      `WITH writer AS (SELECT ord FROM crr_sites WHERE hex(site_id) = @site),
        bottom AS (SELECT coalesce(max(hid), 0) AS hid FROM ${h}
          WHERE hid < @top AND NOT (site IS (SELECT ord FROM writer) AND written_at IS @at))
      SELECT count(*) AS cells, count(DISTINCT cid) AS columns FROM ${h} WHERE hid > (SELECT hid FROM bottom) AND hid <= @top`,
    )
    .safeIntegers(false)
    .get({ top, site: v.site.toUpperCase(), at: v.writtenAt }) as { cells: number; columns: number };
  // every row of a bulk write gets a version of each of its columns (a backfill, an import)
  const size = { cells: r.cells, columns: r.columns, rows: Math.ceil(r.cells / Math.max(1, r.columns)) };
  if (sizes.size > 50) sizes.clear();
  sizes.set(id, size);
  return size;
}
