// The SQL functions the engine registers on its connection: cr-sqlite's (crsql_site_id,
// crsql_db_version, crsql_next_db_version, the admin functions crsql_as_crr, …) and those its
// triggers and views call (key packing, the merge program's notes). None of them touches the
// database: an admin function only queues its task for after the statement (index.ts runAdmin),
// since a schema change cannot run while a statement executes.
import type Database from 'better-sqlite3';
import type { SqlValue } from '../../shared/values.ts';
import { packPart, packPrimaryKey, unpackPrimaryKey } from './pack-pk.ts';
import { fromSqlite } from './change-pages.ts';

export interface SqlFunctionsContext {
  siteId: Uint8Array;
  /** crsql_db_version(): the last version that changed a current value */
  currentVersion(): number;
  /** the last version stamped (crsql_next_db_version is the one after) */
  committedVersion(): number;
  /** the merge program's note: current values won, history versions added, for a table */
  noteMerge(won: number, added: number, table: string): void;
  /** INSERT INTO crsql_changes staged rows for a table (its trigger calls crr_staged) */
  staged(table: string): void;
  /** queues an admin task (crsql_as_crr and the like) for right after the statement */
  queueAdmin(task: () => void): void;
  /** what the admin functions do, with their table */
  admin: Record<'crsql_as_crr' | 'crsql_as_table' | 'crsql_begin_alter' | 'crsql_commit_alter', (table: string) => void>;
}

export function registerSqlFunctions(db: Database.Database, ctx: SqlFunctionsContext): void {
  db.function('crsql_site_id', { deterministic: false }, () => Buffer.from(ctx.siteId));
  // bigint: SQLite gets an INTEGER, as from cr-sqlite (a JS number would be a REAL)
  db.function('crsql_db_version', { deterministic: false }, () => BigInt(ctx.currentVersion()));
  db.function('crsql_next_db_version', { deterministic: false }, () => BigInt(ctx.committedVersion() + 1));
  db.function('crr_pack_pk', { varargs: true, deterministic: true, safeIntegers: true }, (...values: unknown[]) =>
    Buffer.from(packPrimaryKey(values.map(fromSqlite))),
  );
  db.function('crr_pack_part', { deterministic: true, safeIntegers: true }, (value: unknown) => Buffer.from(packPart(fromSqlite(value))));
  // the last key unpacked: a row's cells come one after another, each unpacking the same key
  let lastPk: Buffer | null = null;
  let lastValues: SqlValue[] = [];
  db.function('crr_unpack_pk', { deterministic: true, safeIntegers: true }, (pk: unknown, index: unknown, count: unknown) => {
    if (!(pk instanceof Uint8Array)) throw new TypeError('crsql_changes: pk must be a blob (packed primary key)');
    if (!lastPk || !lastPk.equals(pk)) {
      lastValues = unpackPrimaryKey(pk);
      lastPk = Buffer.isBuffer(pk) ? pk : Buffer.from(pk);
    }
    const values = lastValues;
    if (values.length !== Number(count)) {
      throw new TypeError(`crsql_changes: pk has ${values.length} columns, the table has ${count}`);
    }
    const value = values[Number(index)];
    if (value === null) throw new TypeError('crsql_changes: a primary key value is NULL');
    return value instanceof Uint8Array ? Buffer.from(value) : value;
  });
  db.function('crr_note_merge', { safeIntegers: false }, (won: unknown, added: unknown, table: unknown) => {
    ctx.noteMerge(Number(won), Number(added), String(table));
    return null;
  });
  // (inside db.exec the merge-now trigger merges the row at once: the batch merged after it is empty,
  // unless a ROLLBACK in the script took that trigger away)
  db.function('crr_staged', { deterministic: false }, (table: unknown) => {
    ctx.staged(String(table));
    return null;
  });
  for (const [name, task] of Object.entries(ctx.admin)) {
    db.function(name, { deterministic: false }, (table: unknown) => {
      if (typeof table !== 'string') throw new TypeError(`${name} expects a table name`);
      ctx.queueAdmin(() => task(table));
      return 'OK';
    });
  }
}
