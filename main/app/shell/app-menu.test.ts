import { describe, it, expect } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { appMenuTemplate, menuLabel, type MenuActions } from './app-menu.ts';

function recorder(): { actions: MenuActions; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    actions: {
      newDatabase: () => calls.push('new'),
      openDatabase: () => calls.push('open'),
      openRecent: (p) => calls.push(`recent ${p}`),
      clearRecent: () => calls.push('clear'),
    },
  };
}

const sub = (item: MenuItemConstructorOptions | undefined) => (item?.submenu ?? []) as MenuItemConstructorOptions[];
const byLabel = (items: MenuItemConstructorOptions[], label: string) => items.find((i) => i.label === label);
const click = (item: MenuItemConstructorOptions | undefined) => (item?.click as unknown as () => void)();

describe('application menu', () => {
  it('lists recent files in order; each opens its file, Clear Menu clears', () => {
    const r = recorder();
    const file = sub(byLabel(appMenuTemplate(['/a.db', '/b & c.db'], r.actions, 'linux'), 'File'));
    const recent = sub(byLabel(file, 'Open Recent'));
    expect(recent.map((i) => i.label ?? i.type)).toEqual(['/a.db', '/b && c.db', 'separator', 'Clear Menu']);
    click(recent[1]);
    click(recent[3]);
    expect(r.calls).toEqual(['recent /b & c.db', 'clear']);
  });

  it('says there are no recent files, disabled, when there are none', () => {
    const file = sub(byLabel(appMenuTemplate([], recorder().actions, 'linux'), 'File'));
    expect(sub(byLabel(file, 'Open Recent'))).toEqual([{ label: 'No recent files', enabled: false }]);
  });

  it('New… and Open… have their accelerators and actions', () => {
    const r = recorder();
    const file = sub(byLabel(appMenuTemplate([], r.actions, 'win32'), 'File'));
    expect(byLabel(file, 'New…')?.accelerator).toBe('CmdOrCtrl+N');
    expect(byLabel(file, 'Open…')?.accelerator).toBe('CmdOrCtrl+O');
    click(byLabel(file, 'New…'));
    click(byLabel(file, 'Open…'));
    expect(r.calls).toEqual(['new', 'open']);
  });

  it('puts Quit in File outside macOS, and the app menu first with Quit in it on macOS', () => {
    const linux = appMenuTemplate([], recorder().actions, 'linux');
    expect(linux.map((m) => m.label ?? m.role)).toEqual(['File', 'editMenu', 'viewMenu', 'windowMenu']);
    expect(sub(linux[0]).some((i) => i.role === 'quit')).toBe(true);
    const mac = appMenuTemplate([], recorder().actions, 'darwin');
    expect(mac.map((m) => m.label ?? m.role)).toEqual(['appMenu', 'File', 'editMenu', 'viewMenu', 'windowMenu']);
    expect(sub(mac[1]).some((i) => i.role === 'quit')).toBe(false);
  });

  it('keeps a literal & in labels: doubled outside macOS, where it would mark a mnemonic', () => {
    expect(menuLabel('/R&D/x.db', 'linux')).toBe('/R&&D/x.db');
    expect(menuLabel('/R&D/x.db', 'darwin')).toBe('/R&D/x.db');
  });
});
