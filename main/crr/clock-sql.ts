// The replica's clock in SQL (storage format 3): read from crr_times, the row each seal writes
// for its version (commits.ts), by every statement that opens a transaction's marker and by the
// input checks. A leaf module: the trigger builders read it as they load.

/**
 * This replica's clock, the last db_version it stamped (its Lamport clock): the newest sealed
 * version's row in crr_times (format 3). Format 2 kept it in crr_state as well, which every
 * commit rewrote: a page of its own in the WAL, 12 of a commit's ~90 µs.
 */
export const CLOCK_MAX = 'coalesce(max(db_version), 0)';
export const CLOCK_SQL = `(SELECT ${CLOCK_MAX} FROM crr_times)`;
/** the clock as a one-row source with a column `value`: what the merge's statements opening the marker read */
export const CLOCK_ROW = `(SELECT ${CLOCK_MAX} AS value FROM crr_times)`;
/** crsql_db_version(): the newest sealed version that changed a current value */
export const CURRENT_VERSION_SQL = 'SELECT coalesce((SELECT db_version FROM crr_times WHERE quiet IS NULL ORDER BY db_version DESC LIMIT 1), 0)';
