// A refresh (another writer's change, the user's own save) repaints the visible rows in place:
// no "…" flash, and the rows stay usable (double-click edits) while the new window is read
// (issue 15, bug 7); columns fitted before their data arrived widen when it does, and sidebar
// counts follow deletes (bug 11).
import { test, expect } from '@playwright/test';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';
import { cellAt, typeInto } from './grid-helpers.ts';
import { installSlowReads, slowReads } from './slow-reads.ts';

type Watch = { __blanked?: number; document: { querySelector(s: string): unknown } };
type Observed = { MutationObserver: new (fn: () => void) => { observe(target: unknown, options: object): void } };

test.describe('refreshes repaint in place', () => {
  const app = useAppServer();
  const write = (statement: string) => {
    const db = new Database(join(app.dataDir, 'demo.db'));
    db.prepare(statement).run();
    db.close();
  };

  test('bug 7: a change from elsewhere and an own save keep the rows painted and double-clickable while re-reading', async ({ page }) => {
    await installSlowReads(page);
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    await expect(grid).toHaveAttribute('aria-rowcount', '501');
    await expect(cellAt(grid, 2, 2)).not.toHaveText('…');
    // from here on, count every time a visible cell shows the loading mark
    await page.evaluate(() => {
      const g = globalThis as unknown as Watch & Observed;
      g.__blanked = 0;
      const body = g.document.querySelector('[role=rowgroup]');
      new g.MutationObserver(() => {
        if ((g.document.querySelector('[role=rowgroup] .loading') as unknown) !== null) g.__blanked!++;
      }).observe(body, { childList: true, subtree: true, characterData: true });
    });
    await slowReads(page, 1500);

    // another program writes: the status says so at once, the rows stay, a double-click edits
    write(`UPDATE customers SET city = 'Elsewhere' WHERE id = 3`);
    await expect(page.locator('.status')).toContainText('Changed by another program.');
    await cellAt(grid, 6, 2).dblclick();
    await expect(grid.getByRole('textbox', { name: 'Edit name' })).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(cellAt(grid, 4, 4)).toHaveText('Elsewhere');

    // the user's own save: the same
    await typeInto(grid, cellAt(grid, 7, 2), 'Saved Here');
    await expect(page.locator('.status')).toContainText('Saved.');
    await cellAt(grid, 8, 2).dblclick();
    await expect(grid.getByRole('textbox', { name: 'Edit name' })).toBeVisible();
    await page.keyboard.press('Escape');
    await slowReads(page, 0);
    expect(await page.evaluate(() => (globalThis as unknown as Watch).__blanked)).toBe(0);
  });

  test('bug 11: columns fitted while their data had not arrived widen when it does; sidebar counts follow deletes', async ({ page }) => {
    // like a joined copy whose rows arrive before their values: the first rows hold NULLs
    write(`CREATE TABLE arriving (id INTEGER PRIMARY KEY NOT NULL, email TEXT, note TEXT)`);
    write(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 50) INSERT INTO arriving (id) SELECT i FROM c`);
    await page.goto(app.url);
    const tables = page.getByRole('navigation', { name: 'Tables' });
    await tables.getByRole('button', { name: /arriving/ }).click();
    const grid = page.getByRole('grid', { name: 'Rows of arriving' });
    await expect(cellAt(grid, 2, 2)).toHaveText('NULL');
    const email = grid.getByRole('columnheader', { name: /email/ });
    const narrow = (await email.boundingBox())!.width;
    write(`UPDATE arriving SET email = 'someone.with.a.long.address' || id || '@example.com'`);
    await expect(cellAt(grid, 2, 2)).toHaveText('someone.with.a.long.address1@example.com');
    await expect.poll(async () => (await email.boundingBox())!.width).toBeGreaterThan(narrow + 150);
    // the cell shows its whole value
    expect(await cellAt(grid, 2, 2).evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);

    // another program deletes five orders that are not the last: the sidebar says 1,995
    const orders = tables.getByRole('button', { name: /orders/ }).locator('.count');
    await expect(orders).toHaveText('2,000');
    write(`DELETE FROM orders WHERE id BETWEEN 10 AND 14`);
    await expect(orders).toHaveText('1,995');
  });

  test('an edit in progress survives a structure change elsewhere (the schema read again)', async ({ page, context }) => {
    // the replies to tableSchema this page asks for, by request id, over the bridge's WebSocket
    const asked = new Set<number>();
    let answered = 0;
    page.on('websocket', (ws) => {
      ws.on('framesent', (f) => {
        const m = JSON.parse(String(f.payload)) as { id?: number; method?: string };
        if (m.method === 'tableSchema' && m.id !== undefined) asked.add(m.id);
      });
      ws.on('framereceived', (f) => {
        const m = JSON.parse(String(f.payload)) as { id?: number };
        if (m.id !== undefined && asked.has(m.id)) answered++;
      });
    });
    await page.goto(app.url);
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /customers/ }).click();
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    await expect(cellAt(grid, 3, 2)).not.toHaveText('…');
    await cellAt(grid, 3, 2).dblclick();
    const editor = grid.getByRole('textbox', { name: 'Edit name' });
    await editor.fill('Kept While The Schema Changed');
    const before = answered;

    // another window of the app changes the structure: every window reads its schema again
    const other = await context.newPage();
    await other.goto(app.url);
    await other.getByRole('button', { name: 'SQL console', exact: true }).click();
    await other.getByLabel('SQL to run').fill('CREATE TABLE elsewhere (a)');
    await other.getByLabel('SQL to run').press('Control+Enter');
    await expect(page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /elsewhere/ })).toBeVisible();
    await expect.poll(() => answered).toBeGreaterThan(before);
    await other.close();

    await expect(editor).toHaveValue('Kept While The Schema Changed');
    await editor.press('Enter');
    await expect(editor).toBeHidden();
    await expect(cellAt(grid, 3, 2)).toHaveText('Kept While The Schema Changed');
  });
});
