// electron-builder configuration: `npm run dist` (needs internet: it downloads Electron and
// rebuilds better-sqlite3 for Electron's ABI).
import type { Configuration } from 'electron-builder';

const config: Configuration = {
  appId: 'dev.crr-desk.app',
  productName: 'crr-desk',
  directories: { output: 'release', buildResources: 'build' },
  files: ['out/**/*', 'package.json'],
  extraMetadata: { main: 'out/main/electron-main.cjs' },
  // the native module must be rebuilt for Electron and live outside the asar archive
  npmRebuild: true,
  buildDependenciesFromSource: true,
  asarUnpack: ['node_modules/better-sqlite3/**/*'],
  fileAssociations: [{ ext: ['db', 'sqlite', 'sqlite3'], name: 'SQLite database', role: 'Editor' }],
  linux: { target: ['AppImage', 'deb'], category: 'Development' },
  mac: { target: ['dmg'], category: 'public.app-category.developer-tools' },
  win: { target: ['nsis'] },
  nsis: { oneClick: false, allowToChangeInstallationDirectory: true },
};

export default config;
