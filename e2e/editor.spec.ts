import { test, expect } from '@playwright/test';
import Database from 'better-sqlite3';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';
import { exportTo, startImport } from './files.ts';
import { useMillionRows } from './million-rows.ts';
import { dispatchCopy, dispatchPaste } from './clipboard.ts';
import { cellAt, typeInto } from './grid-helpers.ts';

const shots = join(import.meta.dirname, 'screenshots');
mkdirSync(shots, { recursive: true });

test.describe('table editor on the demo database', () => {
  const app = useAppServer();

  test('opens, sorts and edits a cell that persists', async ({ page }) => {
    await page.goto(app.url);
    const tables = page.getByRole('navigation', { name: 'Tables' });
    await expect(tables.getByRole('button', { name: /customers/ })).toContainText('CRR');
    await tables.getByRole('button', { name: /customers/ }).click();
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    await expect(grid).toHaveAttribute('aria-rowcount', '501');
    const firstName = grid.locator('[role=row][aria-rowindex="2"] [role=gridcell][aria-colindex="2"]');
    await expect(firstName).not.toHaveText('…');
    await page.screenshot({ path: join(shots, 'grid.png') });

    await grid.getByRole('columnheader', { name: /credit/ }).getByRole('button').click();
    await grid.getByRole('columnheader', { name: /credit/ }).getByRole('button').click();
    await expect(grid.getByRole('columnheader', { name: /credit/ })).toHaveAttribute('aria-sort', 'descending');
    await expect(grid.locator('[role=row][aria-rowindex="2"] [role=gridcell][aria-colindex="5"]')).toHaveText('99.9');

    const cell = grid.locator('[role=row][aria-rowindex="2"] [role=gridcell][aria-colindex="2"]');
    await cell.dblclick();
    const input = grid.getByRole('textbox');
    await input.fill('Edited By Test');
    await page.screenshot({ path: join(shots, 'editing.png') });
    await input.press('Enter');
    await expect(cell).toHaveText('Edited By Test');
    await page.reload();
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /customers/ }).click();
    await page.getByRole('grid').getByRole('columnheader', { name: /credit/ }).getByRole('button').click();
    await page.getByRole('grid').getByRole('columnheader', { name: /credit/ }).getByRole('button').click();
    await expect(page.getByRole('grid').locator('[role=row][aria-rowindex="2"] [role=gridcell][aria-colindex="2"]')).toHaveText('Edited By Test');
  });

  test('filters, adds and deletes rows, and undoes and redoes its own edits', async ({ page }) => {
    await page.goto(app.url);
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /products/ }).click();
    const grid = page.getByRole('grid', { name: 'Rows of products' });
    await expect(grid).toHaveAttribute('aria-rowcount', '201');
    await page.getByLabel('Filter column').selectOption('stock');
    await page.getByLabel('Filter operator').selectOption('>');
    await page.getByLabel('Filter value').fill('85');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(grid).toHaveAttribute('aria-rowcount', '11'); // 10 products have stock > 85
    await page.getByRole('button', { name: /stock > / }).click();
    await expect(grid).toHaveAttribute('aria-rowcount', '201');

    const title = grid.locator('[role=row][aria-rowindex="2"] [role=gridcell][aria-colindex="2"]');
    await expect(title).not.toHaveText('…');
    const original = (await title.textContent())!;
    await typeInto(grid, title, 'Renamed');
    await grid.locator('[role=rowgroup]').focus();
    await page.keyboard.press('Control+z');
    await expect(title).toHaveText(original);
    await page.keyboard.press('Control+Shift+z');
    await expect(title).toHaveText('Renamed');

    page.once('dialog', (d) => void d.accept());
    await grid.locator('[role=rowgroup]').focus();
    await page.keyboard.press('Delete');
    await expect(grid).toHaveAttribute('aria-rowcount', '200');
    await page.keyboard.press('Control+z');
    await expect(grid).toHaveAttribute('aria-rowcount', '201');
    await expect(title).toHaveText('Renamed');
  });

  test('shows a change written by another program without a reload', async ({ page }) => {
    await page.goto(app.url);
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /customers/ }).click();
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    const city = grid.locator('[role=row][aria-rowindex="3"] [role=gridcell][aria-colindex="4"]');
    await expect(city).not.toHaveText('…');
    await grid.locator('[role=row][aria-rowindex="3"] [role=gridcell][aria-colindex="2"]').click();
    const other = new Database(join(app.dataDir, 'demo.db'));
    other.prepare(`UPDATE customers SET city = 'Written elsewhere' WHERE id = 2`).run();
    other.close();
    await expect(city).toHaveText('Written elsewhere');
    await expect(city).toHaveClass(/flash/);
    await expect(page.getByText('Changed by another program.')).toBeVisible();
    await expect(grid.locator('[role=row][aria-rowindex="3"] [role=gridcell][aria-colindex="2"]')).toHaveAttribute('aria-selected', 'true');
  });

  test('copies a range as TSV, pastes it elsewhere in one undoable edit, and resizes a column', async ({ page }) => {
    await page.goto(app.url);
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /customers/ }).click();
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    const at = (row: number, col: number) => cellAt(grid, row, col);
    await expect(at(2, 2)).not.toHaveText('…');
    const source = [[await at(2, 3).textContent(), await at(2, 4).textContent()], [await at(3, 3).textContent(), await at(3, 4).textContent()]];

    // select email..city of the first two rows with Shift+arrows, copy
    await at(2, 3).click();
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Shift+ArrowRight');
    await expect(at(3, 4)).toHaveAttribute('aria-selected', 'true');
    const copied = await dispatchCopy(grid.locator('[role=rowgroup]'));
    expect(copied).toBe(source.map((r) => r.join('\t')).join('\n'));

    // paste into rows 10-11
    await at(11, 3).click();
    const before = [await at(11, 3).textContent(), await at(12, 4).textContent()];
    await dispatchPaste(grid.locator('[role=rowgroup]'), copied);
    await expect(at(11, 3)).toHaveText(source[0][0]!);
    await expect(at(12, 4)).toHaveText(source[1][1]!);
    await expect(page.getByText('Pasted 4 cells.')).toBeVisible();
    await grid.locator('[role=rowgroup]').focus();
    await page.keyboard.press('Control+z');
    await expect(at(11, 3)).toHaveText(before[0]!);
    await expect(at(12, 4)).toHaveText(before[1]!);

    // widen the email column by dragging its handle
    const head = grid.getByRole('columnheader', { name: /email/ });
    const width = (await head.boundingBox())!.width;
    const handle = grid.getByRole('separator', { name: 'Resize email' });
    const box = (await handle.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + 120, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    expect((await head.boundingBox())!.width).toBeGreaterThan(width + 100);
    expect((await at(2, 3).boundingBox())!.width).toBeGreaterThan(width + 100);
    // a filter keeps the user's widths
    const resized = (await head.boundingBox())!.width;
    await page.getByLabel('Filter column').selectOption('city');
    await page.getByLabel('Filter value').fill('Oslo');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(grid).toHaveAttribute('aria-rowcount', /^\d\d$/);
    expect((await head.boundingBox())!.width).toBe(resized);
  });

  test('deletes a selected range of rows after confirmation and undoes it as one edit', async ({ page }) => {
    await page.goto(app.url);
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /events/ }).click();
    const grid = page.getByRole('grid', { name: 'Rows of events' });
    const at = (row: number, col: number) => cellAt(grid, row, col);
    await expect(grid).toHaveAttribute('aria-rowcount', '100001');
    await at(5, 2).click();
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Shift+ArrowDown');
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.accept();
    });
    await page.getByRole('button', { name: 'Delete row' }).click();
    await expect(grid).toHaveAttribute('aria-rowcount', '99998');
    expect(asked).toBe('Delete these 3 rows of events?');
    await expect(at(5, 1)).toHaveText('7'); // ids 4, 5, 6 are gone
    await grid.locator('[role=rowgroup]').focus();
    await page.keyboard.press('Control+z');
    await expect(grid).toHaveAttribute('aria-rowcount', '100001');
    await expect(at(5, 1)).toHaveText('4');
    await expect(at(7, 1)).toHaveText('6');
  });

  test('undo never reverts a value another writer put there since', async ({ page }) => {
    await page.goto(app.url);
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /events/ }).click();
    const grid = page.getByRole('grid', { name: 'Rows of events' });
    const kind = grid.locator('[role=row][aria-rowindex="21"] [role=gridcell][aria-colindex="2"]');
    await expect(kind).not.toHaveText('…');
    const before = (await kind.textContent())!;
    await typeInto(grid, kind, 'mine');
    const other = new Database(join(app.dataDir, 'demo.db'));
    other.prepare(`UPDATE events SET kind = 'theirs' WHERE id = 20`).run();
    other.close();
    await expect(kind).toHaveText('theirs');
    await grid.locator('[role=rowgroup]').focus();
    await page.keyboard.press('Control+z');
    await expect(page.locator('.status')).toContainText('Could not undo: kind of that row of events was changed by someone else since');
    await expect(kind).toHaveText('theirs');
    expect(before).not.toBe('theirs');
  });

  test('keeps NULL apart from the empty string while editing, and edits a blob as X\'…\'', async ({ page }) => {
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    const city = (id: number) => cellAt(grid, id + 1, 4);
    await expect(city(17)).toHaveText('NULL');
    // opening the editor on NULL and leaving it untouched writes nothing
    await city(17).dblclick();
    await expect(grid.getByRole('textbox')).toHaveValue('');
    await grid.getByRole('textbox').press('Enter');
    await expect(city(17)).toHaveText('NULL');
    await expect(city(17)).toHaveClass(/null/);
    // the editor's NULL button, then undo
    const before = (await city(16).textContent())!;
    await city(16).dblclick();
    await grid.getByRole('button', { name: 'NULL' }).click();
    await expect(city(16)).toHaveText('NULL');
    await expect(city(16)).toHaveClass(/null/);
    await grid.locator('[role=rowgroup]').focus();
    await page.keyboard.press('Control+z');
    await expect(city(16)).toHaveText(before);
    // the grid lists its keys
    await page.getByText('Keyboard', { exact: true }).click();
    await expect(page.locator('.keys dl')).toContainText('set the selected cells to NULL');
    await page.screenshot({ path: join(shots, 'keys.png') });
    await page.getByText('Keyboard', { exact: true }).click();
    await expect(page.locator('.keys dl')).toBeHidden();
    // Ctrl+Backspace on a selection
    await city(14).click();
    await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Control+Backspace');
    await expect(page.locator('.status')).toContainText('Set 2 cells to NULL.');
    await expect(city(15)).toHaveText('NULL');
    await page.keyboard.press('Control+z');
    await expect(city(15)).not.toHaveText('NULL');

    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /products/ }).click();
    const products = page.getByRole('grid', { name: 'Rows of products' });
    const image = products.locator(`[role=row][aria-rowindex="6"] [role=gridcell][aria-colindex="5"]`); // SKU-0005 has an image
    await expect(image).toHaveText(/^\d+ bytes · [0-9a-f ]+/);
    const shown = (await image.textContent())!;
    await image.dblclick();
    await expect(products.getByRole('textbox')).toHaveValue(/^X'([0-9A-F]{2})+'$/);
    await products.getByRole('textbox').press('Enter'); // untouched: stays the same blob
    await expect(image).toHaveText(shown);
    await typeInto(products, image, "X'CAFE'", '2 bytes · ca fe');
  });

  test('adds a row where the view puts it and edits it at once; undo takes it back', async ({ page }) => {
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    await expect(grid).toHaveAttribute('aria-rowcount', '501');
    await page.getByRole('button', { name: 'Add row' }).click();
    await expect(page.locator('.status')).toContainText('Row added (row 501).');
    await expect(grid).toHaveAttribute('aria-rowcount', '502');
    const input = grid.getByRole('textbox', { name: 'Edit name' });
    await expect(input).toBeFocused();
    await input.fill('New Person');
    await input.press('Enter');
    const added = grid.locator('[role=row][aria-rowindex="502"] [role=gridcell]');
    await expect(added.nth(0)).toHaveText('501');
    await expect(added.nth(1)).toHaveText('New Person');
    await page.screenshot({ path: join(shots, 'added-row.png') });
    await grid.locator('[role=rowgroup]').focus();
    await page.keyboard.press('Control+z');
    await expect(added.nth(1)).toHaveText('');
    await page.keyboard.press('Control+z');
    await expect(grid).toHaveAttribute('aria-rowcount', '501');
    // a table whose key has no default asks for it first; a duplicate key is refused in the dialog
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /products/ }).click();
    await page.getByRole('button', { name: 'Add row' }).click();
    const dialog = page.getByRole('dialog', { name: 'New row in products' });
    await dialog.getByLabel('sku').fill('SKU-0001');
    await dialog.getByRole('button', { name: 'Add' }).click();
    await expect(dialog.getByRole('alert')).toContainText('UNIQUE constraint failed: products.sku');
    await dialog.getByLabel('sku').fill('SKU-9999');
    await dialog.getByRole('button', { name: 'Add' }).click();
    await expect(dialog).toBeHidden();
    const products = page.getByRole('grid', { name: 'Rows of products' });
    await expect(products).toHaveAttribute('aria-rowcount', '202');
    await expect(products.getByRole('textbox', { name: 'Edit title' })).toBeFocused();
    await products.getByRole('textbox', { name: 'Edit title' }).press('Escape');
    await expect(products.locator('[role=row][aria-rowindex="202"] [role=gridcell]').first()).toHaveText('SKU-9999');
    await products.locator('[role=rowgroup]').focus();
    await page.keyboard.press('Control+z');
    await expect(products).toHaveAttribute('aria-rowcount', '201');
  });

  test('shows a cell\'s history in a popover by the cell (right-click, Shift+F10)', async ({ page }) => {
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    const name = grid.locator('[role=row][aria-rowindex="31"] [role=gridcell][aria-colindex="2"]');
    await expect(name).not.toHaveText('…');
    const before = (await name.textContent())!;
    await typeInto(grid, name, 'Renamed 30');
    await name.click({ button: 'right' });
    const popover = page.getByRole('dialog', { name: 'History of name' });
    await expect(popover).toBeVisible();
    const versions = popover.getByRole('list', { name: 'Versions' }).getByRole('listitem');
    await expect(versions).toHaveCount(2);
    await expect(versions.first()).toContainText('Renamed 30');
    await expect(versions.first()).toContainText('current');
    await expect(versions.last()).toContainText(before);
    await expect(versions.last()).toContainText('You');
    await page.screenshot({ path: join(shots, 'cell-popover.png') });
    await page.keyboard.press('Escape');
    await expect(popover).toBeHidden();
    await page.keyboard.press('Shift+F10');
    await expect(popover).toBeVisible();
    await page.keyboard.press('Escape');
    // a plain table has no history: the browser's own menu stays
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /orders/ }).click();
    await page.getByRole('grid', { name: 'Rows of orders' }).locator('[role=row][aria-rowindex="2"] [role=gridcell][aria-colindex="2"]').click({ button: 'right' });
    await expect(page.getByRole('dialog', { name: /History of/ })).toHaveCount(0);
  });

  test('keeps the header in line with the columns when scrolled sideways', async ({ page }) => {
    await page.setViewportSize({ width: 1000, height: 700 });
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    const first = grid.locator('[role=row][aria-rowindex="2"] [role=gridcell]');
    await expect(first.nth(1)).not.toHaveText('…');
    const last = grid.getByRole('columnheader').last();
    await last.getByRole('button').focus(); // a header button hidden under the side panel takes focus
    await grid.locator('[role=rowgroup]').evaluate((el) => (el.scrollLeft = 120));
    // the scroll event (which moves the header) is dispatched on the next frame
    await expect.poll(() => grid.locator('[role=rowgroup]').evaluate((el) => el.scrollLeft)).toBe(120);
    for (const i of [0, 3, 5]) {
      await expect
        .poll(async () => {
          const head = (await grid.getByRole('columnheader').nth(i).boundingBox())!;
          const body = (await first.nth(i).boundingBox())!;
          return Math.max(Math.abs(head.x - body.x), Math.abs(head.width - body.width));
        })
        .toBeLessThan(1);
    }
  });

  test('runs SQL in the console, refuses what would stop tracking; shows the schema', async ({ page }) => {
    await page.goto(app.url);
    await page.getByRole('button', { name: 'SQL console', exact: true }).click();
    await page.getByLabel('SQL to run').fill('SELECT count(*) AS n, typeof(max(credit)) AS t FROM customers');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    const results = page.getByRole('grid', { name: 'Query results' });
    await expect(results.getByRole('gridcell')).toHaveText(['500', 'real']);
    // results follow later changes, here another program's
    await page.getByLabel('SQL to run').fill('SELECT city FROM customers WHERE id = 5');
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(results.getByRole('columnheader')).toHaveText(['city']);
    await expect(results).toHaveAttribute('aria-rowcount', '2');
    await expect(results.getByRole('gridcell')).not.toHaveText('…');
    const before = (await results.getByRole('gridcell').textContent())!;
    const other = new Database(join(app.dataDir, 'demo.db'));
    other.prepare(`UPDATE customers SET city = 'Moved' WHERE id = 5`).run();
    await expect(results.getByRole('gridcell')).toHaveText(['Moved']);
    other.prepare(`UPDATE customers SET city = ? WHERE id = 5`).run(before);
    other.close();
    await expect(results.getByRole('gridcell')).toHaveText([before]);
    // the engine's functions that would stop tracking are refused, naming the app's action instead
    await page.getByLabel('SQL to run').fill("SELECT crsql_as_table('customers')");
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(page.getByRole('alert')).toContainText('Stop collaboration');
    // from the sidebar, whatever the tab bar holds (a CI run once found no customers tab in it)
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /customers/ }).click();
    await page.getByRole('tab', { name: 'Schema' }).click();
    await expect(page.getByRole('region', { name: 'Schema of customers' })).toContainText('CREATE TABLE customers');
  });

  test('CSV round trip: export a table as sorted, import it as a new table and into an existing one', async ({ page }) => {
    await page.goto(app.url);
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /products/ }).click();
    const price = page.getByRole('grid', { name: 'Rows of products' }).getByRole('columnheader', { name: /price/ });
    await price.getByRole('button').click();
    await price.getByRole('button').click();
    await expect(price).toHaveAttribute('aria-sort', 'descending');
    const file = join(app.dataDir, 'products-by-price.csv');
    await exportTo(page, file);
    // the export follows the grid's sort
    const prices = readFileSync(file, 'utf8').trim().split(/\r\n/).slice(1).map((l) => Number(l.split(',')[2]));
    expect(prices).toHaveLength(200);
    expect(prices).toEqual([...prices].sort((a, b) => b - a));
    await startImport(page, file);
    const dialog = page.getByRole('dialog', { name: /Import/ });
    await expect(dialog.getByLabel('First lines of the file')).toContainText('sku,title,price,stock,image');
    // a new table may not take an existing name
    await dialog.getByLabel('New table name').fill('products');
    await dialog.getByRole('button', { name: 'Import' }).click();
    await expect(dialog.getByRole('alert')).toContainText('products exists already');
    await page.screenshot({ path: join(shots, 'csv-import.png') });
    await dialog.getByLabel('New table name').fill('products_copy');
    await dialog.getByRole('button', { name: 'Import' }).click();
    await expect(page.getByText('Imported 200 rows into products_copy.')).toBeVisible();
    await expect(dialog).toBeHidden();
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /products_copy/ }).click();
    await page.getByRole('button', { name: 'SQL console', exact: true }).click();
    await page.getByLabel('SQL to run').fill(
      'SELECT count(*) FROM products p JOIN products_copy c ON c.sku IS p.sku AND c.title IS p.title AND c.price IS p.price AND c.stock IS p.stock AND c.image IS p.image',
    );
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(page.getByRole('grid', { name: 'Query results' }).getByRole('gridcell')).toHaveText(['200']);
    // the same file into the existing copy: 200 more rows, all or nothing
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /products_copy/ }).click();
    await startImport(page, file);
    await dialog.getByRole('radio', { name: 'An existing table' }).check();
    await dialog.getByRole('combobox', { name: 'Existing table' }).selectOption('products_copy');
    await dialog.getByRole('button', { name: 'Import' }).click();
    await expect(page.getByText('Imported 200 rows into products_copy.')).toBeVisible();
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /products_copy/ }).click();
    await expect(page.getByRole('grid', { name: 'Rows of products_copy' })).toHaveAttribute('aria-rowcount', '401');
  });

  test('shows why a table cannot become collaborative, and makes one that can', async ({ page }) => {
    await page.goto(app.url);
    await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /orders/ }).click();
    await page.getByRole('button', { name: 'Enable collaboration' }).click();
    await expect(page.getByRole('alert')).toContainText('foreign key');
    // a table that follows the rules becomes collaborative: badge, and history for its cells
    const events = page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /events/ });
    await events.click();
    await page.getByRole('button', { name: 'Enable collaboration' }).click();
    await expect(page.locator('.status')).toContainText('events is now collaborative.');
    await expect(events).toContainText('CRR');
    await expect(page.getByRole('button', { name: 'Enable collaboration' })).toHaveCount(0);
    await page.getByRole('grid', { name: 'Rows of events' }).locator('[role=row][aria-rowindex="2"] [role=gridcell][aria-colindex="2"]').click();
    await page.getByRole('tab', { name: 'History' }).click();
    await expect(page.getByRole('region', { name: 'Cell history' })).toContainText('kind of row 1');
  });
});

test.describe('a table of 1,000,000 rows', () => {
  const app = useMillionRows('million');

  test('paints the first rows, then scrolls to the very end', async ({ page }) => {
    await page.goto(app.url);
    // measured, not asserted: from navigation start to the first row's text, checked every frame
    type Doc = { document: { querySelector(selector: string): { textContent: string | null } | null } };
    await page.waitForFunction(
      () => (globalThis as unknown as Doc).document.querySelector('[role=row][aria-rowindex="2"] [aria-colindex="2"]')?.textContent === 'row 1',
      null,
      { polling: 'raf' },
    );
    console.log(`1M rows: first rows painted ${Math.round(await page.evaluate(() => performance.now()))} ms after navigation start`);
    const grid = page.getByRole('grid', { name: 'Rows of big' });
    await expect(grid.locator('[role=row][aria-rowindex="2"] [role=gridcell][aria-colindex="2"]')).toHaveText('row 1');
    await expect(grid).toHaveAttribute('aria-rowcount', '1000001');
    await grid.locator('[role=rowgroup]').focus();
    await page.keyboard.press('Control+End');
    await expect(grid.locator('[role=row][aria-rowindex="1000001"] [role=gridcell][aria-colindex="2"]')).toHaveText('row 1000000');
    await page.screenshot({ path: join(shots, 'million-end.png') });
  });

  test('pages query results through the same grid: counted, sorted by a result column, scrolled to the end', async ({ page }) => {
    await page.goto(app.url);
    await page.getByRole('button', { name: 'SQL console', exact: true }).click();
    await page.getByLabel('SQL to run').fill('SELECT id, label, id * 2 AS double FROM big WHERE id % 2 = 0');
    await page.getByLabel('SQL to run').press('Control+Enter');
    const results = page.getByRole('grid', { name: 'Query results' });
    await expect(results).toHaveAttribute('aria-rowcount', '500001');
    await expect(results).toHaveAttribute('aria-readonly', 'true');
    const at = (row: number, col: number) => cellAt(results, row, col);
    await expect(at(2, 2)).toHaveText('row 2');
    await results.getByRole('columnheader', { name: /double/ }).getByRole('button').click();
    await results.getByRole('columnheader', { name: /double/ }).getByRole('button').click();
    await expect(results.getByRole('columnheader', { name: /double/ })).toHaveAttribute('aria-sort', 'descending');
    await expect(at(2, 3)).toHaveText('2000000');
    await results.locator('[role=rowgroup]').focus();
    await page.keyboard.press('Control+End');
    await expect(at(500001, 2)).toHaveText('row 2');
    await page.keyboard.press('Enter');
    await expect(page.locator('.status')).toContainText('Query results are read-only.');
    await page.screenshot({ path: join(shots, 'sql-console.png') });
  });
});
