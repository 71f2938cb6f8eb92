// Opening another file from the page: a refusal keeps the open database; a new file can be created;
// recent files reopen with one click.
import { test, expect } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';
import { startImport } from './files.ts';

test.describe('opening files', () => {
  const app = useAppServer();

  test('refuses a file that is not SQLite, creates a new one, reopens a recent one', async ({ page }) => {
    await page.goto(app.url);
    const sidebar = page.getByRole('navigation', { name: 'Tables' });
    await expect(sidebar.getByRole('heading')).toHaveText('demo.db');

    const notes = join(app.dataDir, 'notes.txt');
    writeFileSync(notes, 'not a database, just some words');
    await sidebar.getByRole('button', { name: 'Open…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Open a database', exact: true });
    await dialog.getByLabel('Path of the file').fill(notes);
    await dialog.getByRole('button', { name: 'Open', exact: true }).click();
    await expect(dialog.getByRole('alert')).toContainText('not a SQLite database');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(sidebar.getByRole('heading')).toHaveText('demo.db');
    await expect(sidebar.getByRole('button', { name: /customers/ })).toBeVisible();

    await sidebar.getByRole('button', { name: 'Open…' }).click();
    await dialog.getByLabel('Path of the file').fill(join(app.dataDir, 'fresh.db'));
    await dialog.getByLabel(/Create a new, empty database/).check();
    await dialog.getByRole('button', { name: 'Open', exact: true }).click();
    await expect(sidebar.getByRole('heading')).toHaveText('fresh.db');
    await expect(sidebar.getByRole('button', { name: /customers/ })).toHaveCount(0);
    await expect(page.getByText('fresh.db has no tables yet.')).toBeVisible();
    // a CSV makes its first table
    const csv = join(app.dataDir, 'people.csv');
    writeFileSync(csv, 'name,age\nAda,36\nAlan,41\n');
    await startImport(page, csv);
    await page.getByRole('dialog', { name: /Import/ }).getByRole('button', { name: 'Import' }).click();
    await expect(page.getByText('Imported 2 rows into people.')).toBeVisible();
    await expect(page.getByRole('grid', { name: 'Rows of people' })).toHaveAttribute('aria-rowcount', '3');

    await sidebar.getByRole('button', { name: 'Open…' }).click();
    await page.screenshot({ path: join(import.meta.dirname, 'screenshots', 'open-file.png') });
    await dialog.getByRole('button', { name: /demo\.db$/ }).click();
    await expect(sidebar.getByRole('heading')).toHaveText('demo.db');
    await expect(page.getByRole('grid', { name: 'Rows of customers' })).toHaveAttribute('aria-rowcount', '501');
  });
});
