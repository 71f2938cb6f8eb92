// Recent activity of a collaborative table: enabling collaboration on 100k rows records every
// cell's first version, shown as one entry, not one per cell (issue 15, bug 12).
import { test, expect } from '@playwright/test';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';
import { cellAt, typeInto } from './grid-helpers.ts';

const shots = join(import.meta.dirname, 'screenshots');

test.describe('recent activity', () => {
  const app = useAppServer();

  test('bug 12: the backfill of enabling collaboration on the 100k-row events table is one activity entry', async ({ page }) => {
    await page.goto(app.url);
    const events = page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /events/ });
    await events.click();
    await page.getByRole('button', { name: 'Enable collaboration' }).click();
    await expect(page.locator('.status')).toContainText('events is now collaborative.');
    const grid = page.getByRole('grid', { name: 'Rows of events' });
    await cellAt(grid, 2, 2).click();
    const side = page.getByRole('complementary', { name: 'Details' });
    await side.getByRole('tab', { name: 'History' }).click();
    const activity = side.getByRole('list', { name: 'Recent activity' }).getByRole('listitem');
    await expect(activity).toHaveCount(1);
    await expect(activity.first()).toContainText('100,000 rows × 3 columns');
    await expect(activity.first()).toContainText('You');
    // a later edit is an entry of its own, above it
    await typeInto(grid, cellAt(grid, 3, 2), 'edited');
    await expect(activity).toHaveCount(2);
    await expect(activity.first()).toContainText('kind = edited');
    await expect(activity.last()).toContainText('100,000 rows × 3 columns');
    await page.screenshot({ path: join(shots, 'activity-backfill.png') });
  });
});
