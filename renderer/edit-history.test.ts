import { describe, it, expect } from 'vitest';
import { EditHistory, inverse, type Edit } from './edit-history.ts';

const cell = (after: string, before = 'old'): Edit => ({ kind: 'cell', table: 't', key: [{ i: '1' }], column: 'v', before, after });

describe('edit history', () => {
  it('undoes in reverse order, redoes, and forgets redo after a new edit', () => {
    const h = new EditHistory();
    h.record(cell('a'));
    h.record(cell('b', 'a'));
    expect(h.undo()).toEqual(cell('b', 'a'));
    expect(h.undo()).toEqual(cell('a'));
    expect(h.undo()).toBeUndefined();
    expect(h.redo()).toEqual(cell('a'));
    h.record(cell('c', 'a'));
    expect(h.canRedo).toBe(false);
    expect(h.undo()).toEqual(cell('c', 'a'));
  });
  it('drops an edit whose undo was refused because a peer changed it since, and keeps one that failed otherwise', () => {
    const h = new EditHistory();
    h.record(cell('a'));
    h.record(cell('b', 'a'));
    h.undo();
    h.undoFailed(true); // someone else wrote the cell since: 'b' can never be undone
    expect(h.canRedo).toBe(false);
    expect(h.undo()).toEqual(cell('a'));
    h.undoFailed(false); // e.g. the connection dropped: still undoable
    expect(h.undo()).toEqual(cell('a'));
    expect(h.redo()).toEqual(cell('a'));
    h.redoFailed(false);
    expect(h.canRedo).toBe(true);
    expect(h.canUndo).toBe(false);
  });
  it('keeps a bounded number of edits', () => {
    const h = new EditHistory(2);
    h.record(cell('1'));
    h.record(cell('2'));
    h.record(cell('3'));
    expect(h.undo()).toEqual(cell('3'));
    expect(h.undo()).toEqual(cell('2'));
    expect(h.canUndo).toBe(false);
  });
  it('inverts cells, inserts and deletes', () => {
    expect(inverse(cell('new', 'old'))).toEqual(cell('old', 'new'));
    const rows = [{ key: [{ i: '1' }], values: { id: { i: '1' }, v: 'x' } }];
    expect(inverse({ kind: 'insert', table: 't', rows })).toEqual({ kind: 'delete', table: 't', rows });
    expect(inverse(inverse({ kind: 'delete', table: 't', rows }))).toEqual({ kind: 'delete', table: 't', rows });
  });
});
