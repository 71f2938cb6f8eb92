// Opening a user's file safely: a file that is not SQLite, is locked by another program, or is
// read-only gives a clear ApiError and nothing is written to it.
import Database from 'better-sqlite3';
import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync } from 'node:fs';
import { ApiError } from '../../shared/errors.ts';

const SQLITE_HEADER = 'SQLite format 3\0';

function readHeader(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    return buf.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

function isWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    // root passes access(); a file without any write bit is still meant to be read-only
    return (statSync(path).mode & 0o222) !== 0;
  } catch {
    return false;
  }
}

export interface OpenedFile {
  db: Database.Database;
  readOnly: boolean;
}

export function openDatabaseFile(path: string, create = false): OpenedFile {
  if (!existsSync(path)) {
    if (!create) throw new ApiError('not-found', `No file at ${path}.`);
    return { db: new Database(path), readOnly: false };
  }
  if (statSync(path).isDirectory()) throw new ApiError('invalid-argument', `${path} is a folder, not a database file.`);
  const size = statSync(path).size;
  if (size > 0 && readHeader(path) !== SQLITE_HEADER) {
    throw new ApiError('not-sqlite', `${path} is not a SQLite database (its first bytes are not a SQLite header). Nothing was changed.`);
  }
  const readOnly = !isWritable(path);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: readOnly, fileMustExist: true, timeout: 0 });
  } catch (err) {
    throw new ApiError('sql-error', `Could not open ${path}: ${(err as Error).message}`);
  }
  if (!readOnly) {
    try {
      // another program holding a write lock would make every edit fail: say so now
      db.prepare('BEGIN IMMEDIATE').run();
      db.prepare('ROLLBACK').run();
    } catch (err) {
      db.close();
      if (/busy|locked/i.test(String(err))) {
        throw new ApiError('locked', `${path} is locked by another program. Close it there, then open it again.`);
      }
      throw new ApiError('sql-error', `Could not open ${path}: ${(err as Error).message}`);
    }
  }
  return { db, readOnly };
}
