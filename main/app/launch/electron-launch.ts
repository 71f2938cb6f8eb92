// Runs the Electron binary on the built main process and waits for it. Its stderr passes through
// to ours and its beginning is kept: when it exits before it came up (see started-signal.ts),
// that says why (no X server, a missing shared library, the sandbox as root, …).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STARTED_FILE_ENV } from './started-signal.ts';

export interface LaunchResult {
  /** It came up: its exit is the app's own. */
  started: boolean;
  code: number | null;
  signal: string | null;
  stderr: string;
}

export async function launchElectron(binary: string, args: string[], env: NodeJS.ProcessEnv): Promise<LaunchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'crr-desk-start-'));
  const startedFile = join(dir, 'started');
  const childEnv: NodeJS.ProcessEnv = { ...env, [STARTED_FILE_ENV]: startedFile };
  delete childEnv.ELECTRON_RUN_AS_NODE; // set in the caller's environment it would turn Electron into plain Node
  try {
    const child = spawn(binary, args, { env: childEnv, stdio: ['inherit', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      process.stderr.write(d);
      if (stderr.length < 64_000) stderr += d;
    });
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => {
      child.on('error', (err) => {
        stderr += `${err.message}\n`;
        resolve([null, null]);
      });
      child.on('exit', (c, s) => resolve([c, s]));
    });
    return { started: existsSync(startedFile), code, signal, stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Why Electron did not come up, in one line, from its stderr: a FATAL line first, then one naming
 * a known cause (display, shared libraries, sandbox), then any error line, else the last line;
 * Chromium's "[pid:…:ERROR:file.cc(12)] " prefix dropped.
 */
export function launchFailure(r: LaunchResult): string {
  const exit = r.signal ? `killed by ${r.signal}` : r.code === null ? 'could not be run' : `exit code ${r.code}`;
  const lines = r.stderr.split(/\r?\n/).filter((l) => l.trim());
  const text = (l: string) => l.replace(/^\[[^\]]*\]\s*/, '').trim();
  const line =
    lines.find((l) => /^\[[^\]]*:FATAL:/.test(l)) ??
    lines.find((l) => /X server|\$DISPLAY|wayland|shared librar|sandbox/i.test(l)) ??
    lines.find((l) => /error|cannot|can't|failed|not supported|denied/i.test(text(l))) ??
    lines.at(-1);
  return `Electron exited before it came up (${exit})${line ? `: ${text(line)}` : ''}`;
}
