// The engine's bracket around every statement the program runs: the connection's prepare, exec
// and transaction are wrapped so that the engine sees each statement end and each commit coming.
//   - A write statement outside a transaction is wrapped in BEGIN IMMEDIATE … COMMIT, so that its
//     seal (commits.ts) commits with it; an explicit COMMIT is sealed before it runs; an outermost
//     db.transaction seals before it returns. A commit the engine did not see is sealed after.
//   - What INSERT INTO crsql_changes staged is merged as one batch before the next statement that
//     is not such an INSERT (it might read the tables), or before the commit; a ROLLBACK drops it.
//   - Admin functions (crsql_as_crr, …) queue their task for right after the statement.
//   - Schema changes are re-derived before their commit (schema-repair.ts).
import type Database from 'better-sqlite3';
import { MERGE_NOW_END } from './changes-view.ts';
import { mayAlter } from './ddl-statements.ts';
import { insertFields } from './changes-insert.ts';
import type { Commits } from './commits.ts';

type Statement = Database.Statement;

const TX_CONTROL = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;
/** an INSERT INTO crsql_changes: what it stages waits for the next statement of another kind */
const STAGES = /^\s*INSERT\s+(OR\s+\w+\s+)?INTO\s+(temp\s*\.\s*)?"?crsql_changes"?[\s(]/i;
const COMMIT = /^\s*(COMMIT|END)\b/i;
const ROLLBACK = /^\s*ROLLBACK\s*(TRANSACTION\s*)?;?\s*$/i;
/** a statement that may change the schema: the engine re-derives before its commit (schema-repair.ts) */
const DDL = /\b(CREATE|DROP|ALTER)\b/i;

export interface BracketContext {
  raw: { prepare: (sql: string) => Statement; exec: (sql: string) => unknown; transaction: Database.Database['transaction'] };
  /** the engine stopped: statements run unbracketed */
  closed: () => boolean;
  schema: () => {
    ensureCurrent(): void;
    guardAlter<T>(sql: string, fn: () => T): T;
    execGuarded(sql: string, exec: (sql: string) => unknown): void;
  };
  commits: Commits;
  /** prepared INSERT INTO crsql_changes runs kept in JS (changes-insert.ts) */
  kept: {
    end(): void;
    wrap(fields: NonNullable<ReturnType<typeof insertFields>>, own: (...args: unknown[]) => unknown): { take(args: unknown[]): unknown; run(args: unknown[]): unknown };
  };
  /** merges what INSERT INTO crsql_changes staged (index.ts) */
  mergeStaged(): void;
  /** drops it (a rollback) */
  dropStaged(): void;
  /** the merge-now trigger that db.exec sets up around SQL inserting into crsql_changes (changes-view.ts) */
  execMerge(): string | null;
}

/** What the bracket needs to know of a statement's text, read once per prepared statement. */
interface Shape {
  staging: boolean;
  rollback: boolean;
  txControl: boolean;
  commit: boolean;
  ddl: boolean;
}

const shapeOf = (sql: string): Shape => ({
  staging: STAGES.test(sql),
  rollback: ROLLBACK.test(sql),
  txControl: TX_CONTROL.test(sql),
  commit: COMMIT.test(sql),
  ddl: DDL.test(sql),
});

export function installStatementBracket(db: Database.Database, ctx: BracketContext) {
  const { raw, commits } = ctx;
  const q = {
    // IMMEDIATE, like inTx: a write statement wrapped here may read (the marker) before it writes
    begin: raw.prepare('BEGIN IMMEDIATE'),
    commit: raw.prepare('COMMIT'),
    rollback: raw.prepare('ROLLBACK'),
  };
  const admin: (() => void)[] = [];
  const runAdmin = () => {
    while (admin.length) admin.shift()!();
  };
  /** inside db.exec: crsql_changes INSERTs merge row by row (no statement end is seen in between) */
  let execDepth = 0;
  let mergeNowOn = false;
  let nested = false;

  /** The engine's tables may be those of a rolled-back schema change: back to the file's. */
  function afterRollback(): void {
    try {
      if (!db.inTransaction) ctx.schema().ensureCurrent();
    } catch {
      // busy: the next statement, read or poll checks again
    }
  }

  /** rolled back: nothing it queued, sealed or staged may run later */
  function rolledBack(): void {
    admin.length = 0;
    ctx.dropStaged();
    commits.rolledBack();
  }

  /** Runs `fn` (one statement) so that, if it commits on its own, the seal commits with it. */
  function runStatement<T>(readonly: boolean, statement: string | Shape, fn: () => T, stagedInJs = false): T {
    if (ctx.closed()) return fn();
    const schema = ctx.schema();
    const k = typeof statement === 'string' ? shapeOf(statement) : statement;
    // (a statement that is not one of those kept in JS ends their batch: changes-insert.ts)
    if (!stagedInJs) ctx.kept.end();
    // (a ROLLBACK drops what was staged with the rest)
    if (!k.staging && !k.rollback) ctx.mergeStaged();
    if (!readonly && !db.inTransaction && !k.txControl) {
      q.begin.run();
      let result: T;
      try {
        // (inside the transaction: reading the schema version outside one opened a read
        // transaction of its own, 5 µs of a one-row commit's 70)
        schema.ensureCurrent();
        result = fn();
        ctx.mergeStaged();
        runAdmin();
        if (k.ddl) schema.ensureCurrent(); // a schema change is re-derived before it commits
        commits.sealInside('local');
        q.commit.run();
      } catch (err) {
        rolledBack();
        if (db.inTransaction) q.rollback.run();
        afterRollback();
        throw err;
      }
      commits.flush();
      return result;
    }
    if (k.commit && db.inTransaction) {
      schema.ensureCurrent(); // a schema change is re-derived before it commits
      commits.sealInside('local');
    }
    let result: T;
    try {
      result = fn();
      if (!db.inTransaction) ctx.mergeStaged();
    } catch (err) {
      if (!db.inTransaction) ctx.dropStaged();
      throw err;
    }
    if (!db.inTransaction) {
      ctx.dropStaged();
      runAdmin();
      if (!readonly) {
        schema.ensureCurrent();
        commits.sealOutside('local');
      }
      commits.flush();
    }
    return result;
  }

  function wrapStatement(stmt: Statement, sql: string): Statement {
    const readonly = stmt.readonly;
    // ALTER TABLE on a CRR table: tracking re-derived within the statement (schema-repair.ts guardAlter)
    const alters = !readonly && mayAlter(sql);
    const shape = shapeOf(sql);
    const s = stmt as unknown as Record<string, (...a: unknown[]) => unknown>;
    const ownRun = s.run.bind(stmt);
    for (const m of ['run', 'get', 'all'] as const) {
      const orig = s[m].bind(stmt);
      s[m] = alters
        ? (...args: unknown[]) => runStatement(readonly, shape, () => ctx.schema().guardAlter(sql, () => orig(...args)))
        : (...args: unknown[]) => runStatement(readonly, shape, () => orig(...args));
    }
    const fields = insertFields(sql);
    if (fields) {
      const kept = ctx.kept.wrap(fields, ownRun);
      s.run = (...args: unknown[]) => {
        if (!ctx.closed()) {
          const r = kept.take(args);
          if (r !== undefined) return r;
        }
        return runStatement(false, shape, () => kept.run(args), true);
      };
    }
    const iterate = s.iterate.bind(stmt);
    s.iterate = function* (...args: unknown[]) {
      ctx.mergeStaged();
      try {
        yield* iterate(...args) as Iterable<unknown>;
      } finally {
        if (!db.inTransaction) {
          runAdmin();
          commits.flush();
        }
      }
    } as (...a: unknown[]) => unknown;
    return stmt;
  }

  db.prepare = ((sql: string) => wrapStatement(raw.prepare(sql), sql)) as typeof db.prepare;
  db.exec = ((sql: string) => {
    runStatement(false, /\b(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i.test(sql) ? 'BEGIN' : sql, () => {
      const execMerge = ctx.execMerge();
      const mergeNow = execDepth === 0 && execMerge !== null && /crsql_changes/i.test(sql);
      if (mergeNow) {
        raw.exec(execMerge!);
        mergeNowOn = true;
      }
      execDepth++;
      try {
        ctx.schema().execGuarded(sql, raw.exec); // its ALTER TABLEs on CRR tables one by one (schema-repair.ts)
      } finally {
        execDepth--;
        if (mergeNow) {
          mergeNowOn = false;
          try {
            raw.exec(MERGE_NOW_END);
          } catch {
            // (a failed script's error is the one to see; a trigger left behind only merges row by row)
          }
        }
      }
    });
    return db;
  }) as typeof db.exec;
  db.transaction = ((fn: (...a: unknown[]) => unknown) => {
    const wrapped = raw.transaction(function (this: unknown, ...args: unknown[]) {
      const outer = !nested;
      nested = true;
      try {
        if (outer) ctx.schema().ensureCurrent();
        const r = fn.apply(this, args);
        if (outer) {
          ctx.mergeStaged();
          runAdmin();
          ctx.schema().ensureCurrent(); // a schema change is re-derived before it commits
          commits.sealInside('local');
        }
        return r;
      } finally {
        if (outer) nested = false;
      }
    });
    const run = (variant: (...a: unknown[]) => unknown) =>
      function (this: unknown, ...args: unknown[]) {
        try {
          return variant.apply(this, args);
        } catch (err) {
          if (!db.inTransaction) {
            rolledBack();
            afterRollback();
          }
          throw err;
        } finally {
          commits.flush();
        }
      };
    // the default is IMMEDIATE for the same reason as inTx (deferred stays available)
    const out = run(wrapped.immediate) as unknown as typeof wrapped;
    for (const v of ['deferred', 'immediate', 'exclusive'] as const) {
      Object.defineProperty(out, v, { value: run(wrapped[v]) });
    }
    Object.defineProperty(out, 'default', { value: out });
    return out;
  }) as typeof db.transaction;

  return {
    /** queues an admin function's task for right after the statement */
    queueAdmin: (task: () => void) => admin.push(task),
    /** inside a db.exec whose SQL inserts into crsql_changes (its merge-now trigger is set up) */
    mergeNowOn: () => mergeNowOn,
  };
}
