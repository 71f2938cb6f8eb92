// Initial column widths fitted to the header and the first rows, so an id column is narrow and an
// email column shows whole addresses; the user's own resizing always wins over a later fit.
import type { WireValue } from '../shared/values.ts';
import { displayValue } from './cell-values.ts';

export const MIN_WIDTH = 56;
export const MAX_WIDTH = 360;
/** average glyph width of the grid's 14px system font (DejaVu Sans, the widest common one), and the cell's horizontal padding */
const CHAR_PX = 8.4;
const PADDING_PX = 20;

export interface HeaderLabel {
  name: string;
  type: string;
  pk: boolean;
}

/** Width in px for text of this many characters (the header's type label is smaller). */
const textWidth = (chars: number) => Math.ceil(chars * CHAR_PX) + PADDING_PX;

function headerWidth(c: HeaderLabel): number {
  const small = (c.type || 'any').length * 0.8 + (c.pk ? 3.5 : 0);
  return textWidth(c.name.length * 1.05 + small + 3); // + room for the sort arrow
}

/** Widths for columns from their headers and sample rows (values in column order). */
export function fitWidths(columns: HeaderLabel[], rows: WireValue[][]): number[] {
  return columns.map((c, i) => {
    let widest = headerWidth(c);
    for (const r of rows) widest = Math.max(widest, textWidth(displayValue(r[i] ?? null).length));
    return Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, widest));
  });
}
