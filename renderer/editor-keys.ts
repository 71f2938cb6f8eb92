// The keys the counter and text cell editors share with the grid's editor: Enter saves (Shift+Enter
// is the text's own), Tab saves and moves, Esc cancels; and how an editor takes the focus.
export interface EditorActions {
  onsave: () => void;
  onmove: (step: 1 | -1) => void;
  oncancel: () => void;
}

/** Handles an editor key; the grid's own key handler must not see Enter, Esc or Tab. Returns whether it did. */
export function editorKey(e: KeyboardEvent, actions: EditorActions, shiftEnterIsText = true): boolean {
  if (e.key === 'Enter' || e.key === 'Escape' || e.key === 'Tab') e.stopPropagation();
  if (e.key === 'Enter' && !(shiftEnterIsText && e.shiftKey) && !e.altKey && !e.isComposing) actions.onsave();
  else if (e.key === 'Tab') actions.onmove(e.shiftKey ? -1 : 1);
  else if (e.key === 'Escape') actions.oncancel();
  else return false;
  e.preventDefault();
  return true;
}

/** Focuses an editor's field: the caret after the text when editing started by typing, else all selected. */
export function focusField(node: HTMLInputElement | HTMLTextAreaElement, caretAtEnd: boolean): void {
  node.focus();
  if (caretAtEnd) node.setSelectionRange(node.value.length, node.value.length);
  else node.select();
}
