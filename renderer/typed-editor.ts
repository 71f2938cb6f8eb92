// What the grid gives a typed cell editor (JsonEditor, DateEditor; TypedCellEditor picks one).
import type { WireValue } from '../shared/values.ts';

export interface TypedEditorProps {
  /** the value the cell held when editing started */
  before: WireValue;
  label: string;
  nullable: boolean;
  underneath: boolean;
  /** close and store this value (the value before: close without writing) */
  onchoose: (value: WireValue) => void;
  /** the same, then move to the next (1) or previous (-1) cell */
  onmove: (step: 1 | -1, value: WireValue) => void;
  oncancel: () => void;
  /** the focus left the editor: store this value (the value before: nothing) */
  onleave: (value: WireValue) => void;
}
