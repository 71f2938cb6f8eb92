// `npm run serve -- [file.db] [--port N]`: browser mode. Prints one line `URL: ...`.
import '../polyfills.ts';
import { join } from 'node:path';
import { startBrowserHost } from './browser-host.ts';
import { buildIfStale, RENDERER } from './launch/shell-build.ts';
import { fileArgument } from './shell/launch-args.ts';
import { dataDir } from './data-dir.ts';
import { ensureDemoDatabase } from './demo-database.ts';

/** Serves `[file.db] [--port N]` (a relative file from `cwd`) until SIGINT / SIGTERM. */
export async function serve(argv: string[], cwd = process.cwd()): Promise<void> {
  const at = argv.indexOf('--port');
  const port = at === -1 ? 0 : Number(argv[at + 1]);
  const file = fileArgument(argv, cwd);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port takes a number from 0 to 65535');
  const failed = buildIfStale(RENDERER, join(import.meta.dirname, '..', '..'));
  if (failed) console.error(`crr-desk: ${failed}; the page says so until it is built`);
  const host = await startBrowserHost({ file: file ?? ensureDemoDatabase(dataDir()), create: false, port });
  console.log(`URL: ${host.url}`);
  const stop = () => void host.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // npm runs scripts in the package root: a relative file is the user's, from where they typed it
  serve(process.argv.slice(2), process.env.INIT_CWD ?? process.cwd()).catch((err) => {
    console.error(`crr-desk: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
