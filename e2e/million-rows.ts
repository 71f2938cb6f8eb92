// A file with one table of 1,000,000 rows (big: id INTEGER PRIMARY KEY, label TEXT 'row N',
// n REAL), made once per describe block, and a browser-mode server on it.
import { test } from '@playwright/test';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';

export function useMillionRows(name: string): { readonly url: string; readonly file: string; readonly pid: number } {
  let file = '';
  test.beforeAll(() => {
    const dir = join(import.meta.dirname, '..', '.tmp');
    mkdirSync(dir, { recursive: true });
    file = join(dir, `${name}-${process.pid}.db`);
    const db = new Database(file);
    db.exec(`DROP TABLE IF EXISTS big; CREATE TABLE big (id INTEGER PRIMARY KEY NOT NULL, label TEXT, n REAL);
      WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000000)
      INSERT INTO big SELECT i, 'row ' || i, i / 7.0 FROM c;`);
    db.close();
  });
  const app = useAppServer(() => file);
  return {
    get url() {
      return app.url;
    },
    get file() {
      return file;
    },
    get pid() {
      return app.pid;
    },
  };
}
