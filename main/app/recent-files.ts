// Recently opened files, kept in the data folder.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MAX = 10;

export function readRecentFiles(dir: string): string[] {
  try {
    const list = JSON.parse(readFileSync(join(dir, 'recent.json'), 'utf8'));
    return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string' && existsSync(p)) : [];
  } catch {
    return [];
  }
}

export function rememberRecentFile(dir: string, path: string): string[] {
  const list = [path, ...readRecentFiles(dir).filter((p) => p !== path)].slice(0, MAX);
  writeFileSync(join(dir, 'recent.json'), JSON.stringify(list, null, 2));
  return list;
}

export function clearRecentFiles(dir: string): void {
  writeFileSync(join(dir, 'recent.json'), '[]');
}
