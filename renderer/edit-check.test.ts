import { describe, it, expect } from 'vitest';
import { checkEdit } from './edit-check.ts';
import { affinity, oneLine } from './cell-values.ts';

const col = (type: string, notNull = false) => ({ name: 'c', type, notNull });

describe('edit check', () => {
  it('follows SQLite affinity rules for declared types', () => {
    expect(['INTEGER', 'BIGINT', 'TEXT', 'VARCHAR(10)', 'BLOB', '', 'REAL', 'DOUBLE', 'NUMERIC', 'DATE'].map(affinity)).toEqual([
      'integer', 'integer', 'text', 'text', 'blob', 'blob', 'real', 'real', 'numeric', 'numeric',
    ]);
  });

  it('lets values of the column class through without a question', () => {
    expect(checkEdit('12.5', { r: 1 }, col('REAL'))).toEqual({ value: { r: 12.5 }, question: null });
    expect(checkEdit('12', null, col('REAL'))).toEqual({ value: { r: 12 }, question: null });
    expect(checkEdit('7', null, col('INTEGER'))).toEqual({ value: { i: '7' }, question: null });
    expect(checkEdit('3.25', null, col('DECIMAL(10,2)'))).toEqual({ value: { r: 3.25 }, question: null });
    expect(checkEdit('hello', null, col('TEXT'))).toEqual({ value: 'hello', question: null });
    expect(checkEdit('', 'x', col('TEXT'))).toEqual({ value: '', question: null });
    // DATE and BOOLEAN columns hold text by habit: no question
    expect(checkEdit('2024-05-01', null, col('DATE')).question).toBeNull();
  });

  it('asks before text lands in a numeric column', () => {
    const r = checkEdit('12,5', { r: 3 }, col('REAL'));
    expect(r.value).toBe('12,5');
    expect(r.question?.message).toContain('would be stored as TEXT');
    expect(r.question?.choices).toEqual([{ label: 'Store as TEXT', value: '12,5' }]);
    expect(checkEdit('abc', null, col('NUMERIC')).question?.message).toContain('TEXT');
  });

  it('asks before a fraction lands as REAL in an INTEGER column', () => {
    const r = checkEdit('2.5', { i: '2' }, col('INTEGER'));
    expect(r.value).toEqual({ r: 2.5 });
    expect(r.question?.message).toContain('not a whole number');
    expect(r.question?.choices[0]).toEqual({ label: 'Store as REAL', value: { r: 2.5 } });
  });

  it('offers NULL for an emptied numeric cell, and never stores the empty string silently', () => {
    const r = checkEdit('', { r: 3 }, col('REAL'));
    expect(r.question?.choices).toEqual([{ label: 'NULL', value: null }, { label: "Empty text ''", value: '' }]);
    const strict = checkEdit('', { i: '3' }, col('INTEGER', true));
    expect(strict.question?.choices).toEqual([{ label: "Store ''", value: '' }]);
  });

  it('asks nothing when the cell already held that class', () => {
    expect(checkEdit('13,5', '12,5', col('REAL')).question).toBeNull();
  });

  it('shows line breaks and tabs in one line', () => {
    expect(oneLine('a\nb\r\nc\td')).toBe('a↵b↵c→d');
  });
});
