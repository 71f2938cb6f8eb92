// Where the grid's rows come from: a table (filtered, sorted by column name, editable by key) or
// a read-only statement of the SQL console (sorted by result position, rows keyed by position).
import type { ColumnFilter, Row, SortSpec } from '../shared/api.ts';
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

export function queryRows(sql: string): RowSource {
  return {
    read: async (offset, limit, sort) => {
      const r = await call('runQuery', { sql, offset, limit, sort: sort && { index: sort.index, dir: sort.dir } });
      return { rows: r.rows.map((values, i) => ({ key: [{ i: String(offset + i) }], values })), atEnd: !r.truncated };
    },
    count: () => call('countQuery', { sql }),
  };
}
