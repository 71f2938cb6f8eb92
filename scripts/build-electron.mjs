// Bundles the Electron main process and preload to CommonJS (a sandboxed preload must be CJS).
import { build } from 'esbuild';

const common = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', sourcemap: true, logLevel: 'warning' };
await build({ ...common, entryPoints: ['main/app/electron-main.ts'], outfile: 'out/main/electron-main.cjs', external: ['electron', 'better-sqlite3'] });
await build({ ...common, entryPoints: ['main/app/preload.ts'], outfile: 'out/preload/preload.cjs', external: ['electron'] });
console.log('built out/main/electron-main.cjs and out/preload/preload.cjs');
