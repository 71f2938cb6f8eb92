// Filtered and sorted views (issue 15, bugs 4, 5, 6, 9): the count and the rows are right after
// filtering while scrolled, a filter keeps the sort, a sort returns to the top, and filter chips
// read as the user wrote them, with LIKE semantics for "contains" and several filters per column.
import { test, expect, type Page } from '@playwright/test';
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';
import { exportTo } from './files.ts';
import { tmpdir } from 'node:os';
import { useMillionRows } from './million-rows.ts';
import { addFilter, cellAt } from './grid-helpers.ts';

const shots = join(import.meta.dirname, 'screenshots');
mkdirSync(shots, { recursive: true });


const rowgroup = (page: Page) => page.getByRole('grid').locator('[role=rowgroup]');
const scrollTo = (page: Page, fraction: number) => rowgroup(page).evaluate((el, f) => (el.scrollTop = (el.scrollHeight - el.clientHeight) * f), fraction);
const scrollTop = (page: Page) => rowgroup(page).evaluate((el) => el.scrollTop);
/** the ARIA row index of the first row in view */
const firstInView = (page: Page) => rowgroup(page).evaluate((el) => Math.floor(el.scrollTop / 28) + 2);

test.describe('filtered and sorted views of the demo database', () => {
  const app = useAppServer();
  const query = (sql: string) => {
    const db = new Database(join(app.dataDir, 'demo.db'), { readonly: true });
    try {
      return db.prepare(sql).pluck().all();
    } finally {
      db.close();
    }
  };

  test('bug 4: filtering while scrolled to the middle gives the right count and real rows to the end', async ({ page }) => {
    await page.goto(app.url);
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /events/ }).click();
    const grid = page.getByRole('grid', { name: 'Rows of events' });
    await expect(grid).toHaveAttribute('aria-rowcount', '100001');
    await scrollTo(page, 0.5);
    const middle = await firstInView(page);
    await expect(cellAt(grid, middle + 1, 1)).toHaveText(String(middle));
    await addFilter(page, 'kind', '=', 'buy');
    await expect(grid).toHaveAttribute('aria-rowcount', '25001');
    await expect(page.locator('.foot')).toContainText('25,000 rows');
    expect(await scrollTop(page)).toBe(0);
    await expect(cellAt(grid, 2, 2)).toHaveText('buy');
    await rowgroup(page).focus();
    await page.keyboard.press('Control+End');
    await expect(cellAt(grid, 25001, 1)).toHaveText('99998');
    await expect(page.locator('.foot')).toContainText('25,000 rows');
  });

  test('bug 5: a filter keeps the sort (and the export of the view follows both); a third click clears it', async ({ page }) => {
    await page.goto(app.url);
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /products/ }).click();
    const grid = page.getByRole('grid', { name: 'Rows of products' });
    const price = grid.getByRole('columnheader', { name: /price/ });
    await price.getByRole('button').click();
    await price.getByRole('button').click();
    await expect(price).toHaveAttribute('aria-sort', 'descending');
    await addFilter(page, 'stock', '>', '40');
    const expected = query(`SELECT count(*) FROM products WHERE stock > 40`)[0] as number;
    await expect(grid).toHaveAttribute('aria-rowcount', String(expected + 1));
    await expect(price).toHaveAttribute('aria-sort', 'descending');
    const top = query(`SELECT price FROM products WHERE stock > 40 ORDER BY price DESC, sku LIMIT 1`)[0] as number;
    await expect(cellAt(grid, 2, 3)).toHaveText(String(top));
    const out = join(tmpdir(), `crr-view-${process.pid}.csv`);
    await exportTo(page, out);
    const lines = readFileSync(out, 'utf8').trim().split(/\r\n/).slice(1);
    const prices = lines.map((l) => Number(l.split(',')[2]));
    expect(prices).toHaveLength(expected);
    expect(prices).toEqual([...prices].sort((a, b) => b - a));
    // third click: back to the table's own order
    await price.getByRole('button').click();
    await expect(price).toHaveAttribute('aria-sort', 'none');
    const first = query(`SELECT sku FROM products WHERE stock > 40 ORDER BY sku LIMIT 1`)[0] as string;
    await expect(cellAt(grid, 2, 1)).toHaveText(first);
  });

  test('bug 6: a sort returns to the top and keeps the selected row selected when it lands in view', async ({ page }) => {
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    await expect(cellAt(grid, 2, 2)).not.toHaveText('…');
    // a row of the first screen that sorting by name keeps in the first screen
    const byName = query(`SELECT id FROM customers ORDER BY name, id LIMIT 15`) as number[];
    const kept = byName.find((id) => id <= 15)!;
    expect(kept).toBeDefined();
    await cellAt(grid, kept + 1, 3).click();
    await grid.getByRole('columnheader', { name: /name/ }).getByRole('button').click();
    await expect(grid.getByRole('columnheader', { name: /name/ })).toHaveAttribute('aria-sort', 'ascending');
    const at = byName.indexOf(kept) + 2;
    await expect(cellAt(grid, at, 1)).toHaveText(String(kept));
    await expect(cellAt(grid, at, 3)).toHaveAttribute('aria-selected', 'true');
    // scrolled down, a sort goes back to the top; a selected row that lands out of view is let go
    await scrollTo(page, 0.6);
    const row = await firstInView(page);
    await cellAt(grid, row + 1, 2).click();
    await grid.getByRole('columnheader', { name: /email/ }).getByRole('button').click();
    await expect.poll(() => scrollTop(page)).toBe(0);
    const firstEmail = query(`SELECT email FROM customers ORDER BY email, id LIMIT 1`)[0] as string;
    await expect(cellAt(grid, 2, 3)).toHaveText(firstEmail);
    await expect(cellAt(grid, 2, 2)).toHaveAttribute('aria-selected', 'true');
  });

  test('bug 9: chips read as written, "contains" is case-insensitive LIKE (with % and _ literal), several filters per column, "no rows match"', async ({ page }) => {
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    await expect(grid).toHaveAttribute('aria-rowcount', '501');
    const count = (where: string) => query(`SELECT count(*) FROM customers WHERE ${where}`)[0] as number;

    // two filters on one column, both kept, chips in the user's words
    await addFilter(page, 'credit', '>', '10');
    await addFilter(page, 'credit', '<', '20');
    await expect(page.getByRole('button', { name: /^credit > 10\b/ })).toBeVisible();
    await expect(page.getByRole('button', { name: /^credit < 20\b/ })).toBeVisible();
    await expect(page.locator('.toolbar')).not.toContainText('{"');
    await expect(grid).toHaveAttribute('aria-rowcount', String(count('credit > 10 AND credit < 20') + 1));
    await page.screenshot({ path: join(shots, 'filter-chips.png') });
    await page.getByRole('button', { name: /^credit > 10\b/ }).click();
    await page.getByRole('button', { name: /^credit < 20\b/ }).click();
    await expect(grid).toHaveAttribute('aria-rowcount', '501');

    // contains: case-insensitive, like DB Browser for SQLite and TablePlus
    await addFilter(page, 'name', 'contains', 'ada');
    const ada = count(`name LIKE '%ada%'`);
    expect(ada).toBeGreaterThan(0);
    await expect(grid).toHaveAttribute('aria-rowcount', String(ada + 1));
    await expect(page.getByRole('button', { name: /^name contains "ada"/ })).toBeVisible();
    await page.getByRole('button', { name: /^name contains "ada"/ }).click();

    // % and _ are literal characters, not wildcards: no email holds an underscore
    await addFilter(page, 'email', 'contains', '_');
    await expect(grid).toHaveAttribute('aria-rowcount', '1');
    await expect(page.getByRole('status').filter({ hasText: 'No rows match the filters.' })).toBeVisible();
    await page.screenshot({ path: join(shots, 'no-rows-match.png') });
    await page.getByRole('button', { name: /^email contains "_"/ }).click();
    await expect(page.getByText('No rows match the filters.')).toBeHidden();
    await expect(grid).toHaveAttribute('aria-rowcount', '501');
  });
});

test.describe('sorting and filtering 1,000,000 rows', () => {
  const app = useMillionRows('million-views');
  const labelAt = (offset: number) => {
    const db = new Database(app.file, { readonly: true });
    try {
      return db.prepare(`SELECT label FROM big ORDER BY label, id LIMIT 1 OFFSET ?`).pluck().get(offset) as string;
    } finally {
      db.close();
    }
  };
  type Doc = { document: { querySelector(s: string): { textContent: string | null } | null } };
  /** ms from now until the row at this ARIA index shows `text` in column 2, checked every frame */
  const timeUntil = async (page: Page, rowIndex: number, text: string, scroll: () => Promise<unknown>) => {
    const t0 = await page.evaluate(() => performance.now());
    await scroll();
    await page.waitForFunction(
      ([r, t]) => (globalThis as unknown as Doc).document.querySelector(`[role=row][aria-rowindex="${r}"] [aria-colindex="2"]`)?.textContent?.trim() === t,
      [rowIndex, text] as const,
      { polling: 'raf', timeout: 30_000 },
    );
    return Math.round((await page.evaluate(() => performance.now())) - t0);
  };

  /** the big table, scrolled to its middle rows (painted) */
  const scrolledToTheMiddle = async (page: Page) => {
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of big' });
    await expect(grid).toHaveAttribute('aria-rowcount', '1000001');
    await scrollTo(page, 0.5);
    const middle = await firstInView(page);
    await expect(cellAt(grid, middle + 1, 1)).toHaveText(String(middle));
    return grid;
  };

  test('bug 4: filtering while scrolled leaves no rows past the real end', async ({ page }) => {
    const grid = await scrolledToTheMiddle(page);
    await addFilter(page, 'label', 'contains', 'row 99999');
    await expect(grid).toHaveAttribute('aria-rowcount', '12'); // row 99999 and row 999990..999999
    await expect(page.locator('.foot')).toContainText('11 rows');
    for (let r = 2; r <= 12; r++) await expect(cellAt(grid, r, 2)).toHaveText(/^row 99999/);
    await expect(grid.locator('.loading')).toHaveCount(0);
  });

  test('bug 6: a sort on an unindexed column returns to the top; windows anywhere read in time independent of the position', async ({ page }) => {
    const grid = await scrolledToTheMiddle(page);
    const label = grid.getByRole('columnheader', { name: /label/ }).getByRole('button');
    const prepared = await timeUntil(page, 2, labelAt(0), () => label.click());
    expect(await scrollTop(page)).toBe(0);
    const figures: string[] = [`sort prepared and first window ${prepared} ms`];
    for (const fraction of [0.5, 0.25, 0.9, 1]) {
      const offset = Math.min(999_999, Math.round((1_000_000 - 20) * fraction));
      const ms = await timeUntil(page, offset + 2, labelAt(offset), () => rowgroup(page).evaluate((el, o) => (el.scrollTop = o * 28), offset));
      figures.push(`window at row ${offset.toLocaleString('en')}: ${ms} ms`);
    }
    console.log(`1M rows sorted by an unindexed TEXT column: ${figures.join('; ')}`);
    await page.screenshot({ path: join(shots, 'million-sorted.png') });
  });
});
