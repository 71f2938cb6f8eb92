import { describe, it, expect } from 'vitest';
import { displayValue, editText, parseEdit } from './cell-values.ts';
import { pagesFor, visibleRange, PageCache, PAGE_ROWS, totalAfterPage } from './windowing.ts';

describe('cell values', () => {
  it('shows each storage class distinctly', () => {
    expect(displayValue(null)).toBe('NULL');
    expect(displayValue('')).toBe('');
    expect(displayValue({ i: '9007199254740993' })).toBe('9007199254740993');
    expect(displayValue({ r: 5 })).toBe('5.0');
    expect(displayValue({ r: 2.5 })).toBe('2.5');
    expect(displayValue({ b: 'AP8=' })).toBe('2 bytes · 00 ff');
    expect(editText(null)).toBe('');
  });
  it('keeps an edit in the column class', () => {
    expect(parseEdit('42', { i: '1' }, 'INTEGER')).toEqual({ i: '42' });
    expect(parseEdit('9007199254740993', null, 'INT')).toEqual({ i: '9007199254740993' });
    expect(parseEdit('4.5', { i: '1' }, 'INTEGER')).toEqual({ r: 4.5 });
    expect(parseEdit('3', { r: 1.5 }, 'REAL')).toEqual({ r: 3 });
    expect(parseEdit('3', 'x', 'TEXT')).toBe('3');
    expect(parseEdit('7', { i: '1' }, '')).toEqual({ i: '7' });
    expect(parseEdit('seven', { i: '1' }, '')).toBe('seven');
    expect(parseEdit('', null, 'TEXT')).toBe('');
  });
  it('edits and copies a blob as an X\'…\' literal that parses back to the same bytes', () => {
    expect(editText({ b: 'AP8=' })).toBe("X'00FF'");
    expect(parseEdit("X'00FF'", { b: 'AP8=' }, 'BLOB')).toEqual({ b: 'AP8=' });
    expect(parseEdit("x'cafe'", null, '')).toEqual({ b: 'yv4=' });
    expect(parseEdit("x''", { b: 'AP8=' }, 'BLOB')).toEqual({ b: '' });
    // in a TEXT column the literal is text, unless the cell held a blob
    expect(parseEdit("X'00'", 'a', 'TEXT')).toBe("X'00'");
    expect(parseEdit("X'0'", { b: 'AP8=' }, 'BLOB')).toBe("X'0'");
  });
});

describe('windowing', () => {
  it('covers the viewport plus overscan, clamped to the table', () => {
    expect(visibleRange(0, 240, 24, 1_000_000, 5)).toEqual({ first: 0, end: 15 });
    expect(visibleRange(24 * 999_990, 240, 24, 1_000_000, 5)).toEqual({ first: 999_985, end: 1_000_000 });
    expect(visibleRange(0, 240, 24, 0)).toEqual({ first: 0, end: 0 });
  });
  it('fetches whole pages and drops far ones', () => {
    expect(pagesFor({ first: 95, end: 205 })).toEqual([0, 1, 2]);
    expect(pagesFor({ first: 5, end: 5 })).toEqual([]);
    const cache = new PageCache<number>(2);
    cache.put(0, [1, 2], 0);
    cache.put(1, [3], 1);
    cache.put(9, [4], 9);
    expect(cache.has(0)).toBe(false);
    expect(cache.row(9 * PAGE_ROWS)).toBe(4);
  });
  it('learns the row count from pages, and not from an empty page past the end', () => {
    const guess = { total: 1_000_000, exact: false };
    // a page read from the middle of a view that has since become 11 rows long
    expect(totalAfterPage(guess, 5000, 0, true)).toEqual({ total: 500_000, exact: false });
    expect(totalAfterPage({ total: 11, exact: true }, 5000, 0, true)).toEqual({ total: 11, exact: true });
    expect(totalAfterPage(guess, 0, 11, true)).toEqual({ total: 11, exact: true });
    expect(totalAfterPage(guess, 0, 0, true)).toEqual({ total: 0, exact: true });
    expect(totalAfterPage({ total: 1, exact: false }, 0, PAGE_ROWS, false)).toEqual({ total: PAGE_ROWS, exact: false });
    expect(totalAfterPage({ total: 25_000, exact: true }, 3, PAGE_ROWS, false)).toEqual({ total: 25_000, exact: true });
    // rows beyond an exact count (rows added since it was taken): the count grows and is a guess again
    expect(totalAfterPage({ total: 150, exact: true }, 1, PAGE_ROWS, false)).toEqual({ total: 200, exact: false });
  });
  it('shows the old rows of a refreshed view until their pages are read again', () => {
    const cache = new PageCache<string>();
    cache.put(0, ['a', 'b'], 0);
    cache.put(1, ['c'], 1);
    let fresh = cache.refresh();
    expect(fresh.has(0)).toBe(false);
    expect(fresh.row(1)).toBe('b');
    fresh.put(0, ['A'], 0); // the page now holds one row: its second row is gone, not stale
    expect([fresh.row(0), fresh.row(1), fresh.row(PAGE_ROWS)]).toEqual(['A', undefined, 'c']);
    // a refresh of a refresh keeps standing in with the newest rows of each page
    fresh = fresh.refresh();
    expect([fresh.row(0), fresh.row(PAGE_ROWS)]).toEqual(['A', 'c']);
  });
});
