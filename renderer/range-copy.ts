// A selected range as clipboard TSV, and pasted TSV as the cell writes it means: each field parsed
// in its column's class like an edit; an empty field in a numeric column is NULL (a copied NULL is
// an empty field); values that would change storage class against their column's affinity are
// listed so the grid asks first.
import type { ColumnInfo, Row } from '../shared/api.ts';
import type { WireValue } from '../shared/values.ts';
import { editText } from './cell-values.ts';
import { checkEdit } from './edit-check.ts';
import { parseTsv, toTsv } from './tsv.ts';

export interface CellWrite {
  key: WireValue[];
  column: string;
  before: WireValue;
  after: WireValue;
}

export interface Range {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** TSV of a range (rows not loaded copy as empty lines). */
export function copyRange(rowAt: (index: number) => Row | undefined, r: Range): { tsv: string; cells: number } {
  const rows: string[][] = [];
  for (let i = r.top; i <= r.bottom; i++) {
    const row = rowAt(i);
    const out: string[] = [];
    for (let c = r.left; c <= r.right; c++) out.push(row ? editText(row.values[c]) : '');
    rows.push(out);
  }
  return { tsv: toTsv(rows), cells: rows.length * (r.right - r.left + 1) };
}

/** The writes a paste of `text` at (top, left) means, and the columns whose values change class. */
export function pastedCells(text: string, rowAt: (index: number) => Row | undefined, top: number, left: number, columns: ColumnInfo[]): { cells: CellWrite[]; questioned: string[] } {
  const grid = parseTsv(text);
  const cells: CellWrite[] = [];
  const questioned = new Set<string>();
  for (let i = 0; i < grid.length; i++) {
    const row = rowAt(top + i);
    if (!row) continue;
    for (let j = 0; j < grid[i].length && left + j < columns.length; j++) {
      const c = left + j;
      const column = columns[c];
      const check = checkEdit(grid[i][j], row.values[c], column);
      let after = check.value;
      if (check.question && grid[i][j].trim() === '' && !column.notNull) after = null;
      else if (check.question) questioned.add(column.name);
      cells.push({ key: row.key, column: column.name, before: row.values[c], after });
    }
  }
  return { cells, questioned: [...questioned] };
}
