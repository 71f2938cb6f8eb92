// A file whose table `typed` holds the values typed editors are for, in every format they keep
// (JSON compact, spaced, formatted with 4 spaces and laid out otherwise; dates as DATE text,
// DATETIME text with ' ' and with T and Z or an offset, unix seconds, milliseconds and REAL
// seconds, julian days; TIME text; BOOLEAN 0/1/NULL and a 2; CRLF text with trailing spaces; a
// blob), with a log of every UPDATE (a trigger), and a browser-mode server on it.
import { test } from '@playwright/test';
import Database from 'better-sqlite3';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { useAppServer } from './app-server.ts';

export const TYPED_COLUMNS = ['id', 'doc', 'body', 'd', 'dt', 'ts', 't', 'flag', 'raw'] as const;

const ROWS = `INSERT INTO typed VALUES
        (1, '{"a":1,"b":[1.0,12345678901234567890],"s":"x\\u00e9 \\"q\\""}', 'one line', '2026-12-01', '2026-12-01 13:45:00', 1796132700, '13:45', 1, x'89504E470D0A1A0A0000000D49484452'),
        (2, '{' || char(10) || '    "x": "y"' || char(10) || '}', 'line one' || char(10) || 'line two', '2026-02-28', '2026-12-01T13:45:00.120Z', 1796132700123, '07:30:15', 0, x''),
        (3, '{ "odd":  true }', 'crlf' || char(13) || char(10) || 'ends with spaces  ', NULL, '2026-12-01T13:45+02:00', 1796132700.5, NULL, NULL, NULL),
        (4, '[1, 2, 3]', '', '', NULL, 2461376.07291667, '', 2, zeroblob(300)),
        (5, NULL, NULL, '01/12/2026', '', NULL, NULL, 'yes', NULL);`;

export function useTypedValues(name: string) {
  let file = '';
  test.beforeAll(() => {
    const dir = join(import.meta.dirname, '..', '.tmp');
    mkdirSync(dir, { recursive: true });
    file = join(dir, `${name}-${process.pid}.db`);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    const db = new Database(file);
    db.exec(`CREATE TABLE typed (id INTEGER PRIMARY KEY NOT NULL, doc JSON, body TEXT, d DATE, dt DATETIME, ts TIMESTAMP, t TIME, flag BOOLEAN, raw BLOB);
      CREATE TABLE writes (n INTEGER PRIMARY KEY, what TEXT);
      CREATE TRIGGER typed_written AFTER UPDATE ON typed BEGIN INSERT INTO writes (what) VALUES ('row ' || old.id); END;
      ${ROWS}`);
    db.close();
  });
  const app = useAppServer(() => file);
  /** another program's view of the file */
  const sql = <T>(fn: (db: Database.Database) => T): T => {
    const db = new Database(file);
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    get url() {
      return app.url;
    },
    sql,
    /** every cell exactly: its storage class and its value (integers as bigints, reals as doubles, text and blob bytes as hex) */
    snapshot: () =>
      sql((db) =>
        (db.prepare(`SELECT ${TYPED_COLUMNS.map((c) => `typeof(${c}), ${c}, hex(${c})`).join(', ')} FROM typed ORDER BY id`).raw().safeIntegers(true).all() as unknown[][]).map((r) =>
          TYPED_COLUMNS.map((_, i) => `${r[i * 3]}:${r[i * 3] === 'real' ? (r[i * 3 + 1] as number).toString() : r[i * 3 + 2]}`),
        ),
      ),
    writes: () => sql((db) => db.prepare('SELECT what FROM writes ORDER BY n').pluck().all() as string[]),
    clearWrites: () => sql((db) => db.exec('DELETE FROM writes')),
    /** the rows as they were at first (another program's write: the app follows it) */
    reset: () => sql((db) => db.exec(`BEGIN; DELETE FROM typed; ${ROWS}; DELETE FROM writes; COMMIT;`)),
  };
}
