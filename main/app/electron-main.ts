// The Electron main process: one window per open database, each with its own service; the
// renderer reaches main only through the preload's typed API. This file is the glue to
// Electron's objects; every decision it makes (arguments, files opened by the OS, the hand-over
// between instances, the menu, navigation, permissions, CSP, the app's scheme) lives in a plain
// module under shell/ with unit tests, since Electron cannot run on machines without its binary.
import '../polyfills.ts';
import { app, BrowserWindow, Menu, dialog, ipcMain, protocol, session, shell } from 'electron';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseService } from './service.ts';
import { stopSyncNode } from './sync-host.ts';
import { dispatch } from './dispatch.ts';
import { dataDir } from './data-dir.ts';
import { ensureDemoDatabase } from './demo-database.ts';
import { clearRecentFiles, readRecentFiles } from './recent-files.ts';
import { markStarted } from './launch/started-signal.ts';
import { fileArgument, handOverData, handOverRequest, userArgs } from './shell/launch-args.ts';
import { LaunchFiles } from './shell/launch-files.ts';
import { appMenuTemplate } from './shell/app-menu.ts';
import { APP_SCHEME, RENDERER_URL, rendererResponse } from './shell/renderer-protocol.ts';
import { externalTarget, ipcSenderAllowed, navigationAllowed, permissionAllowed, withCsp } from './shell/window-guards.ts';
import { dialogAnswer, dialogPlan } from './shell/file-dialog.ts';
import { homedir } from 'node:os';
import { ApiError } from '../../shared/errors.ts';
import type { ApiEvents } from '../../shared/api.ts';

const RENDERER_DIR = join(__dirname, '..', 'renderer');
const PRELOAD = join(__dirname, '..', 'preload', 'preload.cjs');
const services = new Map<number, DatabaseService>();
const launchFiles = new LaunchFiles();
const commandLineFile = fileArgument(userArgs(process.argv, app.isPackaged), process.cwd());

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
  await win.loadURL(RENDERER_URL);
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

async function chooseFromPage(win: BrowserWindow | null, params: unknown): Promise<{ result: unknown } | { error: { code: string; message: string } }> {
  try {
    const plan = dialogPlan(params, homedir());
    const r = plan.kind === 'open'
      ? await (win ? dialog.showOpenDialog(win, plan.options) : dialog.showOpenDialog(plan.options))
      : await (win ? dialog.showSaveDialog(win, plan.options) : dialog.showSaveDialog(plan.options));
    return { result: dialogAnswer(r) };
  } catch (err) {
    return { error: { code: err instanceof ApiError ? err.code : 'internal', message: (err as Error).message } };
  }
}

function buildMenu(): void {
  const template = appMenuTemplate(
    readRecentFiles(dataDir()),
    {
      newDatabase: () => void chooseFile(true).then((p) => (p ? openWindow(p, true) : undefined)),
      openDatabase: () => void chooseFile(false).then((p) => (p ? openWindow(p) : undefined)),
      openRecent: (p) => void openWindow(p),
      clearRecent: () => {
        clearRecentFiles(dataDir());
        buildMenu();
      },
    },
    process.platform,
  );
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

// before `ready`: the app's scheme is a standard, secure origin with fetch
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

if (!app.requestSingleInstanceLock(handOverData(commandLineFile))) {
  app.quit();
} else {
  app.on('second-instance', (_e, argv, workingDirectory, data) => {
    const request = handOverRequest(argv, workingDirectory, data, app.isPackaged);
    if ('open' in request) void openWindow(request.open);
    else BrowserWindow.getAllWindows()[0]?.focus();
  });
  // macOS: a file double-clicked or dropped on the Dock icon, possibly before `ready`
  app.on('open-file', (e, path) => {
    e.preventDefault();
    const now = launchFiles.opened(path);
    if (now) void openWindow(now);
  });
  ipcMain.handle('crr:call', (e, msg: { method?: unknown; params?: unknown }) => {
    const frame = e.senderFrame;
    if (!ipcSenderAllowed(frame && { url: frame.url, isMainFrame: frame === e.sender.mainFrame })) {
      return { error: { code: 'forbidden', message: 'Calls come from the app page only.' } };
    }
    const service = services.get(e.sender.id);
    if (!service) return { error: { code: 'no-database', message: 'This window has no database.' } };
    // the page's file picker: the native dialog, over the page's window (shell/file-dialog.ts decides)
    if (msg?.method === 'chooseFile') return chooseFromPage(BrowserWindow.fromWebContents(e.sender), msg.params);
    return dispatch(service, msg?.method, msg?.params);
  });
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-navigate', (e, url) => {
      if (navigationAllowed(url)) return;
      e.preventDefault();
      const external = externalTarget(url);
      if (external) void shell.openExternal(external);
    });
    contents.setWindowOpenHandler(({ url }) => {
      const external = externalTarget(url);
      if (external) void shell.openExternal(external);
      return { action: 'deny' };
    });
    contents.on('will-attach-webview', (e) => e.preventDefault());
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', () => void stopSyncNode());
  void app.whenReady().then(async () => {
    markStarted();
    protocol.handle(APP_SCHEME, (request) => {
      const r = rendererResponse(RENDERER_DIR, request.url);
      return new Response('file' in r ? readFileSync(r.file) : r.body, { status: r.status, headers: r.headers });
    });
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => callback({ responseHeaders: withCsp(details.responseHeaders) }));
    session.defaultSession.setPermissionRequestHandler((contents, permission, callback, details) =>
      callback(permissionAllowed(permission, details.requestingUrl ?? contents.getURL())),
    );
    session.defaultSession.setPermissionCheckHandler((_contents, permission, requestingOrigin) => permissionAllowed(permission, requestingOrigin));
    const files = launchFiles.ready(commandLineFile);
    for (const file of files.length ? files : [ensureDemoDatabase(dataDir())]) await openWindow(file);
    // every file refused (each said why in a dialog): nothing is left to show
    if (BrowserWindow.getAllWindows().length === 0) app.quit();
  });
}
