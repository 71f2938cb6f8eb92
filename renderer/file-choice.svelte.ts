// Choosing a file (issue 15): the shell's native dialog where there is one (Electron), else the
// app's own folder browser (browser mode, FileBrowserDialog.svelte), shown by App.svelte while a
// choice is pending. Resolves to a path on the machine where main runs, or null when cancelled.
import type { FileChoice } from '../shared/api.ts';
import { call } from './api-client.ts';

export const fileChoice = $state({ pending: null as null | { choice: FileChoice; resolve: (path: string | null) => void } });

export async function chooseFile(choice: FileChoice): Promise<string | null> {
  const native = await call('chooseFile', choice);
  if (native.native) return native.path;
  fileChoice.pending?.resolve(null);
  return new Promise((resolve) => (fileChoice.pending = { choice, resolve }));
}

/** The folder browser's answer. */
export function fileChosen(path: string | null): void {
  const p = fileChoice.pending;
  fileChoice.pending = null;
  p?.resolve(path);
}

/** The folder of a path, and its last part ('' for a folder path). */
export function splitPath(path: string, sep: string): { dir: string; name: string } {
  const at = path.lastIndexOf(sep);
  if (at < 0) return { dir: '', name: path };
  return { dir: at === 0 ? sep : path.slice(0, at), name: path.slice(at + 1) };
}

export function joinPath(dir: string, name: string, sep: string): string {
  return dir.endsWith(sep) ? dir + name : `${dir}${sep}${name}`;
}

export function sizeText(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}
