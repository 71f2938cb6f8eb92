import { describe, it, expect } from 'vitest';
import { filterLabel } from './filter-label.ts';

describe('filter chips', () => {
  it('read as the user wrote them, not in the wire encoding', () => {
    expect(filterLabel({ column: 'credit', op: '>', value: { i: '1000' } })).toBe('credit > 1000');
    expect(filterLabel({ column: 'credit', op: '<', value: { r: 2.5 } })).toBe('credit < 2.5');
    expect(filterLabel({ column: 'name', op: 'contains', value: 'ada' })).toBe('name contains "ada"');
    expect(filterLabel({ column: 'city', op: 'is null' })).toBe('city is null');
    expect(filterLabel({ column: 'credit', op: 'between', value: { i: '10' }, to: { r: 20.5 } })).toBe('credit between 10 and 20.5');
    expect(filterLabel({ column: 'joined', op: 'between', value: '2024-01-01', to: '2024-12-31' })).toBe('joined between "2024-01-01" and "2024-12-31"');
    expect(filterLabel({ column: '', op: 'search', value: 'ada' })).toBe('any column contains "ada"');
  });
});
