import { describe, expect, it } from 'vitest';
import { fitWidths, MAX_WIDTH, MIN_WIDTH } from './column-widths.ts';

describe('fitWidths', () => {
  const cols = [
    { name: 'id', type: 'INTEGER', pk: true },
    { name: 'email', type: 'TEXT', pk: false },
    { name: 'notes', type: '', pk: false },
  ];

  it('fits short columns narrow and long values wide, within bounds', () => {
    const rows = [
      [{ i: '1' }, 'ada.lovelace@example.com', 'x'.repeat(500)],
      [{ i: '2' }, 'a@b.c', null],
    ];
    const [id, email, notes] = fitWidths(cols, rows);
    expect(id).toBeGreaterThanOrEqual(MIN_WIDTH);
    expect(id).toBeLessThan(email);
    expect(email).toBeGreaterThan(24 * 7); // the whole address fits
    expect(notes).toBe(MAX_WIDTH);
  });

  it('never makes a column narrower than its header', () => {
    const [id] = fitWidths([{ name: 'a_rather_long_column_name', type: 'INTEGER', pk: false }], [[{ i: '1' }]]);
    expect(id).toBeGreaterThan('a_rather_long_column_name'.length * 7);
  });

  it('works without rows', () => {
    expect(fitWidths(cols, [])).toHaveLength(3);
  });
});
