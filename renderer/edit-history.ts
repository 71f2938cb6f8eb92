// Undo and redo of this user's own edits. Each entry knows how to reverse itself through the
// API; a peer's edits never enter the stack, so undo never reverts someone else's work.
import type { WireValue } from '../shared/values.ts';

export type Edit =
  | { kind: 'cell'; table: string; key: WireValue[]; column: string; before: WireValue; after: WireValue }
  | { kind: 'insert' | 'delete'; table: string; rows: StoredRow[] }
  | { kind: 'cells'; table: string; cells: { key: WireValue[]; column: string; before: WireValue; after: WireValue }[] };

/** A whole row as it was: enough to delete it again or bring it back. */
export interface StoredRow {
  key: WireValue[];
  values: Record<string, WireValue>;
}

export class EditHistory {
  private done: Edit[] = [];
  private undone: Edit[] = [];
  constructor(private readonly limit = 200) {}

  record(edit: Edit): void {
    this.done.push(edit);
    if (this.done.length > this.limit) this.done.shift();
    this.undone = [];
  }

  /** The edit to reverse next, moved to the redo stack. */
  undo(): Edit | undefined {
    const e = this.done.pop();
    if (e) this.undone.push(e);
    return e;
  }

  redo(): Edit | undefined {
    const e = this.undone.pop();
    if (e) this.done.push(e);
    return e;
  }

  /**
   * After an undo that could not be applied: `lost` (someone changed those cells since) drops the
   * edit for good, so the next undo goes further back; otherwise it stays undoable.
   */
  undoFailed(lost: boolean): void {
    const e = this.undone.pop();
    if (e && !lost) this.done.push(e);
  }

  /** After a redo that could not be applied, likewise. */
  redoFailed(lost: boolean): void {
    const e = this.done.pop();
    if (e && !lost) this.undone.push(e);
  }

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }
}

/** The edit that reverses an edit. */
export function inverse(e: Edit): Edit {
  if (e.kind === 'cell') return { ...e, before: e.after, after: e.before };
  if (e.kind === 'cells') return { ...e, cells: e.cells.map((c) => ({ ...c, before: c.after, after: c.before })) };
  return { ...e, kind: e.kind === 'insert' ? 'delete' : 'insert' };
}
