// A filter as the user wrote it, for its chip: `credit > 10`, `name contains "ada"`, `city is null`,
// `credit between 10 and 20`, `any column contains "ada"`.
import type { ColumnFilter } from '../shared/api.ts';
import type { WireValue } from '../shared/values.ts';
import { displayValue } from './cell-values.ts';

const shown = (v: WireValue) => (typeof v === 'string' ? JSON.stringify(v) : displayValue(v));

export function filterLabel(f: ColumnFilter): string {
  if (f.op === 'search') return `any column contains ${shown(f.value ?? '')}`;
  if (f.value === undefined) return `${f.column} ${f.op}`;
  if (f.op === 'between') return `${f.column} between ${shown(f.value)} and ${shown(f.to ?? null)}`;
  return `${f.column} ${f.op} ${shown(f.value)}`;
}
