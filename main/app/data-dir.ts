// The per-install data folder: recent files, peer identity, settings, the demo database.
// CRR_DESK_DATA overrides it (tests point it at a temp folder).
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function dataDir(): string {
  const dir =
    process.env.CRR_DESK_DATA ??
    (process.platform === 'darwin'
      ? join(homedir(), 'Library', 'Application Support', 'crr-desk')
      : process.platform === 'win32'
        ? join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'crr-desk')
        : join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'crr-desk'));
  mkdirSync(dir, { recursive: true });
  return dir;
}
