// `npm start [-- file.db]`: the Electron window. On first use it runs Electron's own install (the
// binary download, see launch/electron-install.ts), builds what the shell loads when missing or
// older than its sources, then launches Electron. Only when one of those fails does it print one
// line saying why and how to retry, then serve browser mode (`URL: http://127.0.0.1:PORT/?token=…`).
import '../polyfills.ts';
import { join } from 'node:path';
import { serve } from './serve.ts';
import { absoluteFileArgs } from './shell/launch-args.ts';
import { findElectronPackage } from './launch/electron-package.ts';
import { installElectron } from './launch/electron-install.ts';
import { buildIfStale, ELECTRON_SHELL, RENDERER } from './launch/shell-build.ts';
import { launchElectron, launchFailure } from './launch/electron-launch.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ELECTRON_MAIN = join(ROOT, 'out', 'main', 'electron-main.cjs');

type Outcome = { exitCode: number } | { reason: string; retry: string };

async function runElectron(args: string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  if (process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY)
    return { reason: 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)', retry: 'run npm start in a graphical session' };
  const pkg = findElectronPackage(env);
  if ('missing' in pkg) return { reason: pkg.missing, retry: 'run npm install, then npm start' };
  if (!pkg.installed) {
    const failed = await installElectron(pkg, env);
    if (failed) return failed;
  }
  for (const step of [ELECTRON_SHELL, RENDERER]) {
    const failed = buildIfStale(step, ROOT);
    if (failed) return { reason: failed, retry: `fix the error above, then npm start (or npm run ${step.script})` };
  }
  const run = await launchElectron(pkg.binary, [ELECTRON_MAIN, ...args], env);
  if (run.started || run.code === 0) return { exitCode: run.code ?? 1 };
  return { reason: launchFailure(run), retry: 'fix that, then npm start' };
}

// npm runs scripts in the package root: a relative file is the user's, from where they typed it
const args = absoluteFileArgs(process.argv.slice(2), process.env.INIT_CWD ?? process.cwd());
const outcome = await runElectron(args, process.env);
if ('exitCode' in outcome) process.exit(outcome.exitCode);
console.log(`Electron cannot start here: ${outcome.reason}; to retry, ${outcome.retry}. Falling back to browser mode.`);
serve(args).catch((err) => {
  console.error(`crr-desk: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
