// Where the grid's rows come from: a table (filtered, sorted by column name, editable by key) or
// a read-only statement of the SQL console (sorted by result position, rows keyed by position).
import type { ColumnFilter, QueryResult, Row, SortSpec } from '../shared/api.ts';
import { call } from './api-client.ts';

export interface RowSource {
  read(offset: number, limit: number, sort: (SortSpec & { index: number }) | undefined): Promise<{ rows: Row[]; atEnd: boolean }>;
  count(): Promise<number>;
}

export function tableRows(table: string, filters: ColumnFilter[]): RowSource {
  return {
    read: async (offset, limit, sort) => {
      const w = await call('readRows', { table, filters, offset, limit, sort: sort && { column: sort.column, dir: sort.dir } });
      return { rows: w.rows, atEnd: w.atEnd };
    },
    count: () => call('countRows', { table, filters }),
  };
}

/** A window of query results as grid rows (keyed by position: results have no key of their own). */
export const queryPage = (offset: number, r: QueryResult) => ({
  rows: r.rows.map((values, i): Row => ({ key: [{ i: String(offset + i) }], values })),
  atEnd: !r.truncated,
});

export function queryRows(sql: string): RowSource {
  return {
    read: async (offset, limit, sort) => queryPage(offset, await call('runQuery', { sql, offset, limit, sort: sort && { index: sort.index, dir: sort.dir } })),
    count: () => call('countQuery', { sql }),
  };
}
