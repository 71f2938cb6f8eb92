// Browser mode and the page's connection to the app (issue 16.5): the demo's own events table
// (100k rows, 4 MB of CSV) exported to a file and imported again through the page, and the page's
// own messages past one WebSocket frame's limit (a 5 MB paste, and the row read back: the server
// used to die on such a message, "Max payload size exceeded", while the page still said "Ready.");
// and when the connection drops, a banner says why, the page is disabled, and it reconnects and
// catches up.
import { test, expect, type WebSocketRoute } from '@playwright/test';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';
import { dispatchPaste } from './clipboard.ts';
import { exportTo, startImport } from './files.ts';
import { cellAt } from './grid-helpers.ts';

test.describe('the connection to the app', () => {
  const app = useAppServer();

  test('a 4 MB CSV export and import go whole; a 5 MB paste and its row read back travel whole', async ({ page }) => {
    await page.goto(app.url);
    const sidebar = page.getByRole('navigation', { name: 'Tables' });
    await sidebar.getByRole('button', { name: /^events/ }).click();
    await expect(page.getByRole('grid', { name: 'Rows of events' })).toBeVisible();
    const file = join(app.dataDir, 'events again.csv');
    // the rows go to the file from main, not through the page (the old download carried all 4 MB)
    expect(await exportTo(page, file)).toContain('Exported 100,000 rows');
    expect(readFileSync(file, 'utf8').split('\n').length).toBe(100_002);
    await startImport(page, file);
    const dialog = page.getByRole('dialog', { name: /Import/ });
    await dialog.getByLabel('New table name').fill('events_again');
    await dialog.getByRole('button', { name: 'Import' }).click();
    await expect(page.getByText('Imported 100,000 rows into events_again.')).toBeVisible({ timeout: 60_000 });
    const db = new Database(join(app.dataDir, 'demo.db'), { readonly: true });
    const same = db.prepare(`SELECT count(*) FROM events e JOIN events_again a ON a.id = e.id AND a.kind = e.kind`).pluck().get();
    db.close();
    expect(same).toBe(100000);

    // the page's own large messages: a paste of 5 MB of text into one cell goes out in chunks, and
    // the row with it comes back in chunks
    await sidebar.getByRole('button', { name: /^customers/ }).click();
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    await cellAt(grid, 2, 2).click();
    const big = `Long ${'é'.repeat(2_500_000)} end`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(4 * 1024 * 1024);
    await dispatchPaste(grid.locator('[role=rowgroup]'), big);
    await expect(page.locator('.status')).toContainText('Pasted 1 cell.', { timeout: 30_000 });
    await expect(cellAt(grid, 2, 2)).toContainText(/^Long éé/);
    await expect(page.getByRole('alert').filter({ hasText: 'Not connected' })).toHaveCount(0);
    const check = new Database(join(app.dataDir, 'demo.db'), { readonly: true });
    const stored = check.prepare(`SELECT name FROM customers ORDER BY id LIMIT 1`).pluck().get();
    check.close();
    expect(stored === big).toBe(true);
  });

  test('a dropped connection shows a banner, disables the page, and reconnects', async ({ page }) => {
    let route: WebSocketRoute | null = null;
    let refuse = false;
    await page.routeWebSocket(/\/api\?token=/, (ws) => {
      if (refuse) return void ws.close({ code: 1006 });
      route = ws;
      ws.connectToServer();
    });
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    await expect(grid).toBeVisible();
    // the app refuses a message (as the server does for a frame over its limit): the page says so
    refuse = true;
    await route!.close({ code: 1009, reason: 'Max payload size exceeded' });
    const banner = page.getByRole('alert').filter({ hasText: 'Not connected' });
    await expect(banner).toContainText('the app refused a message that was too large');
    await expect(banner).toContainText('The page is disabled');
    await expect(page.locator('#app')).toHaveAttribute('inert', '');
    await page.screenshot({ path: join(import.meta.dirname, 'screenshots', 'connection-lost.png') });
    // meanwhile another program changes a visible cell
    const db = new Database(join(app.dataDir, 'demo.db'));
    const first = db.prepare(`SELECT id FROM customers ORDER BY id LIMIT 1`).pluck().get();
    db.prepare(`UPDATE customers SET name = 'Changed while away' WHERE id = ?`).run(first);
    db.close();
    await expect(banner).toContainText(/Reconnecting/);
    refuse = false;
    await expect(banner).toHaveCount(0, { timeout: 15_000 });
    await expect(page.locator('#app')).not.toHaveAttribute('inert', '');
    await expect(grid.getByText('Changed while away')).toBeVisible();
    // errors of calls the drop interrupted do not linger
    await expect(page.getByText('Not done:')).toHaveCount(0);
    await page.screenshot({ path: join(import.meta.dirname, 'screenshots', 'connection-back.png') });
    // and the page works again
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /^products/ }).click();
    await expect(page.getByRole('grid', { name: 'Rows of products' })).toBeVisible();
  });
});
