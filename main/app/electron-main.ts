// The Electron main process: one window per open database, each with its own service; the
// renderer reaches main only through the preload's typed API. Type-checked here; it cannot run
// on machines without the Electron binary (npm start falls back to browser mode there).
import '../polyfills.ts';
import { app, BrowserWindow, Menu, dialog, ipcMain, session, shell, type MenuItemConstructorOptions } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DatabaseService } from './service.ts';
import { stopSyncNode } from './sync-host.ts';
import { dispatch } from './dispatch.ts';
import { dataDir } from './data-dir.ts';
import { ensureDemoDatabase } from './demo-database.ts';
import { readRecentFiles } from './recent-files.ts';
import { CSP } from './static-files.ts';
import { externalUrlAllowed, permissionAllowed, senderAllowed } from './electron-guards.ts';
import type { ApiEvents } from '../../shared/api.ts';

const RENDERER = join(__dirname, '..', 'renderer', 'index.html');
const RENDERER_URL = pathToFileURL(RENDERER).href;
const PRELOAD = join(__dirname, '..', 'preload', 'preload.cjs');
const services = new Map<number, DatabaseService>();

async function openWindow(path: string, create = false): Promise<void> {
  const service = new DatabaseService({ recentFilesDir: dataDir() });
  try {
    await service.openDatabase({ path, create });
  } catch (err) {
    dialog.showErrorBox('Cannot open this file', (err as Error).message);
    return;
  }
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    title: path,
    webPreferences: { preload: PRELOAD, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true },
  });
  services.set(win.webContents.id, service);
  const stop = service.on((event, payload) => {
    win.webContents.send('crr:event', { event, payload });
    // a file opened from the page (Open…): the title and Open Recent follow
    if (event === 'databaseOpened') {
      win.setTitle((payload as ApiEvents['databaseOpened']).path);
      buildMenu();
    }
  });
  win.on('closed', () => {
    stop();
    service.close();
    services.delete(win.webContents.id);
  });
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (externalUrlAllowed(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  await win.loadFile(RENDERER);
  buildMenu();
}

async function chooseFile(save: boolean): Promise<string | null> {
  const filters = [{ name: 'SQLite databases', extensions: ['db', 'sqlite', 'sqlite3'] }, { name: 'All files', extensions: ['*'] }];
  if (save) {
    const r = await dialog.showSaveDialog({ title: 'New database', filters });
    return r.canceled || !r.filePath ? null : r.filePath;
  }
  const r = await dialog.showOpenDialog({ title: 'Open database', filters, properties: ['openFile'] });
  return r.canceled ? null : r.filePaths[0];
}

function buildMenu(): void {
  const recent = readRecentFiles(dataDir());
  const template: MenuItemConstructorOptions[] = [
    {
      label: 'File',
      submenu: [
        { label: 'New…', accelerator: 'CmdOrCtrl+N', click: async () => { const p = await chooseFile(true); if (p) await openWindow(p, true); } },
        { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: async () => { const p = await chooseFile(false); if (p) await openWindow(p); } },
        {
          label: 'Open Recent',
          submenu: recent.length ? recent.map((p) => ({ label: p, click: () => void openWindow(p) })) : [{ label: 'No recent files', enabled: false }],
        },
        { type: 'separator' },
        { label: 'Close', accelerator: 'CmdOrCtrl+W', role: 'close' },
        { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

const fileArg = (argv: string[]) => argv.slice(app.isPackaged ? 1 : 2).find((a) => !a.startsWith('-'));

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  // a file opened from the OS while we run goes to this instance
  app.on('second-instance', (_e, argv) => {
    const file = fileArg(argv);
    if (file) void openWindow(file);
    else BrowserWindow.getAllWindows()[0]?.focus();
  });
  app.on('open-file', (e, path) => {
    e.preventDefault();
    if (app.isReady()) void openWindow(path);
  });
  ipcMain.handle('crr:call', (e, msg: { method?: unknown; params?: unknown }) => {
    const frame = e.senderFrame;
    if (!senderAllowed(frame && { url: frame.url, isMainFrame: frame === e.sender.mainFrame }, RENDERER_URL)) {
      return { error: { code: 'unauthorised', message: 'Only the app page may call the app.' } };
    }
    const service = services.get(e.sender.id);
    if (!service) return { error: { code: 'no-database', message: 'This window has no database.' } };
    return dispatch(service, msg?.method, msg?.params);
  });
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-attach-webview', (e) => e.preventDefault());
    contents.session.webRequest.onHeadersReceived((details, callback) =>
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } }),
    );
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => void stopSyncNode());
  void app.whenReady().then(() => {
    session.defaultSession.setPermissionRequestHandler((_wc, permission, callback, details) =>
      callback(permissionAllowed(permission, details.requestingUrl, RENDERER_URL)),
    );
    session.defaultSession.setPermissionCheckHandler((_wc, permission, _origin, details) => permissionAllowed(permission, details.requestingUrl, RENDERER_URL));
    return openWindow(fileArg(process.argv) ?? ensureDemoDatabase(dataDir()));
  });
}
