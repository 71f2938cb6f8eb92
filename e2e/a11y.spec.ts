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
});
