// Undo and redo of the user's own edits from anywhere in the window, except text inputs (which
// keep their own text undo), and from toolbar buttons (issue 15, bug 8).
import { test, expect } from '@playwright/test';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';
import { cellAt, typeInto } from './grid-helpers.ts';

const shots = join(import.meta.dirname, 'screenshots');

test.describe('undo and redo', () => {
  const app = useAppServer();

  test('bug 8: Ctrl+Z works after a toolbar button took the focus, not inside text inputs; Undo and Redo buttons', async ({ page }) => {
    await page.goto(app.url);
    const grid = page.getByRole('grid', { name: 'Rows of customers' });
    const name = cellAt(grid, 3, 2);
    await expect(name).not.toHaveText('…');
    const original = (await name.textContent())!.trim();
    const undoButton = page.getByRole('button', { name: 'Undo', exact: true });
    const redoButton = page.getByRole('button', { name: 'Redo', exact: true });
    await expect(undoButton).toBeDisabled();
    await typeInto(grid, name, 'Undo Me');

    // a toolbar button has the focus: Ctrl+Z still undoes the edit
    await page.getByLabel('Filter column').selectOption('id');
    await page.getByLabel('Filter operator').selectOption('<');
    await page.getByLabel('Filter value').fill('100');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page.getByRole('button', { name: 'Apply' })).toBeFocused();
    await page.keyboard.press('Control+z');
    await expect(name).toHaveText(original);
    await page.keyboard.press('Control+Shift+z');
    await expect(name).toHaveText('Undo Me');

    // inside a text input, Ctrl+Z is the input's own: the grid edit stays
    await page.getByLabel('Filter value').fill('12');
    await page.getByLabel('Filter value').press('Control+z');
    await expect(name).toHaveText('Undo Me');

    // the buttons
    await expect(undoButton).toBeEnabled();
    await page.screenshot({ path: join(shots, 'undo-buttons.png') });
    await undoButton.click();
    await expect(name).toHaveText(original);
    await expect(redoButton).toBeEnabled();
    await redoButton.click();
    await expect(name).toHaveText('Undo Me');

    // the history belongs to the window: it survives a visit to the SQL console
    await page.getByRole('button', { name: 'SQL console', exact: true }).click();
    await page.keyboard.press('Control+z');
    await expect(page.locator('.status')).toContainText('Undone.');
    await page.getByRole('tablist', { name: 'Open tables and consoles' }).getByRole('tab', { name: 'customers' }).click();
    await expect(cellAt(page.getByRole('grid', { name: 'Rows of customers' }), 3, 2)).toHaveText(original);
  });
});
