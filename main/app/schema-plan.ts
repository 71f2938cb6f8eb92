// A structure change as a list of SQL steps: shown to the user first (preview), then run in one
// transaction. The preview is a dry run of the same steps, rolled back, so what would fail (a NULL
// in a new key column, a default SQLite will not take) is said before the user confirms.
import type Database from 'better-sqlite3';
import { ApiError } from '../../shared/errors.ts';
import type { CrrEngine } from '../crr/types.ts';
import { CrrRefusal } from '../crr/index.ts';

export type Step =
  /** SQL the user sees, run as it is */
  | { sql: string }
  /** a query the user sees that must answer 1, else the change stops with `message` */
  | { check: string; message: string }
  /** the app's own bookkeeping between steps (not SQL of the user's table) */
  | { internal: () => void };

export interface Plan {
  steps: Step[];
  notes: string[];
}

/** What a plan is made for: foreign keys are off while any plan runs; were they on before? */
export interface PlanContext {
  foreignKeys: boolean;
}

/** The SQL the user is shown, in order. */
export const planStatements = (plan: Plan): string[] =>
  plan.steps.flatMap((s) => ('sql' in s ? [s.sql] : 'check' in s ? [s.check] : []));

function runSteps(db: Database.Database, steps: Step[]): void {
  for (const s of steps) {
    if ('internal' in s) s.internal();
    else if ('sql' in s) db.exec(s.sql);
    else if (db.prepare(s.check).pluck().get() !== 1) throw new ApiError('constraint', s.message);
  }
}

class DryRun extends Error {}

/**
 * Plans and runs a change in one transaction: `make` plans it inside the transaction (it reads the
 * table as it is there). `dryRun` rolls back whatever happened. `expect`: the statements the user
 * was shown, refused if the plan is no longer the same.
 */
export function runPlanned(
  db: Database.Database,
  engine: CrrEngine | null,
  make: (ctx: PlanContext) => Plan,
  opts: { dryRun: boolean; expect?: string[]; after?: () => void },
): Plan {
  let plan: Plan | null = null;
  // foreign_keys cannot change inside a transaction, and a rebuild needs it off (DROP TABLE would
  // otherwise delete, or cascade into, rows of other tables): off around every plan, then restored
  const ctx: PlanContext = { foreignKeys: db.pragma('foreign_keys', { simple: true }) === 1 };
  if (ctx.foreignKeys) db.pragma('foreign_keys = OFF');
  try {
    db.transaction(() => {
      plan = make(ctx);
      if (opts.expect && planStatements(plan).join('\n;\n') !== opts.expect.join('\n;\n')) {
        throw new ApiError('changed', 'The table changed since this preview: look at the SQL again before running it.');
      }
      runSteps(db, plan.steps);
      opts.after?.();
      if (opts.dryRun) throw new DryRun();
    })();
  } catch (err) {
    // (the engine brings itself back to the file's schema after the rollback)
    if (err instanceof DryRun) return plan!;
    if (err instanceof ApiError) throw err;
    if (err instanceof CrrRefusal) throw new ApiError('crr-refused', `${err.message}. Nothing was changed.`);
    const message = (err as Error).message;
    throw new ApiError(/constraint|mismatch/i.test(message) ? 'constraint' : 'sql-error', `${message.replace(/\.$/, '')}. Nothing was changed.`);
  } finally {
    if (ctx.foreignKeys) db.pragma('foreign_keys = ON');
  }
  return plan!;
}
