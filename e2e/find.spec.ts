// Finding rows (issue 15, habits): a search box matching text in any column (case-insensitive
// LIKE, % and _ literal) combined with the column filters, and range filters (between a and b);
// on 1,000,000 rows the search is timed and printed.
import { test, expect, type Page } from '@playwright/test';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';
import { useMillionRows } from './million-rows.ts';
import { cellAt, shootBoth } from './grid-helpers.ts';

const shots = join(import.meta.dirname, 'screenshots');
mkdirSync(shots, { recursive: true });

const search = (page: Page) => page.getByRole('searchbox', { name: 'Find in any column' });
/** the rows where any of these columns holds `text`, as SQLite's LIKE finds it */
const anyColumn = (columns: string[], text: string) => `(${columns.map((c) => `CAST(${c} AS TEXT) LIKE '%${text}%'`).join(' OR ')})`;

async function addFilter(page: Page, column: string, op: string, value?: string, to?: string) {
  await page.getByLabel('Filter column').selectOption(column);
  await page.getByLabel('Filter operator').selectOption(op);
  if (op === 'between') {
    await page.getByLabel('From', { exact: true }).fill(value!);
    await page.getByLabel('To', { exact: true }).fill(to!);
  } else if (value !== undefined) await page.getByLabel('Filter value').fill(value);
  await page.getByRole('button', { name: 'Apply' }).click();
}

test.describe('find in the demo database', () => {
  const app = useAppServer();
  const count = (where: string) => {
    const db = new Database(join(app.dataDir, 'demo.db'), { readonly: true });
    try {
      return db.prepare(`SELECT count(*) FROM customers WHERE ${where}`).pluck().get() as number;
    } finally {
      db.close();
    }
  };
  const COLUMNS = ['id', 'name', 'email', 'city', 'credit', 'joined'];

  test('the search box finds text in any column as you type, case-insensitively, with % and _ literal', async ({ page }) => {
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    await expect(grid).toHaveAttribute('aria-rowcount', '501');
    await search(page).fill('ADA');
    const ada = count(anyColumn(COLUMNS, 'ada'));
    expect(ada).toBeGreaterThan(0);
    await expect(grid).toHaveAttribute('aria-rowcount', String(ada + 1));
    await expect(page.locator('.foot')).toContainText(`${ada} rows`);
    for (let r = 2; r <= Math.min(ada, 8) + 1; r++) await expect(grid.locator(`[role=row][aria-rowindex="${r}"]`)).toContainText(/ada/i);
    await shootBoth(page, 'find-search');

    // a number's text: 41 is in ids, emails, credits and dates alike
    await search(page).fill('41');
    await expect(grid).toHaveAttribute('aria-rowcount', String(count(anyColumn(COLUMNS, '41')) + 1));

    // % and _ are characters, not wildcards
    await search(page).fill('%');
    await expect(grid).toHaveAttribute('aria-rowcount', '1');
    await expect(page.getByRole('status').filter({ hasText: 'No rows match the filters.' })).toBeVisible();
    await search(page).fill('_');
    await expect(grid).toHaveAttribute('aria-rowcount', '1');

    // Esc clears it
    await search(page).press('Escape');
    await expect(search(page)).toHaveValue('');
    await expect(grid).toHaveAttribute('aria-rowcount', '501');
  });

  test('search, column filters and ranges combine (AND); another table starts without them', async ({ page }) => {
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    await expect(grid).toHaveAttribute('aria-rowcount', '501');
    await addFilter(page, 'credit', 'between', '10', '20.5');
    await expect(page.getByRole('button', { name: /^credit between 10 and 20\.5\b/ })).toBeVisible();
    await expect(grid).toHaveAttribute('aria-rowcount', String(count('credit BETWEEN 10 AND 20.5') + 1));
    await search(page).fill('lyon');
    await search(page).press('Enter');
    const both = count(`credit BETWEEN 10 AND 20.5 AND ${anyColumn(COLUMNS, 'lyon')}`);
    expect(both).toBeGreaterThan(0);
    await expect(grid).toHaveAttribute('aria-rowcount', String(both + 1));
    await addFilter(page, 'joined', 'between', '2024-01-01', '2024-06-30');
    const three = count(`credit BETWEEN 10 AND 20.5 AND ${anyColumn(COLUMNS, 'lyon')} AND joined BETWEEN '2024-01-01' AND '2024-06-30'`);
    await expect(grid).toHaveAttribute('aria-rowcount', String(three + 1));
    await shootBoth(page, 'find-combined');

    // removing the range keeps the search; another table starts clear
    await page.getByRole('button', { name: /^joined between/ }).click();
    await expect(grid).toHaveAttribute('aria-rowcount', String(both + 1));
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /products/ }).click();
    await expect(search(page)).toHaveValue('');
    await expect(page.getByRole('grid', { name: 'Rows of products' })).toHaveAttribute('aria-rowcount', '201');
  });
});

test.describe('find in 1,000,000 rows', () => {
  const app = useMillionRows('million-find');
  const query = (sql: string) => {
    const db = new Database(app.file, { readonly: true });
    try {
      return db.prepare(sql).pluck().get();
    } finally {
      db.close();
    }
  };
  const count = (where: string) => query(`SELECT count(*) FROM big WHERE ${where}`) as number;
  /** the label of the match at this position of the result */
  const labelAt = (where: string, offset: number) => `^${query(`SELECT label FROM big WHERE ${where} ORDER BY id LIMIT 1 OFFSET ${offset}`) as string}$`;
  type Doc = { document: { querySelector(s: string): { textContent: string | null } | null } };
  /** ms from now until the row at this ARIA index shows text matching `pattern` in column 2 */
  const timeUntil = async (page: Page, rowIndex: number, pattern: string, act: () => Promise<unknown>) => {
    const t0 = await page.evaluate(() => performance.now());
    await act();
    await page.waitForFunction(
      ([r, p]) => new RegExp(p).test((globalThis as unknown as Doc).document.querySelector(`[role=row][aria-rowindex="${r}"] [aria-colindex="2"]`)?.textContent ?? ''),
      [rowIndex, pattern] as const,
      { polling: 'raf', timeout: 30_000 },
    );
    return Math.round((await page.evaluate(() => performance.now())) - t0);
  };

  test('a search over every column of 1M rows paints its first matches and counts them; windows of the result read fast anywhere', async ({ page }) => {
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of big' });
    await expect(grid).toHaveAttribute('aria-rowcount', '1000001');
    const figures: string[] = [];
    const few = count(anyColumn(['id', 'label', 'n'], 'row 5000'));
    figures.push(`"row 5000" (${few} matches): first match painted ${await timeUntil(page, 2, '^row 5000', async () => {
      await search(page).fill('row 5000');
      await search(page).press('Enter');
    })} ms`);
    await expect(grid).toHaveAttribute('aria-rowcount', String(few + 1));

    // many matches: every window of the result reads in about the same time
    const where = anyColumn(['id', 'label', 'n'], '77');
    const many = count(where);
    figures.push(`"77" (${many.toLocaleString('en')} matches): first match painted ${await timeUntil(page, 2, labelAt(where, 0), async () => {
      await search(page).fill('77');
      await search(page).press('Enter');
    })} ms`);
    await expect(grid).toHaveAttribute('aria-rowcount', String(many + 1));
    for (const fraction of [0.5, 0.9]) {
      const offset = Math.round((many - 20) * fraction);
      const ms = await timeUntil(page, offset + 2, labelAt(where, offset), () => grid.locator('[role=rowgroup]').evaluate((el, o) => (el.scrollTop = o * 28), offset));
      figures.push(`window at match ${offset.toLocaleString('en')}: ${ms} ms`);
    }

    // with a range on the same table
    await addFilter(page, 'n', 'between', '1000', '2000');
    const ranged = count(`${anyColumn(['id', 'label', 'n'], '77')} AND n BETWEEN 1000 AND 2000`);
    await expect(grid).toHaveAttribute('aria-rowcount', String(ranged + 1));
    await expect(cellAt(grid, 2, 2)).toHaveText(new RegExp(labelAt(`${where} AND n BETWEEN 1000 AND 2000`, 0)));
    console.log(`1M rows, search in any column: ${figures.join('; ')}`);
    await page.screenshot({ path: join(shots, 'million-find.png') });
  });
});
