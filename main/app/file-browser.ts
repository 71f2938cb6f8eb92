// The folder browser behind the file picker of browser mode (issue 15): what a folder of the
// machine where main runs holds, listed only through the token-checked API (the static server
// serves the renderer's files and nothing else). Paths the user types get `~` expanded and, when
// relative, are taken from the home folder, where the browser starts.
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { DirectoryEntry, DirectoryListing } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';

/** Enough for any real folder; a bigger one lists its first entries and says so. */
export const MAX_ENTRIES = 5000;

/** An absolute path for what the user typed: `~` and `~/x` are the home folder, relative paths start there. */
export function userPath(typed: unknown, home = homedir()): string {
  if (typeof typed !== 'string' || typed.trim() === '') throw new ApiError('invalid-argument', 'A path is required.');
  const p = typed.trim();
  if (p === '~') return home;
  if (p.startsWith('~/') || p.startsWith(`~${sep}`)) return join(home, p.slice(2));
  return isAbsolute(p) ? resolve(p) : resolve(home, p);
}

function kindOf(d: Dirent, full: string): DirectoryEntry['kind'] {
  if (d.isDirectory()) return 'dir';
  if (d.isFile()) return 'file';
  if (d.isSymbolicLink()) {
    try {
      const s = statSync(full);
      return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : 'other';
    } catch {
      return 'other'; // a dangling link
    }
  }
  return 'other';
}

/** Folders first, then files, each by name (case-insensitive, numbers in order); dot-files only when asked. */
export function listDirectory(p: { path?: unknown; hidden?: unknown } = {}, home = homedir()): DirectoryListing {
  const path = p.path === undefined || p.path === '' ? home : userPath(p.path, home);
  let dirents: Dirent[];
  try {
    dirents = readdirSync(path, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'there is no such folder' : code === 'ENOTDIR' ? 'it is a file, not a folder' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
    throw new ApiError(code === 'ENOENT' ? 'not-found' : 'invalid-argument', `Cannot list ${path}: ${why}.`);
  }
  const shown = dirents.filter((d) => p.hidden === true || !d.name.startsWith('.'));
  const entries: DirectoryEntry[] = shown.slice(0, MAX_ENTRIES).map((d) => {
    const full = join(path, d.name);
    const kind = kindOf(d, full);
    let size: number | null = null;
    let modifiedAt: number | null = null;
    if (kind === 'file') {
      try {
        const s = statSync(full);
        size = s.size;
        modifiedAt = s.mtimeMs;
      } catch {
        // vanished or unreadable meanwhile: listed without them
      }
    }
    return { name: d.name, kind, size, modifiedAt };
  });
  const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  entries.sort((a, b) => Number(b.kind === 'dir') - Number(a.kind === 'dir') || collator.compare(a.name, b.name));
  const parent = dirname(path);
  return { path, parent: parent === path ? null : parent, home, separator: sep, entries, truncated: shown.length > MAX_ENTRIES };
}
