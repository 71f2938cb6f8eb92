// Conflicts end to end: two instances edit the same cell while offline, reconnect, both show
// the conflict with both values; keeping one in the first instance clears it in both.
import { test, expect, type Page } from '@playwright/test';
import { join } from 'node:path';
import { cell, edit, shareAndJoin, sharing, useTwoServers } from './two-instances.ts';

const shots = join(import.meta.dirname, 'screenshots');
const side = (page: Page) => page.getByRole('complementary', { name: 'Details' });
const tab = (page: Page, name: string) => side(page).getByRole('tab', { name: new RegExp(`^${name}`) });

test.describe('conflicts between two instances', () => {
  const servers = useTwoServers();

  test('concurrent offline edits of one cell: both show the conflict; Keep in one clears it in both', async ({ browser }) => {
    const pa = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const pb = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await pa.goto(servers.a.url);
    await pb.goto(servers.b.url);
    await shareAndJoin(pa, pb);

    // the email column asks for review (the policy replicates to B)
    await tab(pa, 'Conflicts').click();
    await side(pa).getByRole('combobox', { name: 'Merge policy of email' }).selectOption('review');

    // both go offline, then write the same cell
    for (const p of [pa, pb]) {
      await tab(p, 'Peers').click();
      await sharing(p).getByRole('button', { name: 'Work offline' }).click();
      await expect(p.locator('.sync-status')).toContainText('paused');
    }
    await edit(pa, 2, 3, 'a@example.com');
    await edit(pb, 2, 3, 'b@example.com');
    for (const p of [pa, pb]) await sharing(p).getByRole('button', { name: 'Go online' }).click();

    // both instances show one unresolved conflict with both values, and mark the cell
    for (const p of [pa, pb]) {
      const badge = p.getByRole('button', { name: /1 unresolved conflict/ });
      await expect(badge).toBeVisible({ timeout: 20_000 });
      await badge.click();
      const item = side(p).getByRole('article', { name: /Conflict on customers/ });
      await expect(item).toContainText('a@example.com');
      await expect(item).toContainText('b@example.com');
      await expect(cell(p, 2, 3)).toHaveClass(/conflict/);
    }
    await pa.screenshot({ path: join(shots, 'conflict-panel.png') });

    // A keeps its own value: the conflict clears in both, and both show it
    await side(pa).getByRole('button', { name: 'Keep a@example.com' }).click();
    for (const p of [pa, pb]) {
      await expect(p.getByRole('button', { name: /unresolved conflict/ })).toHaveCount(0, { timeout: 20_000 });
      await expect(cell(p, 2, 3)).toHaveText('a@example.com');
      await expect(cell(p, 2, 3)).not.toHaveClass(/conflict/);
    }

    // the cell's history lists every version, who wrote it and which holds
    await cell(pb, 2, 3).click();
    await tab(pb, 'History').click();
    const history = side(pb).getByRole('region', { name: 'Cell history' });
    await expect(history).toContainText('kept to resolve a conflict');
    await expect(history).toContainText('b@example.com');
    await expect(history.locator('.won')).toHaveCount(1);
    await pb.screenshot({ path: join(shots, 'cell-history.png') });

    // peers panel
    await tab(pa, 'Peers').click();
    await pa.screenshot({ path: join(shots, 'peers.png') });
  });
});
