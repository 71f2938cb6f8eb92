// Scripts run in the SQL console, per database file, newest first: kept in the data folder beside
// the recent files (sql-history.json), or only in memory when there is none (tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PER_FILE = 100;
const FILES = 50;
/** longer scripts (a pasted dump) are run but not remembered */
const MAX_SCRIPT = 100_000;

type Store = Record<string, string[]>;

export class SqlHistory {
  private memory: Store = {};

  constructor(private readonly dir?: string) {}

  private read(): Store {
    if (!this.dir) return this.memory;
    try {
      const data = JSON.parse(readFileSync(join(this.dir, 'sql-history.json'), 'utf8'));
      return data && typeof data === 'object' && !Array.isArray(data) ? (data as Store) : {};
    } catch {
      return {};
    }
  }

  list(file: string): string[] {
    const list = this.read()[file];
    return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : [];
  }

  add(file: string, sql: string): string[] {
    const text = sql.trim();
    if (!text || text.length > MAX_SCRIPT) return this.list(file);
    const store = this.read();
    const list = [text, ...this.list(file).filter((s) => s !== text)].slice(0, PER_FILE);
    // the file used last goes last: the oldest files are forgotten first
    delete store[file];
    store[file] = list;
    const files = Object.keys(store);
    for (const f of files.slice(0, Math.max(0, files.length - FILES))) delete store[f];
    if (this.dir) writeFileSync(join(this.dir, 'sql-history.json'), JSON.stringify(store, null, 1));
    else this.memory = store;
    return list;
  }
}
