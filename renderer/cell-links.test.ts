import { describe, expect, it } from 'vitest';
import { booleanState, isBooleanColumn, linkOf, toggled } from './cell-links.ts';

describe('foreign-key links', () => {
  const keys = [
    { table: 'orders', columns: ['customer_id'], refTable: 'customers', refColumns: ['id'] },
    { table: 'orders', columns: ['country', 'code'], refTable: 'regions', refColumns: ['country', 'code'] },
  ];
  const columns = [{ name: 'id' }, { name: 'customer_id' }, { name: 'country' }, { name: 'code' }];
  const row = (values: (string | { i: string } | null)[]) => ({ key: [{ i: '1' }], values });

  it('opens the referenced table filtered to the referenced row, composite keys included', () => {
    expect(linkOf(keys, columns, row([{ i: '1' }, { i: '5' }, 'FR', '69']), 'customer_id')).toEqual({
      table: 'customers',
      filters: [{ column: 'id', op: '=', value: { i: '5' } }],
      label: 'customers: id = 5',
    });
    expect(linkOf(keys, columns, row([{ i: '1' }, { i: '5' }, 'FR', '69']), 'code')?.filters).toEqual([
      { column: 'country', op: '=', value: 'FR' },
      { column: 'code', op: '=', value: '69' },
    ]);
  });

  it('offers no link for other columns or a NULL in the key', () => {
    expect(linkOf(keys, columns, row([{ i: '1' }, { i: '5' }, 'FR', '69']), 'id')).toBeNull();
    expect(linkOf(keys, columns, row([{ i: '1' }, null, 'FR', '69']), 'customer_id')).toBeNull();
    expect(linkOf(keys, columns, row([{ i: '1' }, { i: '5' }, null, '69']), 'code')).toBeNull();
    expect(linkOf(undefined, columns, row([{ i: '1' }, { i: '5' }, 'FR', '69']), 'customer_id')).toBeNull();
  });
});

describe('BOOLEAN cells', () => {
  it('are checkboxes for 0, 1 and NULL only; a click stores an integer, NULL stays NULL until clicked', () => {
    expect(['BOOLEAN', 'bool', 'INTEGER', 'TEXT'].map(isBooleanColumn)).toEqual([true, true, false, false]);
    expect([{ i: '1' }, { i: '0' }, null, { i: '2' }, '1', 'true', { r: 1 }].map(booleanState)).toEqual([true, false, null, undefined, undefined, undefined, undefined]);
    expect(toggled({ i: '1' })).toEqual({ i: '0' });
    expect(toggled({ i: '0' })).toEqual({ i: '1' });
    expect(toggled(null)).toEqual({ i: '1' });
    expect(toggled('yes')).toBeUndefined();
  });
});
