// `npm start`: the Electron shell when it can run; otherwise one line saying why, then browser mode.
import '../polyfills.ts';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { serve } from './serve.ts';

const ELECTRON_MAIN = join(import.meta.dirname, '..', '..', 'out', 'main', 'electron-main.cjs');

/** Why Electron cannot start here, or null. Never triggers Electron's lazy binary download. */
function electronUnavailable(): string | null {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('electron/package.json');
  } catch {
    return 'the electron package is not installed';
  }
  const pathFile = join(dirname(pkg), 'path.txt');
  if (!existsSync(pathFile)) return 'the Electron binary was never downloaded (no internet access at install time)';
  const binary = join(dirname(pkg), 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(binary)) return `the Electron binary is missing (${binary})`;
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return 'there is no display';
  if (!existsSync(ELECTRON_MAIN)) return 'the Electron main process is not built (npm run build)';
  return null;
}

const reason = electronUnavailable();
if (reason) {
  console.log(`Electron cannot start here: ${reason}. Falling back to browser mode.`);
  serve(process.argv.slice(2)).catch((err) => {
    console.error(`crr-desk: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
} else {
  const electron = createRequire(import.meta.url)('electron') as unknown as string;
  const child = spawn(electron, [ELECTRON_MAIN, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}
