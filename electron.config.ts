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
  // Electron fuses flipped in the packaged binary: no ELECTRON_RUN_AS_NODE, NODE_OPTIONS or --inspect
  // (a local program could otherwise run code as the app), encrypted cookies, the app only from its
  // checked asar. The file:// extra privileges stay: the renderer is loaded from file:// and its
  // module scripts need them.
  electronFuses: {
    runAsNode: false,
    enableCookieEncryption: true,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    loadBrowserProcessSpecificV8Snapshot: false,
    grantFileProtocolExtraPrivileges: true,
  },
};

export default config;
