// `npm run serve -- [file.db] [--port N]`: browser mode. Prints one line `URL: ...`.
import '../polyfills.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startBrowserHost, RENDERER_DIR } from './browser-host.ts';
import { dataDir } from './data-dir.ts';
import { ensureDemoDatabase } from './demo-database.ts';

export async function serve(argv: string[]): Promise<void> {
  let port = 0;
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') port = Number(argv[++i]);
    else if (!argv[i].startsWith('--')) file = argv[i];
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port takes a number from 0 to 65535');
  if (!existsSync(join(RENDERER_DIR, 'index.html')) && existsSync('vite.config.ts')) {
    console.log('building the renderer (npm run build:renderer)…');
    spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
  }
  const host = await startBrowserHost({ file: file ?? ensureDemoDatabase(dataDir()), create: false, port });
  console.log(`URL: ${host.url}`);
  const stop = () => void host.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  serve(process.argv.slice(2)).catch((err) => {
    console.error(`crr-desk: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
