// Character edits between two texts, and a three-way merge of texts, on Yjs (the sequence CRDT
// the engine keeps text columns in: main/crr/text-crdt.ts says why Yjs). Used by the engine (a
// write by any program is diffed against the previous text and recorded as character edits), by
// the app (an editor's text merged with what others wrote since it opened) and by the renderer
// (remote edits merged into the text being typed, cursor kept).
//
// The diff is fast-diff (Myers with diff-match-patch's speed-ups, surrogate pairs kept whole;
// Quill's diff), with diff-match-patch's semantic cleanup: "New " typed before "Notebook" is that
// insertion, not "ew N" after its N (which would land elsewhere if someone deleted the word
// meanwhile). Myers costs O(N·D): when the changed middle of two texts (after their common
// prefix and suffix) is long, it is replaced as one edit rather than diffed.
import diff from 'fast-diff';
import * as Y from 'yjs';

/** [0, kept text] | [-1, deleted text] | [1, inserted text], in order (fast-diff's format). */
export type TextEdit = [-1 | 0 | 1, string];

/** beyond this many UTF-16 units of changed middle (both sides), the middle is replaced whole */
const MAX_DIFFED = 40_000;

export function textEdits(from: string, to: string): TextEdit[] {
  if (from === to) return from ? [[0, from]] : [];
  let p = 0;
  const max = Math.min(from.length, to.length);
  while (p < max && from.charCodeAt(p) === to.charCodeAt(p)) p++;
  let s = 0;
  while (s < max - p && from.charCodeAt(from.length - 1 - s) === to.charCodeAt(to.length - 1 - s)) s++;
  // never split a surrogate pair at the edges of the middle
  if (p > 0 && isHigh(from.charCodeAt(p - 1))) p--;
  if (s > 0 && isLow(from.charCodeAt(from.length - s))) s--;
  const a = from.slice(p, from.length - s);
  const b = to.slice(p, to.length - s);
  // (fast-diff trims prefix and suffix itself, then cleans up around them)
  if (a.length + b.length <= MAX_DIFFED) return diff(from, to, undefined, true);
  const out: TextEdit[] = [];
  if (p) out.push([0, from.slice(0, p)]);
  if (a) out.push([-1, a]);
  if (b) out.push([1, b]);
  if (s) out.push([0, from.slice(from.length - s)]);
  return out;
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

/** Applies edits (made against `text`'s current content) to a Y.Text, in the caller's transaction. */
export function applyTextEdits(text: Y.Text, edits: TextEdit[]): void {
  let at = 0;
  for (const [op, s] of edits) {
    if (op === 0) at += s.length;
    else if (op === -1) text.delete(at, s.length);
    else {
      text.insert(at, s);
      at += s.length;
    }
  }
}

/**
 * Three-way merge: the edits `mine` made to `base` and those `theirs` made to it, both kept, as
 * a collaborative editor would (concurrent insertions at one place both kept, in a fixed
 * order). `cursor` (an offset in `mine`) is carried over to the merged text.
 */
export function mergeTexts(base: string, mine: string, theirs: string, cursor = 0): { text: string; cursor: number } {
  if (theirs === base || theirs === mine) return { text: mine, cursor };
  if (mine === base) return { text: theirs, cursor: mapOffset(textEdits(base, theirs), cursor) };
  const root = new Y.Doc();
  root.clientID = 1;
  root.getText().insert(0, base);
  const start = Y.encodeStateAsUpdate(root);
  const fork = (client: number, to: string) => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, start);
    doc.clientID = client;
    doc.transact(() => applyTextEdits(doc.getText(), textEdits(base, to)));
    return doc;
  };
  // mine before theirs at a shared insertion point, the same on every call
  const me = fork(2, mine);
  const them = fork(3, theirs);
  const at = Y.createRelativePositionFromTypeIndex(me.getText(), cursor);
  Y.applyUpdate(me, Y.encodeStateAsUpdate(them));
  const abs = Y.createAbsolutePositionFromRelativePosition(at, me);
  return { text: me.getText().toString(), cursor: abs ? abs.index : cursor };
}

/** Where offset `at` of a text lands after `edits` were applied to it. */
export function mapOffset(edits: TextEdit[], at: number): number {
  let from = 0;
  let to = 0;
  for (const [op, s] of edits) {
    if (op === 0) {
      if (at <= from + s.length) return to + (at - from);
      from += s.length;
      to += s.length;
    } else if (op === -1) {
      if (at <= from + s.length) return to;
      from += s.length;
    } else to += s.length;
  }
  return to + Math.max(0, at - from);
}
