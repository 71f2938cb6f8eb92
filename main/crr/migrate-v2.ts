// Opening a file written with storage format 2, whose clock lived in crr_state ('db_version', the
// last version stamped, and 'crsql_db_version', the last one that changed a current value), which
// every commit rewrote. Format 3 reads both from crr_times, the row every seal writes anyway
// (CLOCK_SQL, CURRENT_VERSION_SQL in clock-sql.ts). Converted in place, in the engine's opening
// transaction: the two versions get their rows in crr_times (with the time a reader saw for them
// before), the versions after crsql_db_version are marked quiet, and the storage format is 3.
// The old keys stay until the engine has re-created the tables' triggers (installCrr), since a
// format-2 trigger in the file (another program writing before then) opens its marker from them;
// until then they hold the same clock.
import type Database from 'better-sqlite3';

type Raw = { prepare: (sql: string) => Database.Statement; exec: (sql: string) => void };

const OLD_KEYS = `key IN ('db_version', 'crsql_db_version')`;

/** A file whose clock is crr_state's (format 2, or 1 before its own migration), not yet converted. */
export function needsFormat2Migration(raw: Raw): boolean {
  if (raw.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'crr_state'`).get() === undefined) return false;
  const format = raw.prepare(`SELECT value FROM crr_state WHERE key = 'storage_format'`).pluck().get();
  return Number(format ?? 0) < 3 && raw.prepare(`SELECT 1 FROM crr_state WHERE key = 'db_version'`).get() !== undefined;
}

/** Format 2 → 3, after META_SQL (crr_times exists). */
export function migrateFromFormat2(raw: Raw): void {
  const columns = raw.prepare(`SELECT name FROM pragma_table_info('crr_times')`).pluck().all() as string[];
  if (!columns.includes('quiet')) raw.exec('ALTER TABLE crr_times ADD COLUMN quiet INTEGER');
  const old = (key: string) => BigInt((raw.prepare(`SELECT value FROM crr_state WHERE key = ?`).pluck().safeIntegers(true).get(key) as bigint | number | undefined) ?? 0);
  const clock = old('db_version');
  const current = old('crsql_db_version');
  // a version without its own row was seen at the next row's time (history-sql.ts timeOfSql)
  const addRow = raw.prepare(`INSERT OR IGNORE INTO crr_times (db_version, at)
    SELECT @v, coalesce((SELECT at FROM crr_times WHERE db_version >= @v ORDER BY db_version LIMIT 1), @now) WHERE @v > 0`);
  for (const v of [clock, current]) addRow.run({ v, now: Date.now() });
  raw.prepare('UPDATE crr_times SET quiet = 1 WHERE db_version > ?').run(current);
  raw.prepare(`UPDATE crr_state SET value = 3 WHERE key = 'storage_format'`).run();
}

/** The format-2 clock keys, once the triggers that read them are gone. */
export function dropFormat2Clock(raw: Raw): void {
  if (raw.prepare(`SELECT 1 FROM crr_state WHERE ${OLD_KEYS}`).get()) raw.prepare(`DELETE FROM crr_state WHERE ${OLD_KEYS}`).run();
}
