// Two app instances (two browser-mode servers, each its own process, data folder and peer
// identity) sync through the real LAN sync on 127.0.0.1: Share in one, Join in the other, then
// edits in either appear live in both, and each lists the other as a syncing peer.
import { test, expect } from '@playwright/test';
import { join } from 'node:path';
import { cell, edit, shareAndJoin, useTwoServers } from './two-instances.ts';

const shots = join(import.meta.dirname, 'screenshots');

test.describe('two instances', () => {
  const servers = useTwoServers();

  test('share in one, join in the other, and edit both ways live', async ({ browser }) => {
    const pa = await (await browser.newContext()).newPage();
    const pb = await (await browser.newContext()).newPage();
    await pa.goto(servers.a.url);
    await pb.goto(servers.b.url);

    await shareAndJoin(pa, pb);
    await expect(pa.locator('.sync-status')).toContainText('Sync: idle');
    const tablesB = pb.getByRole('navigation', { name: 'Tables' });
    await expect(cell(pb, 2, 2)).toHaveText(await cell(pa, 2, 2).textContent() as string);
    await expect(tablesB.getByRole('button', { name: /orders/ })).toHaveCount(0);
    // the joined copy's sidebar estimate follows the rows that arrived (it was created empty)
    await expect(tablesB.getByRole('button', { name: /customers/ }).locator('.count')).toHaveText('500');

    // each lists the other as a syncing peer
    await expect(pa.getByRole('list', { name: 'Peers' })).toContainText('syncing');
    await expect(pb.getByRole('list', { name: 'Peers' })).toContainText('syncing');
    await expect(pb.locator('.sync-status')).toContainText('1 peer');

    await edit(pa, 2, 2, 'Edited in A');
    await expect(cell(pb, 2, 2)).toHaveText('Edited in A');
    await expect(cell(pb, 2, 2)).toHaveClass(/flash/);
    await edit(pb, 3, 2, 'Edited in B');
    await expect(cell(pa, 3, 2)).toHaveText('Edited in B');

    // B is typing in a cell when A changes it: B's text stays, the cell says so
    await cell(pb, 4, 2).dblclick();
    const input = pb.getByRole('grid', { name: 'Rows of customers' }).getByRole('textbox');
    await input.fill('B is typing');
    await edit(pa, 4, 2, 'A got there first');
    await expect(pb.getByRole('status').filter({ hasText: 'changed underneath' })).toBeVisible();
    await expect(input).toHaveValue('B is typing');
    await pb.screenshot({ path: join(shots, 'changed-underneath.png') });
    await input.press('Enter');
    await expect(cell(pa, 4, 2)).toHaveText('B is typing');
    await pa.screenshot({ path: join(shots, 'sync-a.png') });
    await pb.screenshot({ path: join(shots, 'sync-b.png') });
  });
});
