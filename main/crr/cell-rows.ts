// What the tables kept per cell beside a CRR table for its counter and text columns (counter.ts,
// text-cells.ts) have in common: a key of (the row's key, slot, row life, one more column), the
// statements prepared per table shape, and their branch of the sync stream.
import type Database from 'better-sqlite3';
import type { SqlValue } from '../../shared/values.ts';
import type { Change } from './types.ts';
import type { TableInfo } from './table-info.ts';
import { quoteId } from './table-info.ts';
import { declaredType } from './clock-tables.ts';
import type { Branch, Lookup } from './change-pages.ts';
import { fromSqlite } from './change-pages.ts';
import { packPrimaryKey } from './pack-pk.ts';

/** CREATE TABLE (and its db_version index) of a per-cell table keyed by (pk, slot, cl, `last`). */
export function cellTableSql(info: TableInfo, table: string, name: string, last: string, columns: string): string {
  const pk = info.pks.map(quoteId).join(', ');
  const pkDecl = info.pks.map((p, i) => `${quoteId(p)} ${declaredType(info, i)}`).join(', ');
  return `
CREATE TABLE IF NOT EXISTS ${table} (${pkDecl}, slot INTEGER NOT NULL, cl INTEGER NOT NULL, ${last} INTEGER NOT NULL,
  ${columns}, db_version INTEGER NOT NULL, PRIMARY KEY (${pk}, slot, cl, ${last})) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ${quoteId(`${info.name}__crr_${name}_db`)} ON ${table} (db_version);`;
}

/** Statements prepared once per table shape (a schema repair makes new TableInfo objects). */
export function statementsPerTable(prepare: (sql: string) => Database.Statement) {
  const cache = new WeakMap<TableInfo, Map<string, Database.Statement>>();
  return (info: TableInfo, name: string, sql: () => string): Database.Statement => {
    let m = cache.get(info);
    if (!m) cache.set(info, (m = new Map()));
    let s = m.get(name);
    if (!s) m.set(name, (s = prepare(sql()).safeIntegers(true)));
    return s;
  };
}

/** `@p0, @p1, …` for a row's key, and their bindings. */
export const keyParams = (info: TableInfo) => info.pks.map((_, i) => `@p${i}`);
export const bindKey = (pk: unknown[]) => Object.fromEntries(pk.map((v, i) => [`p${i}`, v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v) : v]));

/**
 * The sync stream's branch for a per-cell table: one change of `kind` per row. `last` is the
 * key's fourth column, `columns` two more read after the key; `fields` makes the change's value,
 * col_version and site from [last, column 1, column 2].
 */
export function cellBranch(
  info: TableInfo,
  spec: { table: string; last: string; site: string; columns: [string, string]; kind: NonNullable<Change['kind']> },
  fields: (r: [unknown, unknown, unknown], lookup: Lookup) => { val: SqlValue; col_version: number; site_id: Uint8Array },
): Branch {
  const nk = info.pks.length;
  const nameOfSlot = new Map(info.slots.map((s, i) => [s, info.columns[i]]));
  return {
    from: spec.table,
    alias: 'x',
    where: '1',
    version: 'x.db_version',
    site: `x.${spec.site}`,
    keys: [...info.pks.map((p) => `x.${quoteId(p)}`), 'x.slot', 'x.cl', `x.${spec.last}`],
    columns: spec.columns.map((c) => `x.${c}`),
    joins: '',
    perRow: 1,
    expand(row, out, lookup) {
      const cid = nameOfSlot.get(Number(row[1 + nk]));
      if (cid === undefined) return;
      out.push({
        table: info.name, pk: packPrimaryKey(row.slice(1, 1 + nk).map(fromSqlite)), cid, db_version: Number(row[0]), cl: Number(row[2 + nk]), seq: 0,
        ...fields([row[3 + nk], row[4 + nk], row[5 + nk]], lookup), kind: spec.kind,
      });
    },
  };
}
