// Foreign keys (issue 15, habits): a foreign-key cell links to the row it references (Ctrl+click,
// Ctrl+Enter, its arrow, or its context menu open the referenced table filtered to that row), and
// the Row tab lists the rows referencing the selected row, each table a link to them.
import { test, expect, type Page } from '@playwright/test';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';
import { cellAt, shootBoth } from './grid-helpers.ts';

const shots = join(import.meta.dirname, 'screenshots');
mkdirSync(shots, { recursive: true });

test.describe('foreign keys in the demo database', () => {
  const app = useAppServer();
  const query = (sql: string) => {
    const db = new Database(join(app.dataDir, 'demo.db'), { readonly: true });
    try {
      return db.prepare(sql).pluck().get();
    } finally {
      db.close();
    }
  };
  const orders = async (page: Page) => {
    await page.goto(app.url);
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /orders/ }).click();
    const grid = page.getByRole('grid', { name: 'Rows of orders' });
    await expect(cellAt(grid, 2, 2)).not.toHaveText('…');
    return grid;
  };
  const customerOf = (order: number) => String(query(`SELECT customer_id FROM orders WHERE id = ${order}`));
  /** the customers grid, filtered to one customer */
  const expectCustomer = async (page: Page, id: string) => {
    const customers = page.getByRole('grid', { name: 'Rows of customers' });
    await expect(customers).toHaveAttribute('aria-rowcount', '2');
    await expect(cellAt(customers, 2, 1)).toHaveText(id);
    await expect(page.getByRole('button', { name: `id = ${id}: remove this filter` })).toBeVisible();
  };

  test('a foreign-key cell links to the row it references: Ctrl+click, Ctrl+Enter, its arrow, its menu', async ({ page }) => {
    let grid = await orders(page);
    const cell = cellAt(grid, 2, 2); // order 1's customer_id
    await expect(cell.getByRole('button', { name: `Open customers: id = ${customerOf(1)}` })).toBeVisible();
    await expect(cellAt(grid, 2, 3).getByRole('button')).toHaveCount(0); // sku: no foreign key
    await page.screenshot({ path: join(shots, 'fk-links.png') });
    await cell.click({ modifiers: ['Control'] });
    await expectCustomer(page, customerOf(1));
    await expect(page.locator('.status')).toContainText(`Opened customers: id = ${customerOf(1)}`);

    grid = await orders(page);
    await cellAt(grid, 3, 2).click();
    await page.keyboard.press('Control+Enter');
    await expectCustomer(page, customerOf(2));

    grid = await orders(page);
    await cellAt(grid, 4, 2).getByRole('button', { name: /^Open customers/ }).click();
    await expectCustomer(page, customerOf(3));

    grid = await orders(page);
    await cellAt(grid, 5, 2).click({ button: 'right' });
    const menu = page.getByRole('menu', { name: 'Cell customer_id' });
    await expect(menu.getByRole('menuitem', { name: `Open customers: id = ${customerOf(4)}` })).toBeFocused();
    await page.screenshot({ path: join(shots, 'fk-menu.png') });
    await page.keyboard.press('Enter');
    await expectCustomer(page, customerOf(4));

    // Shift+F10 opens the same menu; Esc closes it and the grid has the keys again
    grid = await orders(page);
    await cellAt(grid, 6, 2).click();
    await page.keyboard.press('Shift+F10');
    await expect(page.getByRole('menu', { name: 'Cell customer_id' })).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(page.getByRole('menu')).toHaveCount(0);
    await page.keyboard.press('ArrowDown');
    await expect(cellAt(grid, 7, 2)).toHaveAttribute('aria-selected', 'true');
  });

  test('the Row tab lists the rows referencing the selected row; a link opens them, filtered', async ({ page }) => {
    await page.goto(app.url);
    const customers = page.getByRole('grid', { name: 'Rows of customers' });
    const id = '32';
    const n = query(`SELECT count(*) FROM orders WHERE customer_id = ${id}`) as number;
    expect(n).toBeGreaterThan(1);
    await cellAt(customers, Number(id) + 1, 2).click();
    const side = page.getByRole('complementary', { name: 'Details' });
    await side.getByRole('tab', { name: 'Row', exact: true }).click();
    const link = side.getByRole('button', { name: `orders.customer_id ${n} rows` });
    await expect(link).toBeVisible();
    await shootBoth(page, 'fk-referenced-by');
    await link.click();
    const grid = page.getByRole('grid', { name: 'Rows of orders' });
    await expect(grid).toHaveAttribute('aria-rowcount', String(n + 1));
    await expect(page.getByRole('button', { name: `customer_id = ${id}: remove this filter` })).toBeVisible();
    for (let r = 2; r <= n + 1; r++) await expect(cellAt(grid, r, 2)).toContainText(id);

    // and back: the row's foreign key in the Row and Value tabs
    await cellAt(grid, 2, 2).click();
    await side.getByRole('button', { name: `Open customers: id = ${id}` }).click();
    await expectCustomer(page, id);
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /orders/ }).click();
    await cellAt(page.getByRole('grid', { name: 'Rows of orders' }), 2, 2).click();
    await side.getByRole('tab', { name: 'Value' }).click();
    await side.getByRole('button', { name: `Open customers: id = ${customerOf(1)} ↗` }).click();
    await expectCustomer(page, customerOf(1));

    // a customer nobody ordered for (added by another program) says so
    const db = new Database(join(app.dataDir, 'demo.db'));
    db.prepare(`INSERT INTO customers (id, name) VALUES (9001, 'Nobody Ordered')`).run();
    db.close();
    await page.getByRole('button', { name: `id = ${customerOf(1)}: remove this filter` }).click();
    await side.getByRole('tab', { name: 'Row', exact: true }).click();
    await page.getByRole('searchbox', { name: 'Find in any column' }).fill('Nobody Ordered');
    await expect(cellAt(page.getByRole('grid', { name: 'Rows of customers' }), 2, 1)).toHaveText('9001');
    await cellAt(page.getByRole('grid', { name: 'Rows of customers' }), 2, 2).click();
    await expect(side.getByRole('button', { name: 'orders.customer_id none' })).toBeDisabled();
  });
});
