// What an SQL console shows: the script, the last run's report and results (each console tab its
// own; a tab stays mounted while another is shown, so they stay too).
import type { ColumnInfo, Row, SqlRunResult } from '../shared/api.ts';
import type { WireValue } from '../shared/values.ts';

export interface ConsoleShown {
  /** a read-only statement the grid pages through again, or null for rows that cannot be re-read (RETURNING) */
  sql: string | null;
  columns: ColumnInfo[];
  firstPage: { rows: Row[]; atEnd: boolean };
  rows: WireValue[][];
  statement: number;
}

/** A console's own state: each SQL console tab has one (it lives as long as its tab). */
export function newConsoleState() {
  const state = $state({
    sql: 'SELECT * FROM sqlite_schema',
    shown: null as ConsoleShown | null,
    report: null as SqlRunResult | null,
    error: null as string | null,
    history: [] as string[],
  });
  return state;
}

/** One line saying what a run did, e.g. "3 statements ran in one transaction · 7 rows changed". */
export function reportLine(r: SqlRunResult): string {
  const n = r.statements.length;
  const parts = [n === 1 ? '1 statement ran' : `${n} statements ran in one transaction`];
  if (r.statements.some((s) => s.kind === 'write')) parts.push(`${r.changes.toLocaleString()} row${r.changes === 1 ? '' : 's'} changed`);
  if (r.schemaChanged) parts.push('the schema changed');
  if (r.result) parts.push(`showing the rows of statement ${r.result.statement}`);
  return parts.join(' · ');
}

/** What one statement did: "3 rows", "schema", "read". */
export function statementOutcome(s: SqlRunResult['statements'][number]): string {
  if (s.kind === 'schema') return 'schema changed';
  if (s.kind === 'read') return 'read';
  return `${s.changes!.toLocaleString()} row${s.changes === 1 ? '' : 's'} changed`;
}
