// The SQL console's read-only rule beyond what SQLite can see. A statement SQLite calls read-only
// may still call an app function that changes the schema once it finishes: the engine's
// crsql_as_crr, crsql_as_table (drops the clocks), crsql_begin_alter (removes the tracking
// triggers) and crsql_commit_alter, and its internal crr_note_merge. Which functions a statement
// calls is read from its program (EXPLAIN), so calls through views, CTEs and subqueries count.
import type Database from 'better-sqlite3';
import { ApiError } from '../../shared/errors.ts';

const SCHEMA_FUNCTIONS = new Set(['crsql_as_crr', 'crsql_as_table', 'crsql_begin_alter', 'crsql_commit_alter', 'crr_note_merge']);

/** Throws ApiError('read-only') when `sql` would call a function that changes the schema. */
export function refuseSchemaFunctions(db: Database.Database, sql: string): void {
  let program: { opcode: string; p4: unknown }[];
  try {
    program = db.prepare(`EXPLAIN ${sql}`).all() as { opcode: string; p4: unknown }[];
  } catch {
    // only an EXPLAIN cannot be explained again, and an EXPLAIN runs nothing
    return;
  }
  for (const op of program) {
    if (!/Func/.test(op.opcode) || typeof op.p4 !== 'string') continue;
    const name = op.p4.replace(/\(.*$/, '').toLowerCase();
    if (SCHEMA_FUNCTIONS.has(name)) {
      throw new ApiError(
        'read-only',
        `The SQL console is read-only: ${name} changes the schema. Use Enable collaboration above the table's rows instead.`,
      );
    }
  }
}
