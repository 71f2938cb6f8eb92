// A filter as the user wrote it, for its chip: `credit > 10`, `name contains "ada"`, `city is null`.
import type { ColumnFilter } from '../shared/api.ts';
import { displayValue } from './cell-values.ts';

export function filterLabel(f: ColumnFilter): string {
  if (f.value === undefined) return `${f.column} ${f.op}`;
  const value = typeof f.value === 'string' ? JSON.stringify(f.value) : displayValue(f.value);
  return `${f.column} ${f.op} ${value}`;
}
