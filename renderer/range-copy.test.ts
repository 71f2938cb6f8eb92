import { describe, it, expect } from 'vitest';
import type { ColumnInfo, Row } from '../shared/api.ts';
import { copyRange, pastedCells } from './range-copy.ts';

const col = (name: string, type: string, notNull = false): ColumnInfo => ({ name, type, notNull, defaultSql: null, pk: 0 });
const columns = [col('name', 'TEXT'), col('credit', 'REAL'), col('qty', 'INTEGER', true)];
const rows: Row[] = [
  { key: [{ i: '1' }], values: ['Ada', null, { i: '3' }] },
  { key: [{ i: '2' }], values: ['Bob\nSmith', { r: 2.5 }, { i: '4' }] },
];
const rowAt = (i: number) => rows[i];

describe('range copy and paste', () => {
  it('copies a range as TSV, NULL as an empty field, line breaks quoted', () => {
    expect(copyRange(rowAt, { top: 0, bottom: 1, left: 0, right: 1 })).toEqual({ tsv: 'Ada\t\n"Bob\nSmith"\t2.5', cells: 4 });
  });

  it('pastes each field in its column class; an empty numeric field is NULL, not the empty string', () => {
    const { cells, questioned } = pastedCells('Cy\t\t7\nDee\t1.25\t8', rowAt, 0, 0, columns);
    expect(cells.map((c) => c.after)).toEqual(['Cy', null, { i: '7' }, 'Dee', { r: 1.25 }, { i: '8' }]);
    expect(questioned).toEqual([]);
  });

  it('lists the columns whose pasted values would change class', () => {
    const { cells, questioned } = pastedCells('12,5\t2.5', rowAt, 1, 1, columns);
    expect(cells.map((c) => c.after)).toEqual(['12,5', { r: 2.5 }]);
    expect(questioned).toEqual(['credit', 'qty']);
    // an empty field for a NOT NULL numeric column cannot be NULL: it is asked about
    expect(pastedCells('', rowAt, 0, 2, columns).questioned).toEqual(['qty']);
  });
});
