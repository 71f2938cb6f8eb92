// Two instances after a join: the joined copy's columns fit the data that arrived (issue 15, bug
// 11), and a peer that opens another file or goes offline is a state, not a sync error (bug 10).
import { test, expect } from '@playwright/test';
import { join } from 'node:path';
import { grid, shareAndJoin, sharing, useTwoServers } from './two-instances.ts';

const shots = join(import.meta.dirname, 'screenshots');

test.describe('peers after a join', () => {
  const servers = useTwoServers();

  test('bugs 10 and 11: joined columns are fitted to the arrived data; a peer on another file, then offline, is a state', async ({ browser }) => {
    const pa = await (await browser.newContext()).newPage();
    const pb = await (await browser.newContext()).newPage();
    await pa.goto(servers.a.url);
    await pb.goto(servers.b.url);
    await shareAndJoin(pa, pb);

    // bug 11: B's columns fit the rows that arrived, as A's fit its own
    const emailWidth = async (page: typeof pa) => (await grid(page).getByRole('columnheader', { name: /email/ }).boundingBox())!.width;
    await expect.poll(() => emailWidth(pb)).toBeGreaterThanOrEqual((await emailWidth(pa)) - 1);
    await expect(pb.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /customers/ }).locator('.count')).toHaveText('500');
    await expect(pa.locator('.sync-status')).toContainText('1 peer');

    // bug 10: B opens another file; A shows B as a peer with another database open, not an error
    const sidebarB = pb.getByRole('navigation', { name: 'Tables' });
    await sidebarB.getByRole('button', { name: 'Open…' }).click();
    const dialog = pb.getByRole('dialog', { name: 'Open a database', exact: true });
    await dialog.getByLabel('Path of the file').fill(join(servers.b.dataDir, 'other.db'));
    await dialog.getByLabel(/Create a new, empty database/).check();
    await dialog.getByRole('button', { name: 'Open', exact: true }).click();
    await expect(sidebarB.getByRole('heading')).toHaveText('other.db');
    const peersA = pa.getByRole('list', { name: 'Peers' });
    await expect(peersA).toContainText('another database open', { timeout: 20_000 });
    await expect(peersA).not.toContainText('does not share');
    await expect(pa.locator('.sync-status')).not.toContainText('error');
    await pa.screenshot({ path: join(shots, 'peer-elsewhere.png') });

    // B goes offline
    servers.b.stop();
    await expect(peersA).toContainText('offline', { timeout: 20_000 });
    await expect(pa.locator('.sync-status')).toContainText('no peers');
    await expect(pa.locator('.sync-status')).not.toContainText('error');
    await expect(sharing(pa).getByRole('alert')).toHaveCount(0);
    await pa.screenshot({ path: join(shots, 'peer-offline.png') });
  });
});
