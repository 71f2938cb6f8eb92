// Whether an edit would change a value's storage class against its column's affinity, so the
// editor asks before it writes: "12,5" would land as TEXT in a REAL column, 2.5 as REAL in an
// INTEGER one, and an emptied numeric cell would hold '' (the editor offers NULL instead).
import type { ColumnInfo } from '../shared/api.ts';
import type { WireValue } from '../shared/values.ts';
import { affinity, kindOf, parseEdit, type CellKind } from './cell-values.ts';

export interface EditQuestion {
  message: string;
  /** what the user may store instead of cancelling; the first is what a second Enter takes */
  choices: { label: string; value: WireValue }[];
}

type Column = Pick<ColumnInfo, 'name' | 'type' | 'notNull'>;

/** Columns that hold numbers: INTEGER and REAL affinity, and NUMERIC/DECIMAL (not DATE or BOOLEAN, which hold text by habit). */
function numberClasses(column: Column): CellKind[] | null {
  const aff = affinity(column.type);
  if (aff === 'integer') return ['integer'];
  if (aff === 'real') return ['real'];
  if (aff === 'numeric' && /NUM|DEC/i.test(column.type)) return ['integer', 'real'];
  return null;
}

const CLASS_NAME: Record<CellKind, string> = { null: 'NULL', integer: 'INTEGER', real: 'REAL', text: 'TEXT', blob: 'BLOB' };

/** The value an edit stores, and the question to ask first when it is not what the column holds. */
export function checkEdit(text: string, previous: WireValue, column: Column): { value: WireValue; question: EditQuestion | null } {
  const value = parseEdit(text, previous, column.type);
  const wanted = numberClasses(column);
  const kind = kindOf(value);
  // a cell that already held this class keeps it: the edit changes no class
  if (!wanted || wanted.includes(kind) || kind === kindOf(previous)) return { value, question: null };
  const where = `${column.name} (${column.type})`;
  if (text.trim() === '') {
    return column.notNull
      ? { value, question: { message: `${where} holds numbers and may not be NULL: store the empty text '' anyway?`, choices: [{ label: "Store ''", value }] } }
      : {
          value,
          question: {
            message: `Empty: ${where} holds numbers. Store NULL, or the empty text ''?`,
            choices: [{ label: 'NULL', value: null }, { label: "Empty text ''", value }],
          },
        };
  }
  const what = kind === 'real' ? `${text.trim()} is not a whole number` : `${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)} is not a number`;
  return {
    value,
    question: {
      message: `${what}: in ${where} it would be stored as ${CLASS_NAME[kind]}.`,
      choices: [{ label: `Store as ${CLASS_NAME[kind]}`, value }],
    },
  };
}
