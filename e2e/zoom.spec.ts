// The editor at 200% zoom: a 1280×800 window zoomed to 200% lays out like a 640×400 CSS-pixel
// viewport at device scale 2, which is what this test renders.
import { test, expect } from '@playwright/test';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';

const shots = join(import.meta.dirname, 'screenshots');

test.describe('200% zoom', () => {
  const app = useAppServer();
  test.use({ viewport: { width: 640, height: 400 }, deviceScaleFactor: 2 });

  test('everything stays reachable: no page-wide sideways scroll, grid rows visible, panel below', async ({ page }) => {
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    await expect(grid.locator('[role=row][aria-rowindex="2"] [role=gridcell][aria-colindex="2"]')).not.toHaveText('…');
    await page.screenshot({ path: join(shots, 'zoom-200.png') });
    expect(await page.locator('html').evaluate((el) => el.scrollWidth)).toBeLessThanOrEqual(640);
    // every toolbar control and tab is inside the window
    const controls = '.tabs button, .toolbar button, .toolbar select, .toolbar input:not([type=file]), .toolbar label.file, .side-head button';
    for (const b of await page.locator(controls).all()) {
      if (!(await b.isVisible())) continue;
      const box = (await b.boundingBox())!;
      expect(box.x + box.width, await b.evaluate((e) => e.outerHTML.slice(0, 80))).toBeLessThanOrEqual(641);
    }
    // the side panel starts folded to its tabs, below the grid, leaving the grid room for rows
    const body = (await grid.locator('[role=rowgroup]').boundingBox())!;
    expect(body.height).toBeGreaterThanOrEqual(5 * 28);
    const side = page.getByRole('complementary', { name: 'Details' });
    expect((await side.boundingBox())!.y).toBeGreaterThanOrEqual(body.y + body.height - 1);
    await expect(side.getByRole('button', { name: 'Show panel' })).toHaveAttribute('aria-expanded', 'false');
    // opening a tab unfolds it; the grid keeps at least two rows in view
    await grid.locator('[role=row][aria-rowindex="3"] [role=gridcell][aria-colindex="2"]').click();
    await side.getByRole('tab', { name: 'Row', exact: true }).click();
    await expect(side.getByRole('region', { name: 'Row details' })).toBeVisible();
    expect((await grid.locator('[role=rowgroup]').boundingBox())!.height).toBeGreaterThanOrEqual(2 * 28);
    await page.screenshot({ path: join(shots, 'zoom-200-row.png') });
    await side.getByRole('button', { name: 'Hide panel' }).click();
    await expect(side.getByRole('region', { name: 'Row details' })).toBeHidden();
  });
});
