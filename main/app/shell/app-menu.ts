// The application menu as data: File (New…, Open…, Open Recent, Close, Quit), then Electron's
// standard Edit, View and Window menus; on macOS the app menu first and Quit there.
import type { MenuItemConstructorOptions } from 'electron';

export interface MenuActions {
  newDatabase(): void;
  openDatabase(): void;
  openRecent(path: string): void;
  clearRecent(): void;
}

/** A path as a menu label: outside macOS '&' marks a mnemonic, so a literal one is doubled. */
export function menuLabel(path: string, platform: string): string {
  return platform === 'darwin' ? path : path.replaceAll('&', '&&');
}

export function appMenuTemplate(recent: string[], actions: MenuActions, platform: string): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  const openRecent: MenuItemConstructorOptions[] = recent.length
    ? [
        ...recent.map((p): MenuItemConstructorOptions => ({ label: menuLabel(p, platform), click: () => actions.openRecent(p) })),
        { type: 'separator' },
        { label: 'Clear Menu', click: () => actions.clearRecent() },
      ]
    : [{ label: 'No recent files', enabled: false }];
  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'New…', accelerator: 'CmdOrCtrl+N', click: () => actions.newDatabase() },
      { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: () => actions.openDatabase() },
      { label: 'Open Recent', submenu: openRecent },
      { type: 'separator' },
      { label: 'Close', accelerator: 'CmdOrCtrl+W', role: 'close' },
      ...(mac ? [] : [{ role: 'quit' } as MenuItemConstructorOptions]),
    ],
  };
  return [...(mac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []), file, { role: 'editMenu' }, { role: 'viewMenu' }, { role: 'windowMenu' }];
}
