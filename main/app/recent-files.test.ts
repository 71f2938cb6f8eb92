// Recent files on real files in a temp data folder: what Open Recent (menu and page) lists.
import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../crr/test-helpers.ts';
import { clearRecentFiles, readRecentFiles, rememberRecentFile } from './recent-files.ts';

const tmp = tempDir('recent-');
afterAll(() => tmp.cleanup());
let n = 0;
const folder = () => {
  const dir = join(tmp.dir, `data-${n++}`);
  mkdirSync(dir);
  return dir;
};
const file = (name: string) => {
  const p = join(tmp.dir, name);
  writeFileSync(p, '');
  return p;
};

describe('recent files', () => {
  it('lists the latest first, each once, at most ten', () => {
    const dir = folder();
    const files = Array.from({ length: 12 }, (_, i) => file(`f${i}.db`));
    for (const f of files) rememberRecentFile(dir, f);
    rememberRecentFile(dir, files[5]);
    const list = readRecentFiles(dir);
    expect(list).toHaveLength(10);
    expect(list.slice(0, 3)).toEqual([files[5], files[11], files[10]]);
    expect(new Set(list).size).toBe(10);
  });

  it('leaves out files that are gone, and reads a missing or damaged list as empty', () => {
    const dir = folder();
    const kept = file('kept.db');
    const gone = file('gone.db');
    rememberRecentFile(dir, kept);
    rememberRecentFile(dir, gone);
    rmSync(gone);
    expect(readRecentFiles(dir)).toEqual([kept]);
    expect(readRecentFiles(folder())).toEqual([]);
    const damaged = folder();
    writeFileSync(join(damaged, 'recent.json'), '{not json');
    expect(readRecentFiles(damaged)).toEqual([]);
    writeFileSync(join(damaged, 'recent.json'), JSON.stringify({ a: 1 }));
    expect(readRecentFiles(damaged)).toEqual([]);
    writeFileSync(join(damaged, 'recent.json'), JSON.stringify([kept, 7, null]));
    expect(readRecentFiles(damaged)).toEqual([kept]);
  });

  it('clears the list (Clear Menu)', () => {
    const dir = folder();
    rememberRecentFile(dir, file('c.db'));
    clearRecentFiles(dir);
    expect(readRecentFiles(dir)).toEqual([]);
  });
});
