// The SQL console's read side: a read-only statement's results in windows (offset, limit), sorted
// by a result column's position, and counted, so its results page through the same virtual grid as
// a table. SELECT, WITH and VALUES are wrapped so SQLite skips and sorts; PRAGMA and EXPLAIN (which
// cannot be wrapped) are stepped through instead.
import type Database from 'better-sqlite3';
import type { QueryResult, QueryWindowRequest } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import { toWire, type SqlValue, type WireValue } from '../../shared/values.ts';
import { refuseSchemaFunctions } from './console-guard.ts';

const MAX_LIMIT = 10_000;

function readOnlyStatement(db: Database.Database, sql: string): Database.Statement {
  let stmt: Database.Statement;
  try {
    stmt = db.prepare(sql);
  } catch (err) {
    throw new ApiError('sql-error', (err as Error).message);
  }
  if (!stmt.readonly || !stmt.reader) {
    throw new ApiError('read-only', 'The SQL console runs read-only queries (SELECT, WITH, EXPLAIN, read-only PRAGMAs).');
  }
  refuseSchemaFunctions(db, sql);
  return stmt;
}

/** `SELECT <what> FROM (statement) <tail>`, or null when SQLite cannot take it as a subquery (PRAGMA, EXPLAIN). */
function wrapped(db: Database.Database, sql: string, what: string, tail = ''): Database.Statement | null {
  // the newline keeps a trailing -- comment from swallowing the closing parenthesis
  const body = sql.trim().replace(/;\s*$/, '');
  try {
    const stmt = db.prepare(`SELECT ${what} FROM (${body}\n) ${tail}`);
    return stmt.readonly ? stmt : null;
  } catch {
    return null;
  }
}

const rowToWire = (r: unknown[]) => r.map((v) => toWire(v instanceof Uint8Array ? new Uint8Array(v) : (v as SqlValue)));

function sqlError<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw err instanceof ApiError ? err : new ApiError('sql-error', (err as Error).message);
  }
}

/** One window of a read-only statement's results; `truncated` says more rows follow it. */
export function queryWindow(db: Database.Database, p: QueryWindowRequest): QueryResult {
  const stmt = readOnlyStatement(db, p?.sql ?? '');
  const columns = stmt.columns().map((c) => c.name);
  const offset = Math.max(0, Math.floor(p.offset ?? 0));
  const limit = Math.min(Math.max(1, Math.floor(p.limit ?? 1000)), MAX_LIMIT);
  const sort = p.sort;
  if (sort && !(Number.isInteger(sort.index) && sort.index >= 0 && sort.index < columns.length)) {
    throw new ApiError('invalid-argument', `There is no result column ${sort.index + 1} to sort by.`);
  }
  const order = sort ? `ORDER BY ${sort.index + 1} ${sort.dir === 'desc' ? 'DESC' : 'ASC'}` : '';
  const windowed = wrapped(db, p.sql, '*', `${order} LIMIT ? OFFSET ?`);
  if (windowed) {
    const rows = sqlError(() => windowed.raw().safeIntegers(true).all(limit + 1, offset) as unknown[][]);
    return { columns, rows: rows.slice(0, limit).map(rowToWire), truncated: rows.length > limit };
  }
  if (sort) throw new ApiError('invalid-argument', 'Results of this kind of statement cannot be sorted.');
  return sqlError(() => {
    const rows: WireValue[][] = [];
    let i = 0;
    for (const r of stmt.raw().safeIntegers(true).iterate() as Iterable<unknown[]>) {
      if (i++ < offset) continue;
      if (rows.length === limit) return { columns, rows, truncated: true };
      rows.push(rowToWire(r));
    }
    return { columns, rows, truncated: false };
  });
}

/** How many rows a read-only statement returns. */
export function queryCount(db: Database.Database, sql: string): number {
  const stmt = readOnlyStatement(db, sql ?? '');
  const counted = wrapped(db, sql, 'count(*)');
  if (counted) return sqlError(() => counted.pluck().safeIntegers(false).get() as number);
  return sqlError(() => {
    let n = 0;
    for (const _ of stmt.raw().iterate()) n++;
    return n;
  });
}
