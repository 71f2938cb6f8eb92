// Browser mode and the page's connection to the app (issue 16.5): the demo's own events table
// (100k rows, 4 MB of CSV) exported and imported again through the page (the server used to
// die on it: "Max payload size exceeded", while the page still said "Ready."); and when the
// connection drops, a banner says why, the page is disabled, and it reconnects and catches up.
import { test, expect, type WebSocketRoute } from '@playwright/test';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';

test.describe('the connection to the app', () => {
  const app = useAppServer();

  test('a CSV export and import of 4 MB travel whole', async ({ page }) => {
    await page.goto(app.url);
    const sidebar = page.getByRole('navigation', { name: 'Tables' });
    await sidebar.getByRole('button', { name: /^events/ }).click();
    await expect(page.getByRole('grid', { name: 'Rows of events' })).toBeVisible();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export CSV' }).click();
    const file = join(app.dataDir, 'events-export.csv');
    await (await download).saveAs(file);
    // as JSON (the import's message) it is over the old 4 MB limit of one WebSocket message
    expect(Buffer.byteLength(JSON.stringify(readFileSync(file, 'utf8')))).toBeGreaterThan(4 * 1024 * 1024);
    await page.getByLabel('Import CSV…').first().setInputFiles({ name: 'events again.csv', mimeType: 'text/csv', buffer: readFileSync(file) });
    const dialog = page.getByRole('dialog', { name: /Import/ });
    await dialog.getByRole('button', { name: 'Import' }).click();
    await expect(page.getByText('Imported 100000 rows into events_again.')).toBeVisible({ timeout: 60_000 });
    const db = new Database(join(app.dataDir, 'demo.db'), { readonly: true });
    const same = db.prepare(`SELECT count(*) FROM events e JOIN events_again a ON a.id = e.id AND a.kind = e.kind`).pluck().get();
    db.close();
    expect(same).toBe(100000);
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
