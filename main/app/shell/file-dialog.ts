// The native file dialog of the Electron shell, as data (issue 15): a page's chooseFile request
// checked and turned into Electron's dialog options, and the dialog's answer into a path. The
// call itself is one line in electron-main.ts; everything decided is here, tested without Electron.
import type { OpenDialogOptions, OpenDialogReturnValue, SaveDialogOptions, SaveDialogReturnValue } from 'electron';
import type { FileChoice } from '../../../shared/api.ts';
import { ApiError } from '../../../shared/errors.ts';
import { userPath } from '../file-browser.ts';

export type DialogPlan = { kind: 'open'; options: OpenDialogOptions } | { kind: 'save'; options: SaveDialogOptions };

/** Validates a page's request (it is input like any other) and plans the dialog. */
export function dialogPlan(p: unknown, home: string): DialogPlan {
  const c = (p ?? {}) as Partial<FileChoice>;
  if (c.purpose !== 'open' && c.purpose !== 'save') throw new ApiError('invalid-argument', 'A file is chosen to open or to save.');
  const title = typeof c.title === 'string' && c.title.trim() ? c.title.trim().slice(0, 200) : c.purpose === 'open' ? 'Open' : 'Save';
  const exts = Array.isArray(c.extensions) ? c.extensions.filter((e): e is string => typeof e === 'string' && /^[\w-]{1,16}$/.test(e)) : [];
  const filters = [...(exts.length ? [{ name: exts.map((e) => e.toUpperCase()).join(', '), extensions: exts }] : []), { name: 'All files', extensions: ['*'] }];
  const defaultPath = typeof c.defaultPath === 'string' && c.defaultPath.trim() ? userPath(c.defaultPath, home) : home;
  if (c.purpose === 'open') return { kind: 'open', options: { title, defaultPath, filters, properties: ['openFile'] } };
  // the native save dialog asks before replacing a file itself
  return { kind: 'save', options: { title, defaultPath, filters, properties: ['showOverwriteConfirmation', 'createDirectory'] } };
}

/** The dialog's answer as the API's: a path, or null when cancelled. */
export function dialogAnswer(r: OpenDialogReturnValue | SaveDialogReturnValue): { native: true; path: string | null } {
  if (r.canceled) return { native: true, path: null };
  const path = 'filePaths' in r ? r.filePaths[0] : r.filePath;
  return { native: true, path: path || null };
}
