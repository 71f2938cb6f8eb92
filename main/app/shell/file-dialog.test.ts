import { describe, expect, it } from 'vitest';
import { dialogAnswer, dialogPlan } from './file-dialog.ts';

describe('native file dialog plan', () => {
  it('opens existing files, offering the wanted extensions first, starting where asked (~ expanded)', () => {
    expect(dialogPlan({ purpose: 'open', title: 'Import a file', extensions: ['csv', 'json'], defaultPath: '~/data' }, '/home/ada')).toEqual({
      kind: 'open',
      options: { title: 'Import a file', defaultPath: '/home/ada/data', filters: [{ name: 'CSV, JSON', extensions: ['csv', 'json'] }, { name: 'All files', extensions: ['*'] }], properties: ['openFile'] },
    });
  });
  it('saves with the overwrite question left to the dialog, from the home folder by default', () => {
    const plan = dialogPlan({ purpose: 'save', title: 'Export', extensions: ['../x', 'sql'] }, '/home/ada');
    expect(plan).toMatchObject({ kind: 'save', options: { defaultPath: '/home/ada', properties: ['showOverwriteConfirmation', 'createDirectory'] } });
    expect(plan.options.filters![0]).toEqual({ name: 'SQL', extensions: ['sql'] });
  });
  it('refuses a request that is not one, and maps answers to a path or null', () => {
    expect(() => dialogPlan({ purpose: 'delete' }, '/h')).toThrow(/open or to save/);
    expect(() => dialogPlan(null, '/h')).toThrow(/open or to save/);
    expect(dialogAnswer({ canceled: true, filePaths: [] })).toEqual({ native: true, path: null });
    expect(dialogAnswer({ canceled: false, filePaths: ['/a/b.db'] })).toEqual({ native: true, path: '/a/b.db' });
    expect(dialogAnswer({ canceled: false, filePath: '/a/out.csv' })).toEqual({ native: true, path: '/a/out.csv' });
    expect(dialogAnswer({ canceled: false, filePath: '' })).toEqual({ native: true, path: null });
  });
});
