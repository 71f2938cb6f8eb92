import { describe, expect, it } from 'vitest';
import { csvFirstRecord, importColumnNames } from './csv-header.ts';

describe('csvFirstRecord', () => {
  it('reads quoted fields, doubled quotes and line breaks inside quotes', () => {
    expect(csvFirstRecord('a,"b,c","say ""hi""","two\r\nlines",\r\n1,2')).toEqual(['a', 'b,c', 'say "hi"', 'two\r\nlines', '']);
  });
  it('names columns as the import does', () => {
    expect(importColumnNames('sku,,price\n1,2,3', true)).toEqual(['sku', 'column2', 'price']);
    expect(importColumnNames('1,2\n', false)).toEqual(['column1', 'column2']);
    expect(importColumnNames('', true)).toEqual([]);
  });
});
