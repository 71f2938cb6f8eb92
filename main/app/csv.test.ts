import { describe, it, expect } from 'vitest';
import { csvValue, parseCsv, toCsv } from './csv.ts';
import type { SqlValue } from '../../shared/values.ts';

describe('csv', () => {
  it('round-trips every storage class, NULL apart from the empty string', () => {
    const rows: SqlValue[][] = [
      [1n, 'plain', 2.5, null, Uint8Array.of(0, 255)],
      [-9007199254740993n, '', 5, 'a, "quoted"\nline', new Uint8Array()],
      [3n, '42', 1e300, ' padded ', 'X\'00\''],
    ];
    const csv = toCsv(['id', 'text', 'real', 'maybe', 'blob'], rows);
    const parsed = parseCsv(csv);
    expect(parsed[0].map(csvValue)).toEqual(['id', 'text', 'real', 'maybe', 'blob']);
    expect(parsed.slice(1).map((r) => r.map(csvValue))).toEqual(rows);
  });
  it('reads CSV written by other tools and refuses an unclosed quote', () => {
    expect(parseCsv('a,b\n1,x\n2,\n').map((r) => r.map(csvValue))).toEqual([['a', 'b'], [1n, 'x'], [2n, null]]);
    expect(() => parseCsv('a\n"open')).toThrow(/not closed/i);
  });
});
