// The JSON editor's rules (JsonEditor.svelte), kept apart to be tested: a value opens formatted
// when its layout is one the editor can give back (compact, spaced, or formatted with its own
// indent), else as it is; closing it untouched writes nothing, and an edit is saved in the
// value's own layout, so a compact value stays compact and only what the user changed changes.
import { checkJson, compactJson, formatJson, jsonLayout, spacedJson, type JsonLayout } from './json-text.ts';

export type JsonMode = 'formatted' | 'raw';

const layoutOf = (original: string): JsonLayout => (checkJson(original).ok ? jsonLayout(original) : { kind: 'other' });
const indentOf = (layout: JsonLayout) => (layout.kind === 'formatted' ? layout.indent : '  ');

/** How the editor opens a stored text. */
export function openJson(original: string): { mode: JsonMode; text: string } {
  const layout = layoutOf(original);
  if (layout.kind === 'other') return { mode: 'raw', text: original };
  return { mode: 'formatted', text: formatJson(original, indentOf(layout)) };
}

/** The text an edit stores, in the original's layout (valid JSON), or as typed. */
function inLayout(text: string, original: string, mode: JsonMode): string {
  if (mode === 'raw' || !checkJson(text).ok) return text;
  const layout = layoutOf(original);
  if (layout.kind === 'compact') return compactJson(text);
  if (layout.kind === 'spaced') return spacedJson(text);
  if (layout.kind === 'formatted') return formatJson(text, layout.indent);
  return text; // formatted by the user from a layout of its own: saved as shown
}

/** What closing the editor writes: nothing when the user changed nothing, else the text to store. */
export function savedJson(text: string, mode: JsonMode, original: string): { write: false } | { write: true; value: string; valid: boolean } {
  const untouched = mode === 'raw' ? text === original : text === formatJson(original, indentOf(layoutOf(original)));
  if (untouched) return { write: false };
  const value = inLayout(text, original, mode);
  if (value === original) return { write: false };
  return { write: true, value, valid: checkJson(value).ok };
}

/** Switches between the formatted view and the text as it would be stored; invalid JSON cannot be formatted. */
export function toggleJson(text: string, mode: JsonMode, original: string): { mode: JsonMode; text: string } | { error: string } {
  if (mode === 'formatted') {
    // the text as it would be stored: the stored text itself while the user changed nothing
    const saved = savedJson(text, 'formatted', original);
    return { mode: 'raw', text: saved.write ? saved.value : original };
  }
  const check = checkJson(text);
  if (!check.ok) return { error: `Not valid JSON (line ${check.line}, column ${check.column}): it cannot be formatted.` };
  return { mode: 'formatted', text: formatJson(text, indentOf(layoutOf(original))) };
}
