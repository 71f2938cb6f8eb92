// Type-aware cell editors (issue 15, habits): JSON shown formatted and validated, date/time pickers
// that keep the stored format and storage class, checkboxes for BOOLEAN columns, the value panel;
// and above all, an editor opened and closed without a change writes nothing.
import { test, expect, type Locator, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cellAt, shootBoth } from './grid-helpers.ts';
import { TYPED_COLUMNS, useTypedValues } from './typed-values.ts';

const shots = join(import.meta.dirname, 'screenshots');
mkdirSync(shots, { recursive: true });

const col = (name: (typeof TYPED_COLUMNS)[number]) => TYPED_COLUMNS.indexOf(name) + 1;

test.describe('typed cell editors', () => {
  const file = useTypedValues('typed-editors');
  const grid = (page: Page) => page.getByRole('grid', { name: 'Rows of typed' });
  test.beforeEach(() => file.reset());
  const open = async (page: Page) => {
    await page.goto(file.url);
    await expect(cellAt(grid(page), 6, 1)).toHaveText('5');
    return grid(page);
  };
  const editorOf = (g: Locator, column: string) => g.getByLabel(`Edit ${column}`, { exact: true });
  const stored = (column: string, id: number) => file.sql((db) => db.prepare(`SELECT typeof(${column}) AS t, ${column} AS v FROM typed WHERE id = ?`).safeIntegers(true).get(id));

  test('every editor opened and closed without a change writes nothing: values stay byte-identical, no UPDATE runs', async ({ page }) => {
    const g = await open(page);
    const before = file.snapshot();
    file.clearWrites();
    const closers = ['Enter', 'Tab', 'blur', 'Escape'] as const;
    for (let id = 1; id <= 5; id++) {
      for (const [ci, name] of TYPED_COLUMNS.slice(1).entries()) {
        const cell = cellAt(g, id + 1, col(name));
        await cell.click({ position: { x: 4, y: 4 } }); // not on a checkbox
        await page.keyboard.press('Enter'); // the editor of the column's type (not by typing)
        const editor = editorOf(g, name);
        await expect(editor).toBeVisible();
        await expect(editor).toBeFocused();
        // JSON cells: switch views and back first (a view is no change either)
        const toggle = g.getByRole('button', { name: /^(Format|As stored)$/ });
        if (await toggle.count()) {
          await toggle.click();
          await toggle.click();
          await editor.focus();
        }
        // every column is closed every way over its five rows
        const how = closers[(id + ci) % closers.length];
        if (how === 'blur') await page.getByRole('heading', { name: 'typed', exact: true }).click();
        else await page.keyboard.press(how);
        await expect(editor).toBeHidden();
      }
    }
    await page.waitForTimeout(300); // any write would have been sent by now
    expect(file.writes()).toEqual([]);
    expect(file.snapshot()).toEqual(before);
  });

  test('JSON: shown formatted and validated; an edit is stored in the value\'s layout, numbers as written; invalid JSON is asked about', async ({ page }) => {
    const g = await open(page);
    await cellAt(g, 2, col('doc')).dblclick();
    const editor = editorOf(g, 'doc');
    await expect(editor).toHaveValue('{\n  "a": 1,\n  "b": [\n    1.0,\n    12345678901234567890\n  ],\n  "s": "x\\u00e9 \\"q\\""\n}');
    await expect(g.getByRole('status')).toHaveText('Valid JSON · object, 3 keys');
    await page.screenshot({ path: join(shots, 'json-editor.png') });
    // an edit: stored compact, as the value was, every other token as written
    await editor.fill((await editor.inputValue()).replace('"a": 1', '"a": 2'));
    await editor.press('Enter');
    await expect(editor).toBeHidden();
    await expect.poll(() => stored('doc', 1)).toEqual({ t: 'text', v: '{"a":2,"b":[1.0,12345678901234567890],"s":"x\\u00e9 \\"q\\""}' });

    // a value formatted with 4 spaces keeps them
    await cellAt(g, 3, col('doc')).dblclick();
    await expect(editor).toHaveValue('{\n    "x": "y"\n}');
    await editor.fill('{\n    "x": "z",\n    "n": 1\n}');
    await editor.press('Enter');
    await expect.poll(() => stored('doc', 2)).toEqual({ t: 'text', v: '{\n    "x": "z",\n    "n": 1\n}' });

    // invalid JSON: where and why, then a question; Esc cancels, a second Enter stores it as text
    await cellAt(g, 5, col('doc')).dblclick();
    await expect(editor).toHaveValue('[\n  1,\n  2,\n  3\n]');
    await editor.fill('[1, 2,');
    await expect(g.getByRole('status')).toContainText('Not valid JSON · line 1, column 7');
    await editor.press('Enter');
    await expect(g.getByRole('alert')).toContainText('not valid JSON');
    await page.screenshot({ path: join(shots, 'json-invalid.png') });
    await editor.press('Escape');
    await expect(editor).toBeHidden();
    expect(stored('doc', 4)).toEqual({ t: 'text', v: '[1, 2, 3]' });
    await cellAt(g, 5, col('doc')).dblclick();
    await editor.fill('[1, 2,');
    await editor.press('Enter');
    await editor.press('Enter');
    await expect(editor).toBeHidden();
    await expect.poll(() => stored('doc', 4)).toEqual({ t: 'text', v: '[1, 2,' });

    // a layout of its own opens as stored; Format shows it formatted
    await cellAt(g, 4, col('doc')).dblclick();
    await expect(editor).toHaveValue('{ "odd":  true }');
    await g.getByRole('button', { name: 'Format' }).click();
    await expect(editor).toHaveValue('{\n  "odd": true\n}');
    await editor.press('Escape');
  });

  test('date and time pickers write the picked moment back in the stored format and storage class', async ({ page }) => {
    const g = await open(page);
    const pick = async (id: number, column: string, value: string, kind: string) => {
      await cellAt(g, id + 1, col(column as never)).dblclick();
      const input = editorOf(g, column);
      await expect(input).toHaveAttribute('type', kind);
      await input.fill(value);
      await input.press('Enter');
      await expect(input).toBeHidden();
    };
    await cellAt(g, 2, col('dt')).dblclick();
    await expect(editorOf(g, 'dt')).toHaveValue(/^2026-12-01T13:45(:00)?$/); // the input drops :00 seconds
    await expect(g.getByText('Stored as TEXT YYYY-MM-DD HH:MM:SS')).toBeVisible();
    // the browser's calendar opens over it and leaves the editor open; Esc closes the calendar, then the editor
    const at = (await editorOf(g, 'dt').boundingBox())!;
    await page.mouse.click(at.x + at.width - 10, at.y + at.height / 2);
    await page.screenshot({ path: join(shots, 'datetime-picker.png') });
    await expect(editorOf(g, 'dt')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(editorOf(g, 'dt')).toBeVisible();
    await page.keyboard.press('Escape');
    await expect(editorOf(g, 'dt')).toBeHidden();
    expect(file.writes()).toEqual([]);

    await pick(1, 'dt', '2026-12-24T08:05', 'datetime-local');
    await expect.poll(() => stored('dt', 1)).toEqual({ t: 'text', v: '2026-12-24 08:05:00' });
    await pick(2, 'dt', '2027-01-02T03:04:05.5', 'datetime-local');
    await expect.poll(() => stored('dt', 2)).toEqual({ t: 'text', v: '2027-01-02T03:04:05.500Z' });
    await pick(3, 'dt', '2027-01-02T03:04', 'datetime-local');
    await expect.poll(() => stored('dt', 3)).toEqual({ t: 'text', v: '2027-01-02T03:04+02:00' });
    await pick(1, 'd', '2026-02-14', 'date');
    await expect.poll(() => stored('d', 1)).toEqual({ t: 'text', v: '2026-02-14' });
    await pick(3, 'd', '2026-03-01', 'date'); // NULL: the DATE column's usual format
    await expect.poll(() => stored('d', 3)).toEqual({ t: 'text', v: '2026-03-01' });
    await pick(2, 't', '08:00:30', 'time');
    await expect.poll(() => stored('t', 2)).toEqual({ t: 'text', v: '08:00:30' });

    // numbers stay numbers of their class: unix seconds, milliseconds, REAL seconds, julian days (UTC)
    await cellAt(g, 2, col('ts')).dblclick();
    await expect(editorOf(g, 'ts')).toHaveValue(/^2026-12-01T13:45(:00)?$/);
    await expect(g.getByText('UTC', { exact: true })).toBeVisible();
    await page.keyboard.press('Escape');
    await pick(1, 'ts', '2026-12-01T13:46:00', 'datetime-local');
    await expect.poll(() => stored('ts', 1)).toEqual({ t: 'integer', v: 1796132760n });
    await pick(2, 'ts', '2026-12-01T13:45:01.250', 'datetime-local');
    await expect.poll(() => stored('ts', 2)).toEqual({ t: 'integer', v: 1796132701250n });
    await pick(3, 'ts', '2026-12-01T13:45:02.250', 'datetime-local');
    await expect.poll(() => stored('ts', 3)).toEqual({ t: 'real', v: 1796132702.25 });
    await pick(4, 'ts', '2000-01-02T00:00', 'datetime-local');
    await expect.poll(() => stored('ts', 4)).toEqual({ t: 'real', v: 2451545.5 });
    // a whole julian day (noon) cannot stay REAL in a TIMESTAMP column (NUMERIC affinity): the picker says so
    await cellAt(g, 5, col('ts')).dblclick();
    await editorOf(g, 'ts').fill('2000-01-01T12:00');
    await expect(g.getByText('A whole number: SQLite stores it as INTEGER in a TIMESTAMP column.')).toBeVisible();
    await page.keyboard.press('Escape');

    // a format the picker cannot give back edits as text; "Edit as text" is always there
    await cellAt(g, 6, col('d')).dblclick();
    await expect(g.getByRole('textbox', { name: 'Edit d' })).toHaveValue('01/12/2026');
    await page.keyboard.press('Escape');
    await cellAt(g, 2, col('d')).dblclick();
    await g.getByRole('button', { name: 'Edit as text' }).click();
    await expect(g.getByRole('textbox', { name: 'Edit d' })).toHaveValue('2026-02-14');
    await page.keyboard.press('Escape');
  });

  test('BOOLEAN cells are checkboxes: a click or Space stores 0/1 integers, NULL stays NULL until clicked, other values stay text', async ({ page }) => {
    const g = await open(page);
    const box = (id: number) => cellAt(g, id + 1, col('flag')).getByRole('checkbox');
    await expect(box(1)).toBeChecked();
    await expect(box(2)).not.toBeChecked();
    await expect(cellAt(g, 4, col('flag'))).toContainText('NULL');
    await expect(cellAt(g, 5, col('flag'))).toHaveText('2');
    await expect(cellAt(g, 5, col('flag')).getByRole('checkbox')).toHaveCount(0);
    await expect(cellAt(g, 6, col('flag'))).toHaveText('yes');
    await cellAt(g, 2, col('raw')).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'boolean-checkboxes.png') });
    await box(1).click();
    await expect.poll(() => stored('flag', 1)).toEqual({ t: 'integer', v: 0n });
    await expect(box(1)).not.toBeChecked();
    // the click left the keys with the grid: Ctrl+Z undoes it, arrows move
    await page.keyboard.press('Control+z');
    await expect.poll(() => stored('flag', 1)).toEqual({ t: 'integer', v: 1n });
    await expect(box(1)).toBeChecked();
    await page.keyboard.press('ArrowDown');
    await expect(cellAt(g, 3, col('flag'))).toHaveAttribute('aria-selected', 'true');
    await box(3).click(); // NULL
    await expect.poll(() => stored('flag', 3)).toEqual({ t: 'integer', v: 1n });
    // (by its corner: a click on the checkbox in its middle would toggle it already)
    await cellAt(g, 3, col('flag')).click({ position: { x: 3, y: 3 } });
    await page.keyboard.press(' ');
    await expect.poll(() => stored('flag', 2)).toEqual({ t: 'integer', v: 1n });
    // Space on a value that is not 0/1 types, as on any cell
    await cellAt(g, 5, col('flag')).click();
    await page.keyboard.press(' ');
    await expect(g.getByRole('textbox', { name: 'Edit flag' })).toHaveValue(' ');
    await page.keyboard.press('Escape');
    expect(stored('flag', 4)).toEqual({ t: 'integer', v: 2n });
  });

  test('the value panel shows the whole value with its storage class: text with line breaks, JSON formatted, blob as hex, a unix time as its moment', async ({ page }) => {
    const g = await open(page);
    const side = page.getByRole('complementary', { name: 'Details' });
    await side.getByRole('tab', { name: 'Value' }).click();
    const panel = side.getByRole('region', { name: 'Cell value' });
    await cellAt(g, 4, col('body')).click();
    await expect(panel.getByLabel('Value of body')).toHaveText('crlf\r\nends with spaces  ', { useInnerText: false });
    await expect(panel).toContainText('TEXT · 24 characters · 2 lines · starts or ends with whitespace');
    await cellAt(g, 2, col('doc')).click();
    await expect(panel.getByLabel('Value of doc')).toContainText('"b": [');
    await expect(panel).toContainText('Valid JSON');
    await shootBoth(page, 'value-panel-json');
    await panel.getByRole('button', { name: 'As stored' }).click();
    await expect(panel.getByLabel('Value of doc')).toHaveText(/^\{"a":/);
    await cellAt(g, 2, col('raw')).click();
    await expect(panel).toContainText('BLOB · 16 bytes');
    await expect(panel.getByLabel('Bytes of raw')).toContainText('00000000  89 50 4E 47 0D 0A 1A 0A  .PNG....\n00000008  00 00 00 0D 49 48 44 52  ....IHDR');
    await page.screenshot({ path: join(shots, 'value-panel-blob.png') });
    await cellAt(g, 3, col('ts')).click();
    await expect(panel).toContainText('INTEGER');
    await expect(panel).toContainText('2026-12-01 13:45:00.123 UTC');
    await cellAt(g, 6, col('doc')).click();
    await expect(panel).toContainText('NULL');
    await expect(panel).toContainText('not the empty string');
  });
});
