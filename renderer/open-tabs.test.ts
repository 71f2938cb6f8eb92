import { describe, expect, it } from 'vitest';
import { OpenTabs } from './open-tabs.ts';

const names = (o: OpenTabs) => o.tabs.map((t) => (t.kind === 'table' ? t.table : t.title));

describe('open tabs', () => {
  it('a plain click shows a table in the tab shown, or in the tab that has it; Ctrl+click opens a new tab after the shown one', () => {
    const o = new OpenTabs();
    const first = o.openTable('customers');
    o.openTable('orders');
    expect(names(o)).toEqual(['orders']);
    expect(o.current!.id).not.toBe(first.id); // a fresh tab: the new table gets its own state
    o.openTable('products', true);
    o.openTable('customers', true);
    expect(names(o)).toEqual(['orders', 'products', 'customers']);
    o.activate(o.tabs[0].id);
    o.openTable('customers');
    expect(o.current).toMatchObject({ table: 'customers' });
    expect(names(o)).toEqual(['orders', 'products', 'customers']);
    o.openTable('events', true);
    expect(names(o)).toEqual(['orders', 'products', 'customers', 'events']);
  });

  it('consoles: the first is reused unless another is asked for; a table clicked from a console opens a tab', () => {
    const o = new OpenTabs();
    o.openTable('customers');
    o.openQuery();
    o.openQuery();
    o.openQuery(true);
    expect(names(o)).toEqual(['customers', 'SQL console', 'SQL console 2']);
    o.openTable('orders');
    expect(names(o)).toEqual(['customers', 'SQL console', 'SQL console 2', 'orders']);
  });

  it('closing shows the right neighbour, else the left one; keys move around; dropped tables lose their tabs', () => {
    const o = new OpenTabs();
    o.openTable('a');
    o.openTable('b', true);
    o.openTable('c', true);
    o.activate(o.tabs[1].id);
    o.close(o.tabs[1].id);
    expect(o.current).toMatchObject({ table: 'c' });
    o.close(o.current!.id);
    expect(o.current).toMatchObject({ table: 'a' });
    o.openTable('d', true);
    expect(o.neighbour(o.current!.id, 1)).toMatchObject({ table: 'a' });
    expect(o.neighbour(o.current!.id, -1)).toMatchObject({ table: 'a' });
    o.keepTables(['a']);
    expect(names(o)).toEqual(['a']);
    expect(o.current).toMatchObject({ table: 'a' });
    o.close(o.current!.id);
    expect(o.current).toBeNull();
  });

  it('a link shows its table, filtered, in a fresh tab in place of the table shown; from a console in a new tab', () => {
    const o = new OpenTabs();
    o.openTable('orders');
    o.openTable('customers', true);
    const shown = o.current!.id;
    const filters = [{ column: 'id', op: '=' as const, value: { i: '7' } }];
    o.openLink('customers', filters);
    expect(o.current).toMatchObject({ table: 'customers', filters });
    expect(o.current!.id).not.toBe(shown); // its own state, not the old tab's sort or scroll
    expect(names(o)).toEqual(['orders', 'customers']);
    o.openQuery();
    o.openLink('orders', filters);
    expect(names(o)).toEqual(['orders', 'customers', 'SQL console', 'orders']);
    // the sidebar's plain click finds the tab the link opened
    o.activate(o.tabs[1].id);
    expect(o.openTable('orders').id).toBe(o.tabs[0].id);
  });
});
