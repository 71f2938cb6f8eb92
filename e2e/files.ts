// For e2e tests: export, import and the file picker as a user drives them (issue 15). Paths are
// typed into the picker's name field: browser mode's folder browser lists the server's machine.
import { expect, type Page } from '@playwright/test';
import type { ExportFormat } from '../shared/api.ts';

/** The open file picker (browser mode's folder browser): types `path` and confirms. */
export async function pickFile(page: Page, path: string, title?: string | RegExp): Promise<void> {
  const picker = page.locator('dialog.file-browser');
  await expect(picker).toBeVisible();
  if (title) await expect(picker.getByRole('heading')).toHaveText(title);
  await picker.getByLabel(/File name|File \(a name/).fill(path);
  await picker.getByRole('button', { name: /^(Open|Save)$/ }).click();
  await expect(picker).toBeHidden();
}

/** Import… in the shown table's toolbar (or the empty database's), then the file. */
export async function startImport(page: Page, path: string): Promise<void> {
  await page.getByRole('button', { name: 'Import…' }).click();
  await pickFile(page, path);
}

/** Export… of the shown table: the view as shown (or the whole table) to `path`. */
export async function exportTo(page: Page, path: string, options: { format?: ExportFormat; whole?: boolean } = {}): Promise<string> {
  await page.getByRole('button', { name: 'Export…' }).click();
  const dialog = page.getByRole('dialog', { name: /^Export / });
  const formats: Record<ExportFormat, RegExp> = { csv: /^CSV$/, json: /^JSON/, sql: /^SQL/ };
  await dialog.getByRole('radio', { name: formats[options.format ?? 'csv'] }).check();
  if (options.whole) await dialog.getByRole('radio', { name: /The whole table/ }).check();
  await dialog.getByLabel('File', { exact: true }).fill(path);
  await dialog.getByRole('button', { name: 'Export', exact: true }).click();
  await expect(dialog).toBeHidden({ timeout: 120_000 });
  const status = page.locator('.status > span').first();
  await expect(status).toContainText(`to ${path}.`);
  return (await status.textContent()) ?? '';
}
