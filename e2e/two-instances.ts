// Helpers for specs that drive two app instances synced over the real LAN sync on 127.0.0.1.
import { expect, test, type Page } from '@playwright/test';
import { startAppServer, type AppServer } from './app-server.ts';
import { cellAt, typeInto } from './grid-helpers.ts';

export const grid = (page: Page) => page.getByRole('grid', { name: 'Rows of customers' });

export const cell = (page: Page, row: number, col: number) => cellAt(grid(page), row, col);

export async function edit(page: Page, row: number, col: number, text: string): Promise<void> {
  await typeInto(grid(page), cell(page, row, col), text);
}

export const sharing = (page: Page) => page.getByRole('region', { name: 'Sharing and peers' });

/** Share the demo database in `pa`, join it in `pb`, and wait until B shows the shared customers. */
export async function shareAndJoin(pa: Page, pb: Page): Promise<string> {
  await sharing(pa).getByRole('button', { name: 'Share…' }).click();
  const code = await sharing(pa).getByRole('textbox', { name: 'Invite code' }).inputValue();
  expect(code).toMatch(/^crrdesk1\./);
  await sharing(pb).getByRole('button', { name: 'Join…' }).click();
  await sharing(pb).getByRole('textbox', { name: 'Invite code to join' }).fill(code);
  await sharing(pb).getByRole('button', { name: 'Join', exact: true }).click();
  await expect(pb.getByRole('heading', { level: 1 })).toContainText('shared-');
  await pb.getByRole('navigation', { name: 'Tables' }).getByRole('button', { name: /customers/ }).click();
  await expect(grid(pb)).toHaveAttribute('aria-rowcount', '501', { timeout: 20_000 });
  return code;
}

/** Two browser-mode servers (own processes, files and peer identities) for the tests of a describe block. */
export function useTwoServers(): { a: AppServer; b: AppServer } {
  const servers = {} as { a: AppServer; b: AppServer };
  test.beforeAll(async () => {
    [servers.a, servers.b] = await Promise.all([startAppServer(), startAppServer()]);
  });
  test.afterAll(() => {
    servers.a?.stop();
    servers.b?.stop();
  });
  return servers;
}
