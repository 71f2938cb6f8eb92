// How the Electron main process tells `npm start` it came up (so a later exit is the app's, not
// "Electron cannot start here"): it writes the file named by CRR_DESK_STARTED_FILE once ready.
import { writeFileSync } from 'node:fs';

export const STARTED_FILE_ENV = 'CRR_DESK_STARTED_FILE';

export function markStarted(env: NodeJS.ProcessEnv = process.env): void {
  const file = env[STARTED_FILE_ENV];
  if (!file) return;
  try {
    writeFileSync(file, String(process.pid));
  } catch {
    // npm start then treats an exit as a failed start: a message, never a crash of the app
  }
}
