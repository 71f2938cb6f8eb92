// The folder browser of browser mode's file picker, and the install settings (issue 15).
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listDirectory, userPath } from './file-browser.ts';
import { SettingsFile } from './app-settings.ts';
import { tempDir } from '../crr/test-helpers.ts';
import { rejection } from './test-rejection.ts';

const tmp = tempDir('app-files-');
afterAll(() => tmp.cleanup());

describe('folder browser', () => {
  it('expands ~ and takes relative paths from the home folder', () => {
    expect(userPath('~', '/home/ada')).toBe('/home/ada');
    expect(userPath('~/data/shop.db', '/home/ada')).toBe('/home/ada/data/shop.db');
    expect(userPath('data/../x.csv', '/home/ada')).toBe('/home/ada/x.csv');
    expect(userPath(' /tmp/a b.csv ', '/home/ada')).toBe('/tmp/a b.csv');
    expect(() => userPath('', '/home/ada')).toThrow(/path is required/);
  });

  it('lists folders first, then files by name with sizes; hidden entries only when asked; starts at home', async () => {
    const home = join(tmp.dir, 'home');
    mkdirSync(join(home, 'b-folder'), { recursive: true });
    mkdirSync(join(home, 'A-folder'));
    mkdirSync(join(home, '.hidden'));
    writeFileSync(join(home, 'file10.db'), 'x'.repeat(10));
    writeFileSync(join(home, 'file9.db'), 'x');
    symlinkSync(join(home, 'b-folder'), join(home, 'link-to-folder'));
    symlinkSync(join(home, 'nowhere'), join(home, 'dangling'));
    const l = listDirectory({}, home);
    expect(l).toMatchObject({ path: home, home, parent: tmp.dir, truncated: false });
    expect(l.entries.map((e) => [e.name, e.kind, e.size])).toEqual([
      ['A-folder', 'dir', null], ['b-folder', 'dir', null], ['link-to-folder', 'dir', null],
      ['dangling', 'other', null], ['file9.db', 'file', 1], ['file10.db', 'file', 10],
    ]);
    expect(listDirectory({ path: '~', hidden: true }, home).entries.map((e) => e.name)).toContain('.hidden');
    expect(listDirectory({ path: '/' }, home).parent).toBeNull();
    expect(listDirectory({ path: 'b-folder' }, home).path).toBe(join(home, 'b-folder'));
  });

  it('says why a folder cannot be listed', async () => {
    expect((await rejection(Promise.resolve().then(() => listDirectory({ path: join(tmp.dir, 'none') })))).message).toMatch(/no such folder/);
    writeFileSync(join(tmp.dir, 'plain.txt'), '');
    expect((await rejection(Promise.resolve().then(() => listDirectory({ path: join(tmp.dir, 'plain.txt') })))).message).toMatch(/a file, not a folder/);
  });
});

describe('install settings', () => {
  it('remembers the colour scheme and the name in the data folder; damaged files mean the defaults', async () => {
    const dir = join(tmp.dir, 'data');
    mkdirSync(dir);
    const s = new SettingsFile(dir, 'host-1');
    expect(s.read()).toEqual({ theme: 'system', displayName: '', defaultName: 'host-1' });
    s.update({ theme: 'dark' });
    s.update({ displayName: '  Ada’s   laptop ' });
    expect(new SettingsFile(dir, 'host-1').read()).toEqual({ theme: 'dark', displayName: 'Ada’s laptop', defaultName: 'host-1' });
    expect((await rejection(Promise.resolve().then(() => s.update({ theme: 'blue' })))).code).toBe('invalid-argument');
    expect((await rejection(Promise.resolve().then(() => s.update({ displayName: 'x'.repeat(61) })))).message).toMatch(/at most 60/);
    expect(s.read().theme).toBe('dark');
    writeFileSync(join(dir, 'settings.json'), '{not json');
    expect(s.read()).toEqual({ theme: 'system', displayName: '', defaultName: 'host-1' });
  });
});
