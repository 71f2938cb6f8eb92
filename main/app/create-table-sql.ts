// A table's CREATE TABLE statement read into its parts, so a rebuild can change one thing (drop a
// REFERENCES clause, add a DEFAULT, move the primary key) and keep everything else as written:
// types, CHECKs, COLLATE, conflict clauses, names of constraints. Column constraints follow SQLite's
// grammar (lang_createtable.html): each starts with one of a few keywords, and what follows it up
// to the next one belongs to it. Tokens come from sql-statements.ts.
import { identifierName, isKeyword, significant, tokenize, type Token } from './sql-statements.ts';

export type ColumnConstraintKind = 'primary-key' | 'not-null' | 'null' | 'unique' | 'check' | 'default' | 'collate' | 'references' | 'generated';
export type TableConstraintKind = 'primary-key' | 'unique' | 'check' | 'foreign-key';

export interface Part<K> {
  kind: K;
  /** its SQL as written, with its CONSTRAINT name if it has one */
  sql: string;
  tokens: Token[];
}

export interface ColumnPart {
  name: string;
  /** the name as written (quoted or not) */
  nameSql: string;
  /** the declared type as written ('' for none) */
  typeSql: string;
  constraints: Part<ColumnConstraintKind>[];
}

export interface TablePart extends Part<TableConstraintKind> {
  /** the columns it lists (PRIMARY KEY, UNIQUE, FOREIGN KEY) */
  columns: string[];
}

export interface CreateTable {
  name: string;
  columns: ColumnPart[];
  constraints: TablePart[];
  /** what follows the column list: WITHOUT ROWID, STRICT ('' for none) */
  options: string;
}

const COLUMN_STARTS: Record<string, ColumnConstraintKind> = {
  PRIMARY: 'primary-key',
  NOT: 'not-null',
  NULL: 'null',
  UNIQUE: 'unique',
  CHECK: 'check',
  DEFAULT: 'default',
  COLLATE: 'collate',
  REFERENCES: 'references',
  GENERATED: 'generated',
  AS: 'generated',
};
const TABLE_STARTS: Record<string, TableConstraintKind> = { PRIMARY: 'primary-key', UNIQUE: 'unique', CHECK: 'check', FOREIGN: 'foreign-key' };

const text = (sql: string, tokens: Token[]) => (tokens.length ? sql.slice(tokens[0].start, tokens[tokens.length - 1].end) : '');
const upper = (t: Token | undefined) => (t?.kind === 'word' ? t.text.toUpperCase() : '');

/** Splits tokens at commas outside parentheses. */
function splitTopLevel(tokens: Token[]): Token[][] {
  const out: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.text === '(') depth++;
    if (t.text === ')') depth--;
    if (t.text === ',' && depth === 0) out.push([]);
    else out[out.length - 1].push(t);
  }
  return out.filter((g) => g.length > 0);
}

/** Does this keyword start a new column constraint here, or continue the one before it? */
function startsConstraint(tokens: Token[], i: number): boolean {
  const word = upper(tokens[i]);
  if (!(word in COLUMN_STARTS)) return false;
  const before = upper(tokens[i - 1]);
  if ((word === 'NULL' || word === 'DEFAULT') && (before === 'SET' || before === 'NOT')) return false; // ON DELETE SET NULL, NOT NULL
  if (word === 'NOT' && upper(tokens[i + 1]) === 'DEFERRABLE') return false;
  if (word === 'AS' && before === 'ALWAYS') return false;
  return true;
}

function columnPart(sql: string, tokens: Token[]): ColumnPart {
  const constraints: Part<ColumnConstraintKind>[] = [];
  let typeEnd = tokens.length;
  let depth = 0;
  let current: Token[] | null = null;
  const close = () => {
    if (!current) return;
    const head = isKeyword(current[0], 'CONSTRAINT') ? current[2] : current[0];
    constraints.push({ kind: COLUMN_STARTS[upper(head)] ?? 'check', sql: text(sql, current), tokens: current });
    current = null;
  };
  for (let i = 1; i < tokens.length; i++) {
    const t = tokens[i];
    if (depth === 0) {
      const named = isKeyword(t, 'CONSTRAINT');
      // a CONSTRAINT name goes with the constraint that follows it
      const afterName = current !== null && (current as Token[]).length === 2 && isKeyword((current as Token[])[0], 'CONSTRAINT');
      if (named || (startsConstraint(tokens, i) && !afterName)) {
        if (typeEnd === tokens.length) typeEnd = i;
        close();
        current = [];
      }
    }
    if (t.text === '(') depth++;
    if (t.text === ')') depth--;
    if (current) (current as Token[]).push(t);
  }
  close();
  return { name: identifierName(tokens[0]), nameSql: tokens[0].text, typeSql: text(sql, tokens.slice(1, typeEnd)), constraints };
}

function tablePart(sql: string, tokens: Token[]): TablePart {
  const head = isKeyword(tokens[0], 'CONSTRAINT') ? 2 : 0;
  const kind = TABLE_STARTS[upper(tokens[head])];
  const open = tokens.findIndex((t) => t.text === '(');
  let columns: string[] = [];
  if (kind !== 'check' && open >= 0) {
    let depth = 0;
    const inside: Token[] = [];
    for (const t of tokens.slice(open)) {
      if (t.text === '(') depth++;
      if (t.text === ')' && --depth === 0) break;
      if (depth > 0 && !(depth === 1 && t.text === '(')) inside.push(t);
    }
    columns = splitTopLevel(inside).map((item) => identifierName(item[0]));
  }
  return { kind, sql: text(sql, tokens), tokens, columns };
}

/** Reads `CREATE TABLE …` (as sqlite_schema holds it); throws for virtual tables and CREATE … AS. */
export function parseCreateTable(sql: string): CreateTable {
  const tokens = significant(tokenize(sql)).filter((t) => t.kind !== 'semi');
  let i = 0;
  if (!isKeyword(tokens[i++], 'CREATE')) throw new Error('not a CREATE TABLE statement');
  if (isKeyword(tokens[i], 'TEMP') || isKeyword(tokens[i], 'TEMPORARY')) i++;
  if (isKeyword(tokens[i], 'VIRTUAL')) throw new Error('a virtual table has no CREATE TABLE to rebuild from');
  if (!isKeyword(tokens[i++], 'TABLE')) throw new Error('not a CREATE TABLE statement');
  if (isKeyword(tokens[i], 'IF')) i += 3;
  let nameToken = tokens[i++];
  if (tokens[i]?.text === '.') {
    nameToken = tokens[i + 1];
    i += 2;
  }
  if (tokens[i]?.text !== '(') throw new Error('CREATE TABLE … AS has no column list to rebuild from');
  let depth = 0;
  let end = i;
  for (; end < tokens.length; end++) {
    if (tokens[end].text === '(') depth++;
    if (tokens[end].text === ')' && --depth === 0) break;
  }
  const items = splitTopLevel(tokens.slice(i + 1, end));
  const table: CreateTable = { name: identifierName(nameToken), columns: [], constraints: [], options: text(sql, tokens.slice(end + 1)) };
  for (const item of items) {
    const head = isKeyword(item[0], 'CONSTRAINT') ? item[2] : item[0];
    if (item[0].kind === 'word' && upper(head) in TABLE_STARTS) table.constraints.push(tablePart(sql, item));
    else table.columns.push(columnPart(sql, item));
  }
  return table;
}

export const columnSql = (c: ColumnPart): string => [c.nameSql, c.typeSql, ...c.constraints.map((k) => k.sql)].filter(Boolean).join(' ');

/** The CREATE TABLE statement for `t` under `name`. */
export function createTableSql(t: CreateTable, name: string): string {
  const items = [...t.columns.map(columnSql), ...t.constraints.map((k) => k.sql)];
  return `CREATE TABLE ${name} (\n  ${items.join(',\n  ')}\n)${t.options ? ` ${t.options}` : ''}`;
}
