// Driving the editor's grid in specs: a cell by its ARIA position, an edit typed into one, a filter
// added, and a screen photographed in both colour schemes.
import { expect, type Locator, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The cell at an ARIA row index (the header row is 1, so data row n is n + 1) and column index. */
export const cellAt = (grid: Locator, row: number, col: number) =>
  grid.locator(`[role=row][aria-rowindex="${row}"] [role=gridcell][aria-colindex="${col}"]`);

/** Opens the cell's editor, types `text`, commits with Enter and waits until the cell shows `shown`. */
export async function typeInto(grid: Locator, cell: Locator, text: string, shown = text): Promise<void> {
  await cell.dblclick();
  await grid.getByRole('textbox').fill(text);
  await grid.getByRole('textbox').press('Enter');
  await expect(cell).toHaveText(shown);
}

/** Adds a filter with the toolbar's filter form (of the table shown). */
export async function addFilter(page: Page, column: string, op: string, value?: string) {
  await page.getByLabel('Filter column').selectOption(column);
  await page.getByLabel('Filter operator').selectOption(op);
  if (value !== undefined) await page.getByLabel('Filter value').fill(value);
  await page.getByRole('button', { name: 'Apply' }).click();
}

/** The same screen in the light and the dark scheme (the system's setting, as the browser reports it). */
export async function shootBoth(page: Page, name: string): Promise<void> {
  mkdirSync(join(import.meta.dirname, 'screenshots'), { recursive: true });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.screenshot({ path: join(import.meta.dirname, 'screenshots', `${name}-${scheme}.png`) });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}
