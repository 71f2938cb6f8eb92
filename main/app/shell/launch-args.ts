// What a command line asks the app to open, and what a second instance hands to the first.
// Electron's argv is [binary, main.cjs, ...args] unpackaged (npm start) and [binary, ...args]
// packaged; Chromium adds --switches of its own, also to the argv a second instance passes on.
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Options that take the next argument as their value (browser mode's; ignored by the window). */
const VALUE_OPTIONS = new Set(['--port']);

/** The user's arguments in an Electron process's argv. */
export function userArgs(argv: string[], packaged: boolean): string[] {
  return argv.slice(packaged ? 1 : 2);
}

/** The first argument naming a file (a path or a file:// URL), made absolute against `cwd`; null if none. */
export function fileArgument(args: string[], cwd: string): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (VALUE_OPTIONS.has(a)) i++;
    else if (a === '' || a.startsWith('-')) continue;
    else if (a.startsWith('file://')) {
      try {
        return fileURLToPath(a);
      } catch {
        continue;
      }
    } else return resolve(cwd, a);
  }
  return null;
}

/** `args` with their file argument made absolute against `cwd` (npm runs scripts in the package root, not where the user typed). */
export function absoluteFileArgs(args: string[], cwd: string): string[] {
  const out = [...args];
  for (let i = 0; i < out.length; i++) {
    if (VALUE_OPTIONS.has(out[i])) i++;
    else if (out[i] !== '' && !out[i].startsWith('-')) {
      out[i] = fileArgument([out[i]], cwd) ?? out[i];
      break;
    }
  }
  return out;
}

const KEY = 'crrDeskOpen';

/** What a second instance passes to requestSingleInstanceLock: the file it was asked to open, already absolute. */
export function handOverData(file: string | null): Record<string, unknown> {
  return { [KEY]: file };
}

/**
 * What the first instance does when a second one starts: open the file it handed over (or, from a
 * second instance that handed nothing over, the file in its argv resolved against its cwd), else
 * bring a window forward.
 */
export function handOverRequest(argv: string[], workingDirectory: string, data: unknown, packaged: boolean): { open: string } | { focus: true } {
  if (data !== null && typeof data === 'object' && KEY in data) {
    const file = (data as Record<string, unknown>)[KEY];
    return typeof file === 'string' && isAbsolute(file) ? { open: file } : { focus: true };
  }
  const file = fileArgument(userArgs(argv, packaged), workingDirectory);
  return file ? { open: file } : { focus: true };
}
