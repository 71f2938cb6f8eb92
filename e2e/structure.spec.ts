// Structure editing and the writable SQL console (issue 14), as a user does them on the demo
// database: a table created in the editor with a key and shared at once; the Fix… beside a
// refusal; a CSV import with a chosen key shared at once; the console's scripts (all or nothing,
// the failing statement named, rows changed, history, Ctrl+Enter, run selection).
import { test, expect, type Locator, type Page } from '@playwright/test';
import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';
import { startImport } from './files.ts';
import { cellAt } from './grid-helpers.ts';

const shots = join(import.meta.dirname, 'screenshots');
mkdirSync(shots, { recursive: true });

const sidebar = (page: Page) => page.getByRole('navigation', { name: 'Tables' });

// e2e type-checks without the DOM lib (see clipboard.ts): the textarea as the page function uses it
type TextArea = { value: string; setSelectionRange(from: number, to: number): void; dispatchEvent(e: unknown): boolean };

/** Selects a textarea's text from where `from` starts (the start for '') to the end, or to the first `upTo` (included). */
function selectText(area: Locator, from: string, upTo?: string): Promise<void> {
  return area.evaluate(
    (el, [from, upTo]) => {
      const t = el as unknown as TextArea;
      const start = from ? t.value.indexOf(from) : 0;
      t.setSelectionRange(start, upTo ? t.value.indexOf(upTo, start) + upTo.length : t.value.length);
      t.dispatchEvent(new (globalThis as unknown as { Event: new (type: string) => unknown }).Event('select'));
    },
    [from, upTo ?? ''] as const,
  );
}

test.describe('structure editing', () => {
  const app = useAppServer();

  test('creates a table in the structure editor with a key and shares it, then changes its columns', async ({ page }) => {
    await page.goto(app.url);
    await sidebar(page).getByRole('button', { name: 'New table…' }).click();
    const dialog = page.getByRole('dialog', { name: 'New table' });
    await dialog.getByLabel('Table name').fill('tasks');
    await dialog.getByLabel('Column 2 name').fill('title');
    await dialog.getByLabel('Column 2 not null').check();
    await dialog.getByLabel('Column 2 default').fill("''");
    await dialog.getByRole('button', { name: 'Add column' }).click();
    await dialog.getByLabel('Column 3 name').fill('due');
    await dialog.getByLabel('Column 3 default').fill('CURRENT_DATE');
    const preview = dialog.getByRole('region', { name: 'SQL it will run' });
    await expect(preview).toContainText(`"title" TEXT NOT NULL DEFAULT ''`);
    await expect(preview).toContainText('PRIMARY KEY ("id")');
    await page.screenshot({ path: join(shots, 'create-table.png') });
    await dialog.getByRole('button', { name: 'Create table' }).click();
    await expect(dialog).toBeHidden();
    await expect(sidebar(page).getByRole('button', { name: /tasks/ })).toContainText('CRR');
    await expect(page.getByRole('grid', { name: 'Rows of tasks' })).toBeVisible();

    // Schema tab: add, rename and drop a column, each shown as SQL first
    await page.getByRole('tab', { name: 'Schema' }).click();
    const schema = page.getByRole('region', { name: 'Schema of tasks' });
    await expect(schema).toContainText('Collaborative (CRR)');
    await schema.getByLabel('New column name').fill('done');
    await schema.getByLabel('New column type').fill('INTEGER');
    await schema.getByLabel('New column default (SQL)').fill('0');
    await schema.getByRole('button', { name: 'Add column…' }).click();
    const change = page.getByRole('dialog', { name: 'Add column done to tasks' });
    await expect(change.getByRole('region', { name: 'SQL it will run' })).toContainText('ALTER TABLE "tasks" ADD COLUMN "done" INTEGER DEFAULT 0');
    await page.screenshot({ path: join(shots, 'schema-change.png') });
    await change.getByRole('button', { name: 'Add column' }).click();
    await expect(schema.getByRole('cell', { name: 'done', exact: true })).toBeVisible();
    await schema.getByRole('button', { name: 'Rename due…' }).click();
    await schema.getByLabel('New name for due').fill('due_on');
    await schema.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('dialog', { name: 'Rename due' }).getByRole('button', { name: 'Rename' }).click();
    await expect(schema.getByRole('cell', { name: 'due_on', exact: true })).toBeVisible();
    await schema.getByRole('button', { name: 'Drop due_on…' }).click();
    await page.getByRole('dialog', { name: 'Drop column due_on' }).getByRole('button', { name: 'Drop column' }).click();
    await expect(schema.getByRole('cell', { name: 'due_on', exact: true })).toHaveCount(0);
    // an index
    await schema.getByRole('group', { name: 'Index columns' }).getByLabel('title').check();
    await schema.getByRole('button', { name: 'Create index…' }).click();
    await page.getByRole('dialog', { name: 'Create index tasks_title_idx' }).getByRole('button', { name: 'Create index' }).click();
    await expect(schema.getByRole('listitem').filter({ hasText: 'tasks_title_idx' })).toBeVisible();
    await page.screenshot({ path: join(shots, 'structure-editor.png'), fullPage: true });
    // the grid follows: the new column is there, still collaborative
    await page.getByRole('tab', { name: 'Rows' }).click();
    await expect(page.getByRole('grid', { name: 'Rows of tasks' }).getByRole('columnheader')).toHaveText([/id/, /title/, /done/]);
    const db = new Database(join(app.dataDir, 'demo.db'), { readonly: true });
    expect(db.prepare(`SELECT name FROM crr_tables WHERE name = 'tasks'`).pluck().get()).toBe('tasks');
    db.close();
  });

  test('fixes what keeps a table from being collaborative, right where the refusal is shown', async ({ page }) => {
    await page.goto(app.url);
    await sidebar(page).getByRole('button', { name: /orders/ }).click();
    await page.getByRole('button', { name: 'Enable collaboration' }).click();
    const refusal = page.getByRole('alert');
    await expect(refusal).toContainText('foreign key');
    await expect(refusal).toContainText('Fix…');
    await refusal.getByRole('button', { name: 'Fix…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Make orders collaborative' });
    await expect(dialog).toContainText('Foreign key to customers: dropped');
    const preview = dialog.getByRole('region', { name: 'SQL it will run' });
    await expect(preview).toContainText('CREATE TABLE "orders__rebuild"');
    await expect(preview).toContainText('customer_id INTEGER,');
    await expect(preview).toContainText('Every row of orders is copied');
    await page.screenshot({ path: join(shots, 'crr-fix.png') });
    await dialog.getByRole('button', { name: 'Fix and enable collaboration' }).click();
    await expect(dialog).toBeHidden();
    await expect(sidebar(page).getByRole('button', { name: /orders/ })).toContainText('CRR');
    await expect(page.getByRole('grid', { name: 'Rows of orders' })).toHaveAttribute('aria-rowcount', '2001');
    await expect(page.locator('.status')).toContainText('orders is now collaborative');
  });

  test('imports a CSV with a chosen key and types, collaborative at once', async ({ page }) => {
    await page.goto(app.url);
    // the first table is open (the toolbar holding Import… is drawn again while the file loads)
    await expect(page.getByRole('grid', { name: 'Rows of customers' })).toBeVisible();
    const csv = join(app.dataDir, 'stock.csv');
    writeFileSync(csv, 'code,label,qty\r\nA1,Lamp,3\r\nB2,"",\r\nC3,Desk,12\r\n');
    await startImport(page, csv);
    const dialog = page.getByRole('dialog', { name: 'Import stock.csv' });
    await dialog.getByLabel('Primary key').selectOption('code');
    await dialog.getByLabel('Type of code').selectOption('TEXT');
    await dialog.getByLabel('Type of qty').selectOption('INTEGER');
    await page.screenshot({ path: join(shots, 'csv-import-key.png') });
    await dialog.getByRole('button', { name: 'Import' }).click();
    await expect(dialog).toBeHidden();
    await expect(sidebar(page).getByRole('button', { name: /stock/ })).toContainText('CRR');
    const db = new Database(join(app.dataDir, 'demo.db'), { readonly: true });
    expect(db.prepare(`SELECT code, quote(label), typeof(qty) FROM stock ORDER BY code`).raw().all()).toEqual([
      ['A1', "'Lamp'", 'integer'],
      ['B2', "''", 'null'],
      ['C3', "'Desk'", 'integer'],
    ]);
    db.close();
  });
});

test.describe('SQL console', () => {
  const app = useAppServer();
  const editor = (page: Page) => page.getByLabel('SQL to run');

  test('runs a script all or nothing, names the failing statement, reports rows changed; grid and sidebar follow', async ({ page }) => {
    await page.goto(app.url);
    await page.getByRole('button', { name: 'SQL console', exact: true }).click();
    // the failing statement is named; nothing of the script is kept
    await editor(page).fill(`UPDATE products SET stock = 0;\nCREATE TABLE scratch (id INTEGER PRIMARY KEY NOT NULL);\nUPDATE products SET nosuch = 1;`);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(page.getByRole('alert')).toHaveText('Statement 3 of 3 (UPDATE products SET nosuch = …) failed: no such column: nosuch. Nothing was changed.');
    await page.screenshot({ path: join(shots, 'sql-console-error.png') });
    await expect(sidebar(page).getByRole('button', { name: /scratch/ })).toHaveCount(0);
    const db = new Database(join(app.dataDir, 'demo.db'), { readonly: true });
    expect(db.prepare(`SELECT count(*) FROM products WHERE stock = 0`).pluck().get()).toBeLessThan(200);
    // Ctrl+Enter runs it all: rows changed per statement, the new table in the sidebar
    await editor(page).fill(`ALTER TABLE customers ADD COLUMN vip INTEGER DEFAULT 0;\nUPDATE customers SET vip = 1 WHERE id <= 3;\nCREATE TABLE scratch (id INTEGER PRIMARY KEY NOT NULL, note TEXT);\nINSERT INTO scratch (note) VALUES ('a'), ('b');\nSELECT id, name, vip FROM customers WHERE vip = 1;`);
    await editor(page).press('Control+Enter');
    const report = page.getByRole('region', { name: 'What the script did' });
    await expect(report).toContainText('5 statements ran in one transaction · 5 rows changed · the schema changed · showing the rows of statement 5');
    await expect(report.getByRole('listitem')).toHaveText([/ALTER TABLE customers ADD COLUMN … — schema changed/, /3 rows changed/, /schema changed/, /2 rows changed/, /read/]);
    const results = page.getByRole('grid', { name: 'Query results' });
    await expect(results).toHaveAttribute('aria-rowcount', '4');
    await page.screenshot({ path: join(shots, 'sql-console.png') });
    await expect(sidebar(page).getByRole('button', { name: /scratch/ })).toBeVisible();
    // the write to a CRR table is tracked (it syncs): its versions are in the engine's clocks
    expect(db.prepare(`SELECT count(*) FROM crr_history WHERE "table" = 'customers' AND cid = 'vip'`).pluck().get()).toBe(3);
    db.close();
    // switching tabs keeps the script and its results
    await sidebar(page).getByRole('button', { name: /customers/ }).click();
    await expect(page.getByRole('grid', { name: 'Rows of customers' }).getByRole('columnheader', { name: /vip/ })).toBeVisible();
    await page.getByRole('button', { name: 'SQL console', exact: true }).click();
    await expect(editor(page)).toHaveValue(/SELECT id, name, vip FROM customers/);
    await expect(results).toHaveAttribute('aria-rowcount', '4');
    await expect(cellAt(results, 2, 3)).toHaveText('1');
  });

  test('runs the selection, keeps a history per file, shows RETURNING rows', async ({ page }) => {
    await page.goto(app.url);
    await page.getByRole('button', { name: 'SQL console', exact: true }).click();
    await editor(page).fill(`SELECT 'first' AS which;\nSELECT 'second' AS which;`);
    // select the second line and run only it (button, then Ctrl+Shift+Enter)
    await selectText(editor(page), `SELECT 'second'`);
    await page.getByRole('button', { name: 'Run selection' }).click();
    const results = page.getByRole('grid', { name: 'Query results' });
    await expect(results.getByRole('gridcell')).toHaveText(['second']);
    await selectText(editor(page), '', ';');
    await editor(page).press('Control+Shift+Enter');
    await expect(results.getByRole('gridcell')).toHaveText(['first']);
    await editor(page).fill(`INSERT INTO events (kind, at, value) VALUES ('note', '2026-01-01', 1.5) RETURNING id, kind, value`);
    await editor(page).press('Control+Enter');
    await expect(page.getByRole('table', { name: 'Query results' })).toContainText('note');
    await expect(page.getByRole('region', { name: 'What the script did' })).toContainText('1 row changed');
    // the history: newest first, and it loads a script back
    const history = page.getByLabel('History');
    const options = history.getByRole('option');
    await expect(options.nth(1)).toHaveText(/^INSERT INTO events/);
    await expect(options.nth(2)).toHaveText(`SELECT 'first' AS which;`);
    await expect(options.nth(3)).toHaveText(`SELECT 'second' AS which;`);
    const count = await options.count();
    await history.selectOption({ index: 3 });
    await expect(editor(page)).toHaveValue(`SELECT 'second' AS which;`);
    // kept by main, per file: a reload shows it
    await page.reload();
    await page.getByRole('button', { name: 'SQL console', exact: true }).click();
    await expect(page.getByLabel('History').getByRole('option')).toHaveCount(count);
  });
});
