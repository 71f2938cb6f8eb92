// What an incoming change may hold before it can reach the engine's state, for both ways in:
// applyChanges (sync) and INSERT INTO crsql_changes (SQL). Versions are integers in
// [0, MAX_CLOCK]; a change's db_version may be at most `maxVersionJump` ahead of this replica's
// db_version (which is at least every version it has seen: Lamport). A change outside these
// bounds is refused with an error naming the field; nothing of its batch is applied.
//
// Why bounds: a peer that holds the share key could otherwise send db_version 2^53 - 1; the
// receiver adopts it (Lamport), its next version is no longer a safe JS integer, and from then
// on it can sync with nobody. 2^48 leaves 2^53 - 2^48 local writes of headroom even after a
// hostile peer pushed a cell or a row to the bound; the jump bound keeps one change from
// spending more than 2^32 versions at once.
import type { Change } from './types.ts';
import type { SqlValue } from '../../shared/values.ts';
import type { TableInfo } from './table-info.ts';
import { unpackPrimaryKey } from './pack-pk.ts';
import { CLOCK_SQL } from './clock-sql.ts';

export const MAX_CLOCK = 2 ** 48;
export const DEFAULT_MAX_VERSION_JUMP = 2 ** 32;

export class ChangeRefused extends Error {
  override name = 'ChangeRefused';
}

const VERSION_FIELDS = ['col_version', 'db_version', 'cl', 'seq'] as const;

/** A refusal of change `i` (its message is built only then: the checks run for every change of a clone). */
function refused(i: number, message: string): ChangeRefused {
  return new ChangeRefused(`change ${i}: ${message}`);
}

/**
 * Checks change `i` against the table set and the bounds; returns its decoded primary key.
 * `localVersion` is this replica's db_version.
 */
export function validateChange(
  c: Change,
  i: number,
  tables: ReadonlyMap<string, TableInfo>,
  localVersion: number,
  maxJump: number,
  altering: ReadonlySet<string>,
  /** keys decoded earlier in this batch, by key object (a row's cells often share one) */
  decoded?: Map<Uint8Array, SqlValue[]>,
): SqlValue[] {
  if (!c || typeof c !== 'object') throw refused(i, `not an object`);
  const info = tables.get(c.table);
  if (!info) throw refused(i, `could not find the schema information for table ${JSON.stringify(c.table)}`);
  if (altering.has(c.table)) throw refused(i, `table ${c.table} is being altered (crsql_begin_alter without crsql_commit_alter)`);
  if (c.cid !== '-1' && !info.columns.includes(c.cid)) throw refused(i, `table ${c.table} has no column ${JSON.stringify(c.cid)}`);
  if (!(c.pk instanceof Uint8Array)) throw refused(i, `pk must be bytes`);
  let pk = decoded?.get(c.pk);
  if (!pk) {
    try {
      pk = unpackPrimaryKey(c.pk);
    } catch (err) {
      throw refused(i, `pk is not a packed primary key (${(err as Error).message})`);
    }
    decoded?.set(c.pk, pk);
  }
  if (pk.length !== info.pks.length) throw refused(i, `pk has ${pk.length} value(s), ${c.table}'s primary key has ${info.pks.length}`);
  if (pk.includes(null)) throw refused(i, `a primary key value is NULL`);
  if (!(c.site_id instanceof Uint8Array) || c.site_id.length !== 16) throw refused(i, `site_id must be 16 bytes`);
  // (each field by name: a loop over their names read them by a computed key, a third of this check's time)
  if (!isClock(c.col_version)) throw refused(i, `col_version must be an integer from 0 to 2^48`);
  if (!isClock(c.db_version)) throw refused(i, `db_version must be an integer from 0 to 2^48`);
  if (!isClock(c.cl)) throw refused(i, `cl must be an integer from 0 to 2^48`);
  if (!isClock(c.seq)) throw refused(i, `seq must be an integer from 0 to 2^48`);
  if (c.cl < 1) throw refused(i, `cl must be at least 1`);
  checkRef(c.parent, i, 'parent', false);
  checkRef(c.resolves, i, 'resolves', true);
  if (c.written_at !== undefined && c.written_at !== null && !Number.isSafeInteger(c.written_at)) {
    throw refused(i, `written_at must be an integer (ms since 1970) or null`);
  }
  if (c.db_version > localVersion + maxJump) {
    throw refused(
      i,
      `db_version ${c.db_version} is more than ${maxJump} ahead of this replica's ${localVersion} (refused, not adopted)`,
    );
  }
  return pk;
}

const isClock = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) >= 0 && (x as number) <= MAX_CLOCK;

/** A version reference (parent, resolution) from a peer: null, or a site (16 bytes or null) and a version. */
function checkRef(ref: unknown, i: number, what: string, resolution: boolean): void {
  if (ref === undefined || ref === null) return;
  const r = ref as { site_id?: unknown; col_version?: unknown; versions?: unknown };
  if (typeof r !== 'object') throw refused(i, `${what} is malformed`);
  if (r.site_id !== null && !(r.site_id instanceof Uint8Array && r.site_id.length === 16)) throw refused(i, `${what}: site_id must be 16 bytes or null`);
  if (!Number.isSafeInteger(r.col_version) || (r.col_version as number) < 0 || (r.col_version as number) > MAX_CLOCK) {
    throw refused(i, `${what}: col_version must be an integer from 0 to 2^48`);
  }
  if (resolution && (!Number.isSafeInteger(r.versions) || (r.versions as number) < 2 || (r.versions as number) > MAX_CLOCK)) {
    throw refused(i, `${what}: versions must be an integer of at least 2`);
  }
}

/**
 * The same checks in SQL, for the crsql_changes INSERT trigger (NEW is the incoming row). The
 * pk's shape is checked where it is unpacked (crr_unpack_pk).
 */
export function validateNewSql(): string {
  // better-sqlite3 binds every JS number as REAL: an integral REAL is an integer here
  const int = (f: string) =>
    `typeof(NEW.${f}) NOT IN ('integer', 'real') OR NEW.${f} <> CAST(NEW.${f} AS INTEGER) OR NEW.${f} < 0 OR NEW.${f} > ${MAX_CLOCK}`;
  const checks: [string, string][] = [
    ...VERSION_FIELDS.map((f): [string, string] => [int(f), `crsql_changes: ${f} must be an integer from 0 to 2^48`]),
    [`NEW.cl < 1`, 'crsql_changes: cl must be at least 1'],
    [`typeof(NEW.site_id) <> 'blob' OR length(NEW.site_id) <> 16`, 'crsql_changes: site_id must be a 16-byte blob'],
    [`typeof(NEW.pk) <> 'blob'`, 'crsql_changes: pk must be a blob (packed primary key)'],
    [`typeof(NEW.cid) <> 'text'`, 'crsql_changes: cid must be text'],
    [
      `NEW.db_version > ${CLOCK_SQL} +
        coalesce((SELECT value FROM crr_state WHERE key = 'max_version_jump'), ${DEFAULT_MAX_VERSION_JUMP})`,
      "crsql_changes: db_version is too far ahead of this replica's (refused, not adopted)",
    ],
  ];
  // one statement (a trigger statement each cost 0.15 µs a row): the first failing check's message
  const text = (msg: string) => `'${msg.replace(/'/g, "''")}'`;
  return `SELECT RAISE(ABORT, CASE ${checks.map(([cond, msg]) => `WHEN ${cond} THEN ${text(msg)}`).join('\n    ')} END)
    WHERE ${checks.map(([cond]) => `(${cond})`).join('\n      OR ')};`;
}
