// The SQL console's run: any SQL (reads, writes, DDL, several statements) in one transaction on the
// engine's connection, so writes to collaborative tables are tracked and sync; all or nothing, and
// an error names the statement that failed. Its last result that has rows comes back as a first
// window (query-window.ts pages through a read-only one again).
//
// Refused, before anything runs: the engine's functions that would stop tracking a table or leave
// it untracked (crsql_as_table, crsql_begin_alter, crsql_commit_alter), anywhere in a statement or
// in a view or trigger it would use; statements that end the transaction early. `SELECT
// crsql_as_crr('t')` runs, as the app's Enable collaboration does (the engine's SQL form takes
// effect only after the statement, too late for one transaction); other calls of it are refused.
// DDL on collaborative tables (ALTER TABLE … ADD / RENAME / DROP COLUMN, RENAME TO) is the
// engine's to keep tracked: it re-derives tracking within the statement (main/crr/schema-repair.ts),
// and the schema log carries the change to peers.
import type Database from 'better-sqlite3';
import type { SqlRunRequest, SqlRunResult, SqlStatementReport } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import { toWire, type SqlValue, type WireValue } from '../../shared/values.ts';
import { CrrRefusal } from '../crr/index.ts';
import type { CrrEngine } from '../crr/types.ts';
import { identifierName, isKeyword, significant, splitStatements, statementHead, type Statement, type Token } from './sql-statements.ts';

const USE_ALTER = 'collaborative tables stay tracked through schema changes by themselves: run the ALTER TABLE as it is, or use the Schema tab';
/** engine functions the console refuses, and what to do instead */
const REFUSED: Record<string, string> = {
  crsql_as_table: 'it stops tracking the table and drops its change history: use "Stop collaboration" in the Schema tab instead',
  crsql_begin_alter: USE_ALTER,
  crsql_commit_alter: USE_ALTER,
};
const ADMIN = new Set([...Object.keys(REFUSED), 'crsql_as_crr']);
const MAX_LIMIT = 10_000;

type Sig = Token[];

/** Names of the functions a statement calls (name followed by `(`), lower-cased. */
function calledFunctions(sig: Sig): string[] {
  const out: string[] = [];
  sig.forEach((t, i) => {
    if ((t.kind === 'word' || t.kind === 'quoted') && sig[i + 1]?.text === '(') out.push(identifierName(t).toLowerCase());
  });
  return out;
}

/** Every name a statement mentions (tables, views, columns…), lower-cased. */
const mentionedNames = (sig: Sig) => new Set(sig.filter((t) => t.kind === 'word' || t.kind === 'quoted').map((t) => identifierName(t).toLowerCase()));

/** `SELECT crsql_as_crr('t')`: the table name, or null when the statement is not exactly that. */
function asCrrTable(sig: Sig): string | null {
  const body = sig.filter((t) => t.kind !== 'semi');
  if (body.length !== 5 || !isKeyword(body[0], 'SELECT') || identifierName(body[1]).toLowerCase() !== 'crsql_as_crr') return null;
  if (body[2].text !== '(' || body[3].kind !== 'string' || body[3].open || body[4].text !== ')') return null;
  return body[3].text.slice(1, -1).replace(/''/g, "'");
}

const txControl = (sig: Sig) =>
  isKeyword(sig[0], 'BEGIN') || isKeyword(sig[0], 'COMMIT') || isKeyword(sig[0], 'END') || (isKeyword(sig[0], 'ROLLBACK') && !sig.some((t) => isKeyword(t, 'TO')));

/** Views and triggers in the file whose SQL calls one of the engine's admin functions. */
function adminCallers(db: Database.Database): { kind: string; name: string; uses: string; call: string }[] {
  const rows = db
    .prepare(`SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE type IN ('view', 'trigger') AND sql LIKE '%crsql%'`)
    .all() as { type: string; name: string; tbl_name: string; sql: string }[];
  const out: { kind: string; name: string; uses: string; call: string }[] = [];
  for (const r of rows) {
    const call = calledFunctions(significant(splitStatements(r.sql)[0]?.tokens ?? [])).find((f) => ADMIN.has(f));
    if (call) out.push({ kind: r.type, name: r.name, uses: (r.type === 'view' ? r.name : r.tbl_name).toLowerCase(), call });
  }
  return out;
}

interface Planned {
  statement: Statement;
  sig: Sig;
  /** 1-based, in the script as written */
  index: number;
  head: string;
  asCrr: string | null;
}

/** Checks the whole script before anything runs; throws the first refusal. */
function plan(db: Database.Database, engine: CrrEngine | null, sql: string): { run: Planned[]; total: number } {
  const all = splitStatements(sql).map((statement, i) => {
    const sig = significant(statement.tokens);
    return { statement, sig, index: i + 1, head: statementHead(statement), asCrr: asCrrTable(sig) };
  });
  if (all.length === 0) throw new ApiError('invalid-argument', 'There is no SQL to run.');
  // BEGIN … COMMIT around the whole script says what the console does anyway
  let run = all;
  if (all.length > 2 && isKeyword(all[0].sig[0], 'BEGIN') && (isKeyword(all.at(-1)!.sig[0], 'COMMIT') || isKeyword(all.at(-1)!.sig[0], 'END'))) {
    run = all.slice(1, -1);
  }
  const callers = adminCallers(db);
  const name = (p: Planned) => `Statement ${p.index} (${p.head})`;
  for (const p of run) {
    if (txControl(p.sig)) {
      throw new ApiError('invalid-argument', `${name(p)} controls the transaction: the console runs the whole script as one transaction (all or nothing), so leave it out.`);
    }
    for (const f of calledFunctions(p.sig)) {
      if (REFUSED[f]) throw new ApiError('invalid-argument', `${name(p)} calls ${f}, which the console does not run: ${REFUSED[f]}.`);
      if (f === 'crsql_as_crr' && p.asCrr === null) {
        throw new ApiError('invalid-argument', `${name(p)}: write crsql_as_crr as a statement of its own, SELECT crsql_as_crr('table'); (or use Enable collaboration).`);
      }
    }
    const mentioned = mentionedNames(p.sig);
    const caller = callers.find((c) => mentioned.has(c.uses));
    if (caller) {
      throw new ApiError('invalid-argument', `${name(p)} would run ${caller.kind} "${caller.name}", which calls ${caller.call}: the console does not run the engine's functions that way. Drop or change that ${caller.kind} first.`);
    }
  }
  return { run, total: all.length };
}

const wire = (r: unknown[]): WireValue[] => r.map((v) => toWire(v instanceof Uint8Array ? new Uint8Array(v) : (v as SqlValue)));

/** Runs a console script in one transaction; throws an ApiError naming the statement that failed. */
export function runScript(db: Database.Database, engine: CrrEngine | null, p: SqlRunRequest): SqlRunResult {
  if (typeof p?.sql !== 'string') throw new ApiError('invalid-argument', 'The SQL to run must be text.');
  const limit = Math.min(Math.max(1, Math.floor(Number(p.limit ?? 100)) || 100), MAX_LIMIT);
  const { run: statements, total } = plan(db, engine, p.sql);
  const schemaVersion = db.prepare('PRAGMA schema_version').pluck().safeIntegers(false);
  const totalChanges = db.prepare('SELECT total_changes()').pluck().safeIntegers(false);
  const lastChanges = db.prepare('SELECT changes()').pluck().safeIntegers(false);
  const reports: SqlStatementReport[] = [];
  let result: SqlRunResult['result'] = null;
  let schemaChanged = false;
  const startVersion = schemaVersion.get() as number;
  const at: { current: Planned | null } = { current: null };
  const run = () => {
    let version = startVersion;
    for (const s of statements) {
      at.current = s;
      let changes: number | null = null;
      let kind: SqlStatementReport['kind'] = 'read';
      if (s.asCrr !== null) {
        if (!engine) throw new ApiError('read-only', 'This database is open read-only: its tables cannot become collaborative here.');
        engine.asCrr(s.asCrr);
      } else {
        const stmt = db.prepare(s.statement.sql);
        if (stmt.reader) {
          const before = totalChanges.get() as number;
          const rows: WireValue[][] = [];
          let truncated = false;
          // a pure read may stop at the window; anything else runs to its end
          const rereadable = stmt.readonly && !calledFunctions(s.sig).some((f) => f.startsWith('crsql_'));
          for (const r of stmt.raw().safeIntegers(true).iterate() as Iterable<unknown[]>) {
            if (rows.length < limit) rows.push(wire(r));
            else {
              truncated = true;
              if (rereadable) break;
            }
          }
          if (!stmt.readonly) {
            kind = 'write';
            changes = totalChanges.get() === before ? 0 : (lastChanges.get() as number);
          }
          const columns = stmt.columns().map((c) => c.name);
          result = { statement: s.index, columns, rows, truncated, sql: rereadable ? s.statement.sql : null };
        } else {
          const info = stmt.run();
          if (!stmt.readonly) {
            kind = 'write';
            changes = info.changes;
          }
        }
      }
      const now = schemaVersion.get() as number;
      if (now !== version) {
        version = now;
        schemaChanged = true;
        kind = 'schema';
        changes = null;
      }
      reports.push({ index: s.index, head: s.head, kind, changes });
    }
  };
  try {
    // (the engine brings itself back to the file's schema after a rollback)
    db.transaction(run)();
  } catch (err) {
    throw failed(at.current, total, err);
  }
  return { statements: reports, changes: reports.reduce((n, r) => n + (r.changes ?? 0), 0), schemaChanged, result };
}

function failed(s: Planned | null, count: number, err: unknown): ApiError {
  const message = (err as Error)?.message ?? String(err);
  const code = err instanceof ApiError ? err.code : err instanceof CrrRefusal ? 'crr-refused' : /constraint/i.test(message) ? 'constraint' : /busy|locked/i.test(message) ? 'locked' : 'sql-error';
  const where = s ? `Statement ${s.index}${count > 1 ? ` of ${count}` : ''} (${s.head})` : 'The script';
  return new ApiError(code, `${where} failed: ${message.replace(/\.$/, '')}. Nothing was changed.`);
}
