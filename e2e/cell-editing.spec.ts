// Editing cells without changing data silently (issue 15, bugs 1-3): line breaks survive an edit,
// a value that would change storage class against the column's affinity is questioned first, and
// keystrokes typed on a selected cell (or right after Tab) start an edit instead of being lost.
import { test, expect, type Page } from '@playwright/test';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';
import { cellAt } from './grid-helpers.ts';

const shots = join(import.meta.dirname, 'screenshots');
mkdirSync(shots, { recursive: true });

test.describe('editing cells keeps what the user meant', () => {
  const app = useAppServer();
  /** another program's view of the file: sets up values and reads what the app stored */
  const sql = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(join(app.dataDir, 'demo.db'));
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  const stored = (query: string, ...params: unknown[]) => sql((db) => db.prepare(query).get(...params));
  const customers = (page: Page) => page.getByRole('grid', { name: 'Rows of customers' });

  test('bug 1: an edit of a multi-line text cell keeps its line breaks; Shift+Enter adds one', async ({ page }) => {
    sql((db) => db.prepare(`UPDATE customers SET name = 'line one' || char(10) || 'line two' WHERE id = 8`).run());
    await page.goto(app.url);
    const grid = customers(page);
    const name = cellAt(grid, 9, 2);
    await expect(name).toContainText('line one');
    await expect(name).toContainText('line two');
    // the steps of the report: double-click, End, type, Enter
    await name.dblclick();
    const editor = grid.getByRole('textbox', { name: 'Edit name' });
    await expect(editor).toHaveValue('line one\nline two');
    await page.keyboard.press('End');
    await page.keyboard.type(' and more');
    await page.screenshot({ path: join(shots, 'multiline-editor.png') });
    await page.keyboard.press('Enter');
    await expect(editor).toBeHidden();
    await expect.poll(() => stored(`SELECT name FROM customers WHERE id = 8`)).toEqual({ name: 'line one\nline two and more' });

    // Shift+Enter puts a line break in the text; Enter saves
    const other = cellAt(grid, 10, 2);
    await other.dblclick();
    await page.keyboard.type('first');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('second');
    await page.keyboard.press('Enter');
    await expect.poll(() => stored(`SELECT name FROM customers WHERE id = 9`)).toEqual({ name: 'first\nsecond' });
    await expect(other).toContainText('second');
  });

  test('bug 2: text bound for a REAL column is questioned (Esc cancels); an emptied numeric cell offers NULL, never the empty string', async ({ page }) => {
    await page.goto(app.url);
    const grid = customers(page);
    const credit = cellAt(grid, 11, 5); // customer 10
    await expect(credit).not.toHaveText('…');
    const before = stored(`SELECT credit, typeof(credit) AS t FROM customers WHERE id = 10`);
    expect(before).toMatchObject({ t: 'real' });

    // "12,5" is not a number: the editor says what would happen and waits
    await credit.dblclick();
    const editor = grid.getByRole('textbox', { name: 'Edit credit' });
    await editor.fill('12,5');
    await editor.press('Enter');
    const warning = grid.getByRole('alert');
    await expect(warning).toContainText('would be stored as TEXT');
    await expect(warning).toContainText('REAL');
    await page.screenshot({ path: join(shots, 'class-warning.png') });
    expect(stored(`SELECT credit, typeof(credit) AS t FROM customers WHERE id = 10`)).toEqual(before);
    // Esc cancels: nothing written
    await page.keyboard.press('Escape');
    await expect(editor).toBeHidden();
    await expect(warning).toBeHidden();
    expect(stored(`SELECT credit, typeof(credit) AS t FROM customers WHERE id = 10`)).toEqual(before);

    // a real number is written as REAL without a question
    await credit.dblclick();
    await editor.fill('12.5');
    await editor.press('Enter');
    await expect(editor).toBeHidden();
    await expect.poll(() => stored(`SELECT credit, typeof(credit) AS t FROM customers WHERE id = 10`)).toEqual({ credit: 12.5, t: 'real' });

    // the user insists on the text: a second Enter stores it, as TEXT, and says so
    await credit.dblclick();
    await editor.fill('12,5');
    await editor.press('Enter');
    await expect(warning).toBeVisible();
    await editor.press('Enter');
    await expect(editor).toBeHidden();
    await expect.poll(() => stored(`SELECT credit, typeof(credit) AS t FROM customers WHERE id = 10`)).toEqual({ credit: '12,5', t: 'text' });

    // emptied: the editor offers NULL (Enter takes it), never stores '' silently
    const other = cellAt(grid, 12, 5); // customer 11
    await other.dblclick();
    await editor.fill('');
    await editor.press('Enter');
    await expect(warning).toContainText('NULL');
    await page.screenshot({ path: join(shots, 'empty-numeric.png') });
    expect(stored(`SELECT typeof(credit) AS t FROM customers WHERE id = 11`)).toEqual({ t: 'real' });
    await editor.press('Enter');
    await expect(editor).toBeHidden();
    await expect.poll(() => stored(`SELECT typeof(credit) AS t FROM customers WHERE id = 11`)).toEqual({ t: 'null' });
    await expect(other).toHaveText('NULL');

    // an INTEGER column questions a fraction (it would become REAL)
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /products/ }).click();
    const products = page.getByRole('grid', { name: 'Rows of products' });
    const stock = cellAt(products, 3, 4); // SKU-0002
    await expect(stock).not.toHaveText('…');
    await stock.dblclick();
    await products.getByRole('textbox', { name: 'Edit stock' }).fill('2.5');
    await products.getByRole('textbox', { name: 'Edit stock' }).press('Enter');
    await expect(products.getByRole('alert')).toContainText('REAL');
    await page.keyboard.press('Escape');
    expect(stored(`SELECT typeof(stock) AS t FROM products WHERE sku = 'SKU-0002'`)).toEqual({ t: 'integer' });
  });

  test('bug 3: typing on a selected cell edits it; after Tab, typing edits the next cell', async ({ page }) => {
    await page.goto(app.url);
    const grid = customers(page);
    const city = cellAt(grid, 14, 4); // customer 13
    await expect(city).not.toHaveText('…');
    await city.click();
    await page.keyboard.type('Typed City');
    await page.keyboard.press('Enter');
    await expect(city).toHaveText('Typed City');
    expect(stored(`SELECT city FROM customers WHERE id = 13`)).toEqual({ city: 'Typed City' });

    // the report's steps: Add row, type the name, Tab, type the email, Enter
    await page.getByRole('button', { name: 'Add row' }).click();
    await expect(grid.getByRole('textbox', { name: 'Edit name' })).toBeFocused();
    await page.keyboard.type('Tab Person');
    await page.keyboard.press('Tab');
    await page.keyboard.type('tab@example.com');
    await page.keyboard.press('Enter');
    await expect(grid.getByRole('textbox')).toHaveCount(0);
    await expect
      .poll(() => stored(`SELECT name, email FROM customers WHERE id = (SELECT max(id) FROM customers)`))
      .toEqual({ name: 'Tab Person', email: 'tab@example.com' });
  });
});
