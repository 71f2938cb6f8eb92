// What a schema-log entry from a peer does to this copy (schema-log.ts). Each kind checks the
// schema as it is here first: what is already so is applied (nothing to do: the same column added
// on both sides, a rename already made); what can be done is done, through the engine's guarded
// DDL, in a savepoint of the caller's transaction, without being logged again; what cannot is a
// conflict with the reason (retried after every schema change). Destructive kinds (drop a column,
// drop a table, stop sharing) wait for the user's confirmation unless the database's setting
// applies them automatically.
//
// The DDL is built here from checked fields, never taken from the peer as it is, except a
// CREATE TABLE or CREATE INDEX statement, which must be exactly one such statement and must
// create exactly the table or index it names.
import type { SchemaChangeKind, SchemaEntry, SchemaEntryState } from './types.ts';
import { quoteId } from './table-info.ts';

export interface ApplyContext {
  /** a table exists here / is a CRR here */
  tableExists(table: string): boolean;
  isCrr(table: string): boolean;
  /** a CRR table's columns with their declared types (pk columns included), or null */
  columns(table: string): Map<string, { type: string; pk: boolean }> | null;
  /** the index named `name`: its table and whether it is unique; null when there is none */
  index(name: string): { table: string; unique: boolean } | null;
  /** runs `fn` in a savepoint: all of it or nothing */
  savepoint(fn: () => void): void;
  /** an ALTER TABLE on a CRR table through the engine's guard (tracking re-derived at once), not logged */
  alter(sql: string): void;
  /** other DDL (CREATE/DROP TABLE or INDEX), then re-derived, not logged */
  ddl(sql: string): void;
  asCrr(table: string): void;
  asTable(table: string): void;
  autoApply(): boolean;
}

const DESTRUCTIVE = new Set<SchemaChangeKind>(['drop-column', 'drop-table', 'stop-sharing']);
export const isDestructive = (kind: SchemaChangeKind) => DESTRUCTIVE.has(kind);

const RESERVED = /^(sqlite_|crr_|crsql_)|__crr_/i;
const TYPE = /^[A-Za-z_][A-Za-z0-9_]*( +[A-Za-z_][A-Za-z0-9_]*)*( *\( *[+-]?\d+(\.\d+)? *(, *[+-]?\d+(\.\d+)? *)?\))?$/;
const LITERAL = /^('([^']|'')*'|[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[xX]'[0-9a-fA-F]*'|NULL|TRUE|FALSE|CURRENT_TIME|CURRENT_DATE|CURRENT_TIMESTAMP)$/i;

const sameType = (a: string, b: string) => a.trim().replace(/\s+/g, ' ').toUpperCase() === b.trim().replace(/\s+/g, ' ').toUpperCase();
const typeName = (t: string) => (t.trim() ? t.trim() : 'no declared type');

/** What an entry does, in words. */
export function summaryOf(e: Pick<SchemaEntry, 'kind' | 'table' | 'column' | 'to' | 'type' | 'index'>): string {
  switch (e.kind) {
    case 'share-table':
      return `share the table ${e.table}`;
    case 'add-column':
      return `add column ${e.column}${e.type ? ` ${e.type}` : ''} to ${e.table}`;
    case 'rename-column':
      return `rename column ${e.column} of ${e.table} to ${e.to}`;
    case 'drop-column':
      return `drop column ${e.column} of ${e.table}`;
    case 'rename-table':
      return `rename table ${e.table} to ${e.to}`;
    case 'drop-table':
      return `drop table ${e.table}`;
    case 'stop-sharing':
      return `stop sharing ${e.table}`;
    case 'create-index':
      return `create index ${e.index} on ${e.table}`;
    case 'drop-index':
      return `drop index ${e.index} of ${e.table}`;
  }
}

/** The column definition of an add-column entry, or why this copy will not build it. */
export function columnDef(e: SchemaEntry): { sql: string } | { refused: string } {
  const type = e.type ?? '';
  if (type && !TYPE.test(type)) return { refused: `its declared type ${JSON.stringify(type)} is not one this copy adds automatically` };
  const dflt = e.default ?? null;
  if (dflt !== null && !LITERAL.test(dflt.trim())) return { refused: `its DEFAULT ${dflt} is not a plain value this copy adds automatically` };
  return { sql: [quoteId(e.column!), type, e.notNull ? 'NOT NULL' : '', dflt !== null ? `DEFAULT ${dflt.trim()}` : ''].filter(Boolean).join(' ') };
}

type Outcome = { state: SchemaEntryState; reason: string | null };
const applied: Outcome = { state: 'applied', reason: null };
const conflict = (reason: string): Outcome => ({ state: 'conflict', reason });
const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).replace(/\.$/, '');

/** Tries `fn` in a savepoint: applied, or a conflict saying `what` failed. */
function attempt(ctx: ApplyContext, what: string, fn: () => void): Outcome {
  try {
    ctx.savepoint(fn);
    return applied;
  } catch (err) {
    return conflict(`${what}: ${message(err)}`);
  }
}

/**
 * Applies `e` to this copy if it can (inside the caller's transaction); `confirmed`: the user
 * said yes to a destructive one.
 */
export function evaluate(e: SchemaEntry, ctx: ApplyContext, confirmed: boolean): Outcome {
  const t = e.table;
  const T = quoteId(t);
  const cols = () => ctx.columns(t);
  const waitForUser = () => !confirmed && !ctx.autoApply();
  switch (e.kind) {
    case 'share-table': {
      if (ctx.tableExists(t)) {
        return ctx.isCrr(t) ? applied : conflict(`a table ${t} exists here and is not collaborative: make it collaborative (its rows then merge with the peers') or rename it`);
      }
      if (RESERVED.test(t) || !/^\s*CREATE\s+TABLE\s/i.test(e.sql ?? '')) return conflict(`refused to create ${JSON.stringify(t)} from the peer's statement`);
      return attempt(ctx, `cannot create ${t} here`, () => {
        ctx.ddl(e.sql!);
        if (!ctx.tableExists(t)) throw new Error(`the peer's statement did not create ${t}`);
        ctx.asCrr(t);
      });
    }
    case 'add-column': {
      const c = cols();
      if (!c) return conflict(`there is no collaborative table ${t} here`);
      const mine = c.get(e.column!);
      if (mine) {
        return sameType(mine.type, e.type ?? '')
          ? applied
          : conflict(`schema conflict: column ${e.column} of ${t} is ${typeName(mine.type)} here and ${typeName(e.type ?? '')} at the peer; its changes wait until both declare the same type`);
      }
      const def = columnDef(e);
      if ('refused' in def) return conflict(`cannot add column ${e.column} to ${t} here: ${def.refused}`);
      return attempt(ctx, `cannot add column ${e.column} to ${t} here`, () => ctx.alter(`ALTER TABLE ${T} ADD COLUMN ${def.sql}`));
    }
    case 'rename-column': {
      const c = cols();
      if (!c) return conflict(`there is no collaborative table ${t} here`);
      const from = c.has(e.column!);
      const to = c.has(e.to!);
      if (!from && to) return applied;
      if (!from) return conflict(`${t} has no column ${e.column} to rename here`);
      if (to) return conflict(`${t} has both ${e.column} and ${e.to} here: cannot rename one to the other`);
      return attempt(ctx, `cannot rename column ${e.column} of ${t} here`, () =>
        ctx.alter(`ALTER TABLE ${T} RENAME COLUMN ${quoteId(e.column!)} TO ${quoteId(e.to!)}`),
      );
    }
    case 'rename-table': {
      const to = e.to!;
      if (!ctx.isCrr(t) && ctx.isCrr(to)) return applied;
      if (!ctx.isCrr(t)) return conflict(`there is no collaborative table ${t} here to rename`);
      if (ctx.tableExists(to) || RESERVED.test(to)) return conflict(`cannot rename ${t} to ${to} here: that name is taken`);
      return attempt(ctx, `cannot rename ${t} here`, () => ctx.alter(`ALTER TABLE ${T} RENAME TO ${quoteId(to)}`));
    }
    case 'create-index': {
      const ix = ctx.index(e.index!);
      if (ix) return ix.table === t ? applied : conflict(`an index ${e.index} exists here on another table (${ix.table})`);
      if (!ctx.isCrr(t)) return conflict(`there is no collaborative table ${t} here`);
      if (RESERVED.test(e.index!) || !/^\s*CREATE\s+INDEX\s/i.test(e.sql ?? '')) return conflict(`refused to create index ${JSON.stringify(e.index)} from the peer's statement`);
      return attempt(ctx, `cannot create index ${e.index} here`, () => {
        ctx.ddl(e.sql!);
        const made = ctx.index(e.index!);
        if (!made || made.table !== t || made.unique) throw new Error(`the peer's statement did not create a plain index ${e.index} on ${t}`);
      });
    }
    case 'drop-index': {
      const ix = ctx.index(e.index!);
      if (!ix) return applied;
      if (ix.table !== t || ix.unique) return conflict(`the index ${e.index} here is not the peer's (another table, or unique)`);
      return attempt(ctx, `cannot drop index ${e.index} here`, () => ctx.ddl(`DROP INDEX ${quoteId(e.index!)}`));
    }
    case 'drop-column': {
      const c = cols();
      if (!c || !c.has(e.column!)) return applied;
      if (waitForUser()) return { state: 'confirm', reason: null };
      return attempt(ctx, `cannot drop column ${e.column} of ${t} here`, () => ctx.alter(`ALTER TABLE ${T} DROP COLUMN ${quoteId(e.column!)}`));
    }
    case 'drop-table': {
      if (!ctx.tableExists(t)) return applied;
      if (!ctx.isCrr(t)) return applied; // this copy's own table of that name, never shared
      if (waitForUser()) return { state: 'confirm', reason: null };
      return attempt(ctx, `cannot drop ${t} here`, () => ctx.ddl(`DROP TABLE ${T}`));
    }
    case 'stop-sharing': {
      if (!ctx.isCrr(t)) return applied;
      if (waitForUser()) return { state: 'confirm', reason: null };
      return attempt(ctx, `cannot stop sharing ${t} here`, () => ctx.asTable(t));
    }
  }
}
