// Issue 14 part B, as two users see it: a column added in A's SQL console appears in B's grid with
// its values; the peer lists agree on the schema version; a column dropped in A waits in B's Peers
// tab until B applies it, and B's values of it stay readable in the History tab.
import { test, expect, type Page } from '@playwright/test';
import { join } from 'node:path';
import { cell, grid, shareAndJoin, sharing, useTwoServers } from './two-instances.ts';

const shots = join(import.meta.dirname, 'screenshots');

/** Runs a script in the SQL console; `did`: what its report must say. */
async function runSql(page: Page, sql: string, did = 'the schema changed'): Promise<void> {
  await page.getByRole('button', { name: 'SQL console', exact: true }).click();
  await page.getByLabel('SQL to run').fill(sql);
  await page.getByLabel('SQL to run').press('Control+Enter');
  await expect(page.getByRole('region', { name: 'What the script did' })).toContainText(did);
  await page.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /customers/ }).click();
  await expect(grid(page)).toBeVisible();
}

test.describe('schema changes between two instances', () => {
  const servers = useTwoServers();

  test("a column added in A's SQL console appears in B's grid; a drop waits for B to apply it", async ({ browser }) => {
    const pa = await (await browser.newContext()).newPage();
    const pb = await (await browser.newContext()).newPage();
    await pa.goto(servers.a.url);
    await pb.goto(servers.b.url);
    await shareAndJoin(pa, pb);

    await runSql(pa, `ALTER TABLE customers ADD COLUMN tier TEXT DEFAULT 'basic';\nUPDATE customers SET tier = 'gold' WHERE id = 1;`);
    // B's grid gets the column (the 8th: after id … joined) and A's values in it, live
    await expect(grid(pb).getByRole('columnheader', { name: /tier/ })).toBeVisible({ timeout: 20_000 });
    await expect(cell(pb, 2, 7)).toHaveText('gold');
    await expect(cell(pb, 3, 7)).toHaveText('basic');
    // both peer lists say the schemas agree, nothing is held
    const peersB = sharing(pb).getByRole('list', { name: 'Peers' });
    const peersA = sharing(pa).getByRole('list', { name: 'Peers' });
    await expect(peersB).toContainText(/schema v\d+ · same as here/);
    await expect(peersA).toContainText(/schema v\d+ · same as here/);
    await expect(peersB).not.toContainText('held');
    await expect(pb.locator('.sync-status')).not.toContainText('held');
    // B writes into the new column: it reaches A
    await runSql(pb, `UPDATE customers SET tier = 'silver' WHERE id = 2;`, '1 row changed');
    await expect(cell(pa, 3, 7)).toHaveText('silver', { timeout: 20_000 });

    // A drops the column: B keeps it until its user applies the drop
    await runSql(pa, `ALTER TABLE customers DROP COLUMN tier;`);
    const waiting = sharing(pb).getByRole('list', { name: 'Schema changes waiting here' });
    await expect(waiting).toContainText('drop column tier of customers', { timeout: 20_000 });
    await expect(waiting).toContainText('values here stay readable in the History tab');
    await expect(peersB).toContainText('differs from here');
    await expect(peersA).toContainText('1 schema change waiting there');
    await expect(grid(pb).getByRole('columnheader', { name: /tier/ })).toBeVisible();
    await sharing(pb).scrollIntoViewIfNeeded();
    await pb.screenshot({ path: join(shots, 'schema-drop-waiting.png') });
    await pb.emulateMedia({ colorScheme: 'dark' });
    await pb.screenshot({ path: join(shots, 'schema-drop-waiting-dark.png') });
    await pb.emulateMedia({ colorScheme: 'light' });
    // everything else keeps syncing meanwhile
    await runSql(pa, `UPDATE customers SET city = 'Still syncing' WHERE id = 1;`, '1 row changed');
    await expect(cell(pb, 2, 4)).toHaveText('Still syncing', { timeout: 20_000 });

    await waiting.getByRole('button', { name: 'Apply: drop column tier of customers' }).click();
    await expect(grid(pb).getByRole('columnheader', { name: /tier/ })).toHaveCount(0);
    await expect(sharing(pb).getByRole('list', { name: 'Schema changes waiting here' })).toHaveCount(0);
    await expect(peersB).toContainText(/same as here/, { timeout: 20_000 });
    await expect(peersA).not.toContainText('waiting there');
    // B's values of the dropped column stay readable in the History tab
    await cell(pb, 3, 2).click();
    await pb.getByRole('tab', { name: 'History' }).click();
    await expect(pb.getByRole('list', { name: 'Versions of the dropped column tier' })).toContainText('silver');
    await pb.screenshot({ path: join(shots, 'schema-dropped-history.png') });
  });
});
