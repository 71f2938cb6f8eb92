// What a cell offers besides its text: a foreign-key cell links to the row it references (its
// table, filtered to it), a BOOLEAN column's 0/1 cells are checkboxes. Other values of a BOOLEAN
// column (NULL aside) stay text: nothing is coerced.
import type { ColumnFilter, ColumnInfo, ForeignKey, Row } from '../shared/api.ts';
import type { WireValue } from '../shared/values.ts';
import { filterLabel } from './filter-label.ts';

export interface CellLink {
  table: string;
  filters: ColumnFilter[];
  /** e.g. `customers: id = 5` */
  label: string;
}

/** The foreign key a column belongs to (the first, when several). */
export const foreignKeyOf = (keys: ForeignKey[] | undefined, column: string) => keys?.find((fk) => fk.columns.includes(column));

/** The row a cell's foreign key references, or null (no key, or a NULL in it: it references nothing). */
export function linkOf(keys: ForeignKey[] | undefined, columns: Pick<ColumnInfo, 'name'>[], row: Row | undefined, column: string): CellLink | null {
  const fk = foreignKeyOf(keys, column);
  if (!fk || !row) return null;
  const values = fk.columns.map((c) => row.values[columns.findIndex((col) => col.name === c)]);
  if (values.some((v) => v === null || v === undefined)) return null;
  const filters = fk.refColumns.map((c, i): ColumnFilter => ({ column: c, op: '=', value: values[i] }));
  return { table: fk.refTable, filters, label: `${fk.refTable}: ${filters.map(filterLabel).join(', ')}` };
}

export const isBooleanColumn = (declared: string) => /BOOL/i.test(declared);

/** A BOOLEAN cell's state: true (1), false (0), null (NULL), or undefined when it holds something else. */
export function booleanState(value: WireValue | undefined): boolean | null | undefined {
  if (value === null) return null;
  if (value !== undefined && typeof value === 'object' && 'i' in value && (value.i === '0' || value.i === '1')) return value.i === '1';
  return undefined;
}

/** The value a click on a checkbox stores: NULL and 0 become 1, 1 becomes 0 (integers). */
export function toggled(value: WireValue): WireValue | undefined {
  const state = booleanState(value);
  return state === undefined ? undefined : { i: state ? '0' : '1' };
}
