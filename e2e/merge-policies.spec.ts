// Counter and text columns end to end (issue 13): two instances, both offline, edit the same
// product title at different places and adjust the same stock; after they reconnect both
// edits and both adjustments are in both windows, and the cell history shows them. Then, online,
// an edit arriving while the other is typing in the title is merged into the open editor.
import { test, expect, type Page } from '@playwright/test';
import { join } from 'node:path';
import { shareAndJoin, sharing, useTwoServers } from './two-instances.ts';
import { cellAt, shootBoth } from './grid-helpers.ts';

const shots = join(import.meta.dirname, 'screenshots');
const side = (page: Page) => page.getByRole('complementary', { name: 'Details' });
const tab = (page: Page, name: string) => side(page).getByRole('tab', { name: new RegExp(`^${name}`) });
const grid = (page: Page) => page.getByRole('grid', { name: 'Rows of products' });
// products: sku 1, title 2, price 3, stock 4; SKU-0001 is data row 1 (aria row 2): "… 1", stock 11
const title = (page: Page, row = 2) => cellAt(grid(page), row, 2);
const stock = (page: Page, row = 2) => cellAt(grid(page), row, 4);

async function offline(p: Page, off: boolean) {
  await tab(p, 'Peers').click();
  await sharing(p).getByRole('button', { name: off ? 'Work offline' : 'Go online' }).click();
  if (off) await expect(p.locator('.sync-status')).toContainText('paused');
}

test.describe('counter and text columns between two instances', () => {
  const servers = useTwoServers();

  test('offline edits of one text at both ends and one counter both ways are all kept; history shows them; remote edits merge into an open editor', async ({ browser }) => {
    const pa = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const pb = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await pa.goto(servers.a.url);
    await pb.goto(servers.b.url);
    await shareAndJoin(pa, pb);
    for (const p of [pa, pb]) {
      await p.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /products/ }).click();
      await expect(grid(p)).toHaveAttribute('aria-rowcount', '201', { timeout: 20_000 });
    }
    const start = (await title(pa).textContent())!;
    await expect(stock(pa)).toHaveText('11');

    // the policy menu offers counter and text only where the type allows; they replicate
    await tab(pa, 'Conflicts').click();
    const menu = (p: Page, col: string) => side(p).getByRole('combobox', { name: `Merge policy of ${col}` });
    await expect(menu(pa, 'price').locator('option[value="counter"]')).toHaveCount(1);
    await expect(menu(pa, 'price').locator('option[value="text"]')).toHaveCount(0);
    await expect(menu(pa, 'image').locator('option[value="counter"]')).toHaveCount(0);
    await menu(pa, 'title').selectOption('text');
    await menu(pa, 'stock').selectOption('counter');
    await tab(pb, 'Conflicts').click();
    await expect(menu(pb, 'title')).toHaveValue('text', { timeout: 20_000 });
    await expect(menu(pb, 'stock')).toHaveValue('counter');

    for (const p of [pa, pb]) await offline(p, true);
    // A: a word at the start of the title, +5 with the +1 button; B: a word at the end, −3 typed
    await title(pa).dblclick();
    await grid(pa).getByRole('textbox', { name: 'Edit title' }).fill(`New ${start}`);
    await grid(pa).getByRole('textbox', { name: 'Edit title' }).press('Enter');
    await expect(title(pa)).toHaveText(`New ${start}`);
    await stock(pa).dblclick();
    for (let i = 0; i < 5; i++) await grid(pa).getByRole('button', { name: 'Plus one' }).click();
    await expect(grid(pa).getByRole('spinbutton', { name: 'Edit stock' })).toHaveValue('16');
    await pa.screenshot({ path: join(shots, 'merge-policies-counter-editor.png') });
    await grid(pa).getByRole('spinbutton', { name: 'Edit stock' }).press('Enter');
    await expect(stock(pa)).toHaveText('16');

    await title(pb).dblclick();
    await grid(pb).getByRole('textbox', { name: 'Edit title' }).fill(`${start} (sale)`);
    await grid(pb).getByRole('textbox', { name: 'Edit title' }).press('Enter');
    await stock(pb).dblclick();
    const spin = grid(pb).getByRole('spinbutton', { name: 'Edit stock' });
    for (let i = 0; i < 3; i++) await spin.press('ArrowDown');
    await expect(spin).toHaveValue('8');
    await spin.press('Enter');
    await expect(stock(pb)).toHaveText('8');

    for (const p of [pa, pb]) await offline(p, false);
    for (const p of [pa, pb]) {
      await expect(title(p)).toHaveText(`New ${start} (sale)`, { timeout: 20_000 });
      await expect(stock(p)).toHaveText('13');
    }
    // no conflicts for these columns
    for (const p of [pa, pb]) await expect(p.getByRole('button', { name: /unresolved conflict/ })).toHaveCount(0);

    // the history: who added what to the stock, the title's versions with their edits as a diff
    await stock(pb).click();
    await tab(pb, 'History').click();
    const history = side(pb).getByRole('region', { name: 'Cell history' });
    const parts = history.getByRole('list', { name: 'Counter contributions' });
    // B's −3, and A's 11 (counted when it switched the column to counter) + 5, in two writes
    await expect(parts.getByRole('listitem').filter({ hasText: 'You' })).toContainText('−3');
    await expect(parts.getByRole('listitem').filter({ hasNotText: 'You' })).toContainText('+16');
    await expect(parts.getByRole('listitem').filter({ hasNotText: 'You' })).toContainText('2 writes');
    await title(pb).click();
    await expect(history.locator('ins', { hasText: 'New' }).first()).toBeVisible();
    await expect(history.locator('ins', { hasText: '(sale)' }).first()).toBeVisible();
    await shootBoth(pb, 'merge-policies-history');

    // online: A types at the start of another title while B edits its end; B's edit arrives in A's
    // open editor, A's unsaved text and cursor stay
    const second = (await title(pa, 3).textContent())!;
    await title(pa, 3).dblclick();
    const box = grid(pa).getByRole('textbox', { name: 'Edit title' });
    await box.press('Home');
    await box.pressSequentially('Big ');
    await title(pb, 3).dblclick();
    await grid(pb).getByRole('textbox', { name: 'Edit title' }).fill(`${second}, blue`);
    await grid(pb).getByRole('textbox', { name: 'Edit title' }).press('Enter');
    await expect(box).toHaveValue(`Big ${second}, blue`, { timeout: 20_000 });
    await shootBoth(pa, 'merge-policies-live-editor');
    await box.pressSequentially('red ');
    await expect(box).toHaveValue(`Big red ${second}, blue`);
    await box.press('Enter');
    for (const p of [pa, pb]) await expect(title(p, 3)).toHaveText(`Big red ${second}, blue`, { timeout: 20_000 });
  });
});
