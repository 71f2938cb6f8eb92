// The window's undo and redo of this user's own edits, shared by every table's grid (the history
// survives switching tables or views): each step goes through the API, only where the cells still
// hold what this user left there, so a value a peer or another program wrote since is never
// reverted. Ctrl+Z anywhere in the window (except in text inputs) and the toolbar's buttons use it.
import { ApiCallError, call } from './api-client.ts';
import { EditHistory, inverse, type Edit } from './edit-history.ts';

async function apply(e: Edit): Promise<void> {
  if (e.kind === 'cells') {
    await call('updateCells', { table: e.table, cells: e.cells.map((c) => ({ key: c.key, column: c.column, value: c.after, expected: c.before })) });
  } else if (e.kind === 'cell') {
    await call('updateCell', { table: e.table, key: e.key, column: e.column, value: e.after, expected: e.before });
  } else if (e.kind === 'delete') {
    await call('deleteRows', { table: e.table, keys: e.rows.map((r) => r.key), expected: e.rows.map((r) => r.values) });
  } else {
    for (const r of e.rows) await call('insertRow', { table: e.table, values: r.values });
  }
}

/** an edit whose cells changed since, or whose row is gone, can never be undone or redone */
const lost = (err: unknown) => err instanceof ApiCallError && (err.code === 'changed' || err.code === 'not-found');

export class UndoRedo {
  private readonly history = new EditHistory();
  canUndo = $state(false);
  canRedo = $state(false);

  private changed(): void {
    this.canUndo = this.history.canUndo;
    this.canRedo = this.history.canRedo;
  }

  record(edit: Edit): void {
    this.history.record(edit);
    this.changed();
  }

  /** Undoes the last edit; resolves to what to tell the user. */
  undo(): Promise<string> {
    return this.step('undo');
  }

  redo(): Promise<string> {
    return this.step('redo');
  }

  private async step(kind: 'undo' | 'redo'): Promise<string> {
    const e = kind === 'undo' ? this.history.undo() : this.history.redo();
    this.changed();
    if (!e) return `Nothing to ${kind}.`;
    try {
      await apply(kind === 'undo' ? inverse(e) : e);
      return kind === 'undo' ? 'Undone.' : 'Redone.';
    } catch (err) {
      if (kind === 'undo') this.history.undoFailed(lost(err));
      else this.history.redoFailed(lost(err));
      return `Could not ${kind}: ${(err as Error).message}`;
    } finally {
      this.changed();
    }
  }
}

/** Whether a key press is undo (Ctrl/Cmd+Z) or redo (Ctrl/Cmd+Shift+Z, Ctrl+Y), if either. */
export function undoKey(e: KeyboardEvent): 'undo' | 'redo' | null {
  const k = e.key.toLowerCase();
  if ((e.ctrlKey || e.metaKey) && !e.altKey && k === 'z') return e.shiftKey ? 'redo' : 'undo';
  if (e.ctrlKey && !e.altKey && !e.shiftKey && k === 'y') return 'redo';
  return null;
}

/** Text inputs keep Ctrl+Z for their own text. */
export function isTextInput(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable || target instanceof HTMLTextAreaElement) return true;
  return target instanceof HTMLInputElement && !['button', 'checkbox', 'radio', 'file', 'submit', 'reset', 'range', 'color', 'image'].includes(target.type);
}
