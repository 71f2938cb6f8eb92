import { describe, expect, it } from 'vitest';
import { parseTsv, toTsv } from './tsv.ts';

describe('TSV', () => {
  it('round-trips ranges with tabs, newlines, quotes and empty cells', () => {
    const rows = [
      ['a', 'b\tc', ''],
      ['line\nbreak', 'say "hi"', 'NULL'],
    ];
    expect(parseTsv(toTsv(rows))).toEqual(rows);
  });
  it('reads what spreadsheets put on the clipboard', () => {
    expect(parseTsv('1\t2\r\n3\t4\r\n')).toEqual([['1', '2'], ['3', '4']]);
    expect(parseTsv('single')).toEqual([['single']]);
    expect(parseTsv('a\t\tb')).toEqual([['a', '', 'b']]);
  });
});
