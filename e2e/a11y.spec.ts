// Accessibility of the main screens, checked by axe-core (WCAG 2.1 A/AA rules): no serious or
// critical violations on the grid, editing, the side panel's tabs, the SQL console and the dialogs,
// in the light and in the dark colour scheme (contrast included), as the system sets it.
import { test, expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';
import { startImport } from './files.ts';

async function violations(page: Page, screen: string): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const scheme = (await page.evaluate('matchMedia("(prefers-color-scheme: dark)").matches')) ? 'dark' : 'light';
  return r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${screen} (${scheme}): ${v.id} (${v.impact}) ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

for (const colorScheme of ['light', 'dark'] as const) test.describe(`accessibility (${colorScheme})`, () => {
  const app = useAppServer();
  // axe injects its engine as a script: the page's strict CSP (no eval) is bypassed for the checker only
  test.use({ bypassCSP: true, colorScheme });

  test('main screens have no serious or critical axe violations', async ({ page }) => {
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    await expect(grid.locator('[role=row][aria-rowindex="2"] [role=gridcell][aria-colindex="2"]')).not.toHaveText('…');
    const found: string[] = [];
    found.push(...(await violations(page, 'grid')));
    await grid.locator('[role=row][aria-rowindex="2"] [role=gridcell][aria-colindex="2"]').dblclick();
    found.push(...(await violations(page, 'editing')));
    await page.keyboard.press('Escape');
    await grid.locator('[role=row][aria-rowindex="3"] [role=gridcell][aria-colindex="3"]').click({ button: 'right' });
    await expect(page.getByRole('dialog', { name: 'History of email' })).toBeVisible();
    found.push(...(await violations(page, 'cell history popover')));
    await page.keyboard.press('Escape');
    for (const tab of ['Row', 'History', 'Conflicts', 'Peers']) {
      await page.getByRole('complementary', { name: 'Details' }).getByRole('tab', { name: tab, exact: true }).click();
      found.push(...(await violations(page, `side panel ${tab}`)));
    }
    await page.getByRole('tab', { name: 'Schema' }).click();
    found.push(...(await violations(page, 'schema')));
    await page.getByRole('button', { name: 'SQL console', exact: true }).click();
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(page.getByRole('grid', { name: 'Query results' })).toBeVisible();
    found.push(...(await violations(page, 'SQL console')));
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /products/ }).click();
    await page.getByRole('button', { name: 'Add row' }).click();
    await expect(page.getByRole('dialog', { name: 'New row in products' })).toBeVisible();
    found.push(...(await violations(page, 'new row dialog')));
    await page.getByRole('dialog', { name: 'New row in products' }).getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: 'Open…' }).click();
    found.push(...(await violations(page, 'open dialog')));
    expect(found).toEqual([]);
  });

  test('structure editing and the SQL console have no serious or critical axe violations', async ({ page }) => {
    await page.goto(app.url);
    const found: string[] = [];
    const tables = page.getByRole('navigation', { name: 'Tables' });
    await tables.getByRole('button', { name: 'New table…' }).click();
    const create = page.getByRole('dialog', { name: 'New table' });
    await create.getByLabel('Table name').fill('a11y');
    await expect(create.getByRole('region', { name: 'SQL it will run' })).toContainText('CREATE TABLE');
    found.push(...(await violations(page, 'new table dialog')));
    await create.getByRole('button', { name: 'Cancel' }).click();
    await tables.getByRole('button', { name: /orders/ }).click();
    await page.getByRole('button', { name: 'Enable collaboration' }).click();
    found.push(...(await violations(page, 'refusal with Fix…')));
    await page.getByRole('alert').getByRole('button', { name: 'Fix…' }).click();
    const fix = page.getByRole('dialog', { name: 'Make orders collaborative' });
    await expect(fix.getByRole('region', { name: 'SQL it will run' })).toContainText('CREATE TABLE');
    found.push(...(await violations(page, 'fix dialog')));
    await fix.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('tab', { name: 'Schema' }).click();
    found.push(...(await violations(page, 'structure editor')));
    await page.getByRole('button', { name: 'Drop quantity…' }).click();
    const drop = page.getByRole('dialog', { name: 'Drop column quantity' });
    await expect(drop.getByRole('region', { name: 'SQL it will run' })).toContainText('DROP COLUMN');
    found.push(...(await violations(page, 'schema change dialog')));
    await drop.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'SQL console', exact: true }).click();
    await page.getByLabel('SQL to run').fill(`UPDATE orders SET quantity = quantity; SELECT 1 AS one;`);
    await page.getByLabel('SQL to run').press('Control+Enter');
    await expect(page.getByRole('region', { name: 'What the script did' })).toBeVisible();
    found.push(...(await violations(page, 'SQL console report and history')));
    await page.getByLabel('SQL to run').fill(`UPDATE orders SET nosuch = 1`);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(page.getByRole('alert')).toBeVisible();
    found.push(...(await violations(page, 'SQL console error')));
    await page.getByRole('tablist', { name: 'Open tables and consoles' }).getByRole('tab', { name: 'orders' }).click();
    await page.getByRole('tab', { name: 'Rows' }).click();
    const csv = join(app.dataDir, 'a11y.csv');
    writeFileSync(csv, 'a,b\n1,2\n');
    await startImport(page, csv);
    await expect(page.getByRole('dialog', { name: 'Import a11y.csv' }).getByLabel('Primary key')).toBeVisible();
    found.push(...(await violations(page, 'CSV import with key and types')));
    expect(found).toEqual([]);
  });

  test('tabs, export, the file picker, JSON import and renaming have no serious or critical axe violations', async ({ page }) => {
    await page.goto(app.url);
    const found: string[] = [];
    await expect(page.getByRole('grid', { name: 'Rows of customers' })).toBeVisible();
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /products/ }).click({ modifiers: ['Control'] });
    await page.getByRole('button', { name: 'SQL console', exact: true }).click();
    found.push(...(await violations(page, 'tabs with a console')));
    await page.getByRole('tablist', { name: 'Open tables and consoles' }).getByRole('tab', { name: 'products' }).click();
    await expect(page.getByRole('grid', { name: 'Rows of products' })).toBeVisible();
    found.push(...(await violations(page, 'tabs with a table')));
    await page.getByRole('button', { name: 'Export…' }).click();
    found.push(...(await violations(page, 'export dialog')));
    await page.getByRole('dialog', { name: 'Export products' }).getByRole('button', { name: 'Choose…' }).click();
    const picker = page.locator('dialog.file-browser');
    await picker.getByLabel(/File name/).fill(app.dataDir);
    await picker.getByRole('button', { name: 'Save' }).click();
    await expect(picker.getByRole('button', { name: /^File demo\.db,/ })).toBeVisible();
    found.push(...(await violations(page, 'file picker')));
    await picker.getByLabel(/File name/).fill('a11y.json');
    await picker.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('dialog', { name: 'Export products' }).getByRole('button', { name: 'Export', exact: true }).click();
    await expect(page.locator('.status')).toContainText('Exported 200 rows');
    await startImport(page, join(app.dataDir, 'a11y.json'));
    await expect(page.getByRole('dialog', { name: 'Import a11y.json' }).getByLabel('Primary key')).toBeVisible();
    found.push(...(await violations(page, 'JSON import')));
    await page.getByRole('dialog', { name: 'Import a11y.json' }).getByRole('button', { name: 'Cancel' }).click();
    const sharing = page.getByRole('region', { name: 'Sharing and peers' });
    await sharing.getByRole('button', { name: 'Rename…' }).click();
    found.push(...(await violations(page, 'rename form')));
    expect(found).toEqual([]);
  });

  test('find, typed editors, the value panel and foreign-key links have no serious or critical axe violations', async ({ page }) => {
    await page.goto(app.url);
    const found: string[] = [];
    const cell = (grid: string, row: number, col: number) =>
      page.getByRole('grid', { name: grid }).locator(`[role=row][aria-rowindex="${row}"] [role=gridcell][aria-colindex="${col}"]`);
    await expect(cell('Rows of customers', 2, 2)).not.toHaveText('…');
    await page.getByRole('searchbox', { name: 'Find in any column' }).fill('ada');
    await page.getByLabel('Filter column').selectOption('credit');
    await page.getByLabel('Filter operator').selectOption('between');
    await page.getByLabel('From', { exact: true }).fill('10');
    await page.getByLabel('To', { exact: true }).fill('60');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page.getByRole('button', { name: /^credit between/ })).toBeVisible();
    found.push(...(await violations(page, 'find and range filter')));
    const tables = page.getByRole('navigation', { name: 'Tables' });
    await tables.getByRole('button', { name: /todos/ }).click();
    await expect(cell('Rows of todos', 2, 3).getByRole('checkbox')).toBeVisible();
    found.push(...(await violations(page, 'BOOLEAN checkboxes')));
    await cell('Rows of todos', 2, 6).dblclick();
    await expect(page.getByRole('status').filter({ hasText: 'Valid JSON' })).toBeVisible();
    found.push(...(await violations(page, 'JSON editor')));
    await page.keyboard.press('Escape');
    await cell('Rows of todos', 2, 4).dblclick();
    await expect(page.getByText('Stored as TEXT YYYY-MM-DD')).toBeVisible();
    found.push(...(await violations(page, 'date picker')));
    await page.keyboard.press('Escape');
    await cell('Rows of todos', 2, 5).dblclick();
    await expect(page.getByText('Stored as INTEGER unix seconds')).toBeVisible();
    found.push(...(await violations(page, 'date-time picker')));
    await page.keyboard.press('Escape');
    const side = page.getByRole('complementary', { name: 'Details' });
    await side.getByRole('tab', { name: 'Value' }).click();
    await cell('Rows of todos', 2, 6).click();
    await expect(side.getByText('Valid JSON')).toBeVisible();
    found.push(...(await violations(page, 'value panel (JSON)')));
    await tables.getByRole('button', { name: /products/ }).click();
    await cell('Rows of products', 6, 5).click(); // a blob
    await expect(side.getByLabel('Bytes of image')).toBeVisible();
    found.push(...(await violations(page, 'value panel (blob)')));
    await tables.getByRole('button', { name: /orders/ }).click();
    await cell('Rows of orders', 2, 2).click({ button: 'right' });
    await expect(page.getByRole('menu', { name: 'Cell customer_id' })).toBeVisible();
    found.push(...(await violations(page, 'foreign-key cells and their menu')));
    await page.keyboard.press('Escape');
    await tables.getByRole('button', { name: /customers/ }).click();
    await cell('Rows of customers', 2, 2).click();
    await side.getByRole('tab', { name: 'Row', exact: true }).click();
    await expect(side.getByRole('button', { name: /^orders\.customer_id \d+ rows?$/ })).toBeVisible();
    found.push(...(await violations(page, 'Row tab: referenced by')));
    expect(found).toEqual([]);
  });
});
