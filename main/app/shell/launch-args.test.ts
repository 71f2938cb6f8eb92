import { describe, it, expect } from 'vitest';
import { absoluteFileArgs, fileArgument, handOverData, handOverRequest, userArgs } from './launch-args.ts';
import { LaunchFiles } from './launch-files.ts';

describe('command line', () => {
  it('takes the user arguments after the binary (packaged) or after binary and main script (npm start)', () => {
    expect(userArgs(['/opt/crr-desk/crr-desk', 'a.db'], true)).toEqual(['a.db']);
    expect(userArgs(['/x/electron', '/x/out/main/electron-main.cjs', 'a.db'], false)).toEqual(['a.db']);
  });

  it('finds the file among Chromium switches and option values, absolute against the cwd', () => {
    expect(fileArgument(['--enable-logging', '--port', '8080', 'data/a.db', 'b.db'], '/home/u')).toBe('/home/u/data/a.db');
    expect(fileArgument(['--no-sandbox', '/abs/x.sqlite'], '/home/u')).toBe('/abs/x.sqlite');
    expect(fileArgument(['file:///tmp/my%20db.sqlite3'], '/home/u')).toBe('/tmp/my db.sqlite3');
    expect(fileArgument(['--allow-file-access-from-files', '--original-process-start-time=1', ''], '/home/u')).toBeNull();
    expect(fileArgument(['--port', '8080'], '/home/u')).toBeNull();
    expect(fileArgument(['file://remote-host/x.db', 'y.db'], '/w')).toBe('/w/y.db');
  });

  it('makes only the file argument absolute, keeping the rest as given', () => {
    expect(absoluteFileArgs(['--port', '8080', 'a.db'], '/home/u')).toEqual(['--port', '8080', '/home/u/a.db']);
    expect(absoluteFileArgs(['--port', '0'], '/home/u')).toEqual(['--port', '0']);
    expect(absoluteFileArgs(['../b.db', 'c.db'], '/home/u/w')).toEqual(['/home/u/b.db', 'c.db']);
  });
});

describe('single-instance hand-over', () => {
  it('opens the file a second instance handed over, already absolute', () => {
    const data = handOverData('/home/u/a.db');
    expect(handOverRequest(['/x/electron', '/x/main.cjs', 'ignored.db'], '/elsewhere', data, false)).toEqual({ open: '/home/u/a.db' });
  });

  it('brings a window forward when the second instance was given no file', () => {
    expect(handOverRequest(['/opt/app'], '/home/u', handOverData(null), true)).toEqual({ focus: true });
  });

  it('refuses a relative or non-string hand-over rather than guessing', () => {
    expect(handOverRequest(['/opt/app'], '/home/u', { crrDeskOpen: 'rel.db' }, true)).toEqual({ focus: true });
    expect(handOverRequest(['/opt/app'], '/home/u', { crrDeskOpen: 42 }, true)).toEqual({ focus: true });
  });

  it('without hand-over data reads the argv against the second instance\'s working directory', () => {
    expect(handOverRequest(['/opt/app', '--some-switch', 'b.db'], '/home/u/docs', {}, true)).toEqual({ open: '/home/u/docs/b.db' });
    expect(handOverRequest(['/opt/app', 'b.db'], '/home/u/docs', null, true)).toEqual({ open: '/home/u/docs/b.db' });
    expect(handOverRequest(['/x/electron', '/x/main.cjs'], '/home/u', undefined, false)).toEqual({ focus: true });
  });
});

describe('files the OS opens', () => {
  it('holds files opened before ready and opens them first, after the command line file', () => {
    const l = new LaunchFiles();
    expect(l.opened('/a.db')).toBeNull();
    expect(l.opened('/b.db')).toBeNull();
    expect(l.opened('/a.db')).toBeNull();
    expect(l.ready('/cli.db')).toEqual(['/cli.db', '/a.db', '/b.db']);
    expect(l.opened('/c.db')).toBe('/c.db');
  });

  it('returns nothing to open when there is neither (the caller opens the demo database)', () => {
    expect(new LaunchFiles().ready(null)).toEqual([]);
  });

  it('does not open the command line file twice when the OS named it too', () => {
    const l = new LaunchFiles();
    l.opened('/a.db');
    expect(l.ready('/a.db')).toEqual(['/a.db']);
  });
});
