// SQL text into tokens and statements, the way SQLite itself decides where a statement ends.
//
// better-sqlite3 prepares one statement at a time and cannot split a script, and SQLite's own
// splitter (`sqlite3_complete`, what the sqlite3 shell uses to know a statement is complete) is not
// exposed. This is a port of that function's state machine (SQLite's complete.c): a `;` ends a
// statement unless it is inside a string, a quoted identifier, a comment, or a CREATE TRIGGER body,
// which only ends at `; END;`. The splitter libraries in the npm registry (dbgate-query-splitter,
// @databases/split-sql-query) are written for other dialects' rules and are weaker on trigger bodies;
// a full SQL parser (sql-parser-cst) would refuse valid SQLite it does not know. The tokens also serve
// the console's checks and the CREATE TABLE reader (create-table-sql.ts).

export type TokenKind = 'space' | 'comment' | 'string' | 'blob' | 'quoted' | 'word' | 'number' | 'semi' | 'punct';

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  /** an unterminated string, quoted identifier or block comment */
  open?: boolean;
}

const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
// SQLite's IdChar: letters, digits, _ and $, and every byte >= 0x80 (so any non-ASCII character)
const isIdChar = (c: string) => /[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) >= 0x80;
const NUMBER = /^(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)/;

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  const push = (kind: TokenKind, end: number, open = false) => {
    out.push({ kind, text: sql.slice(i, end), start: i, end, ...(open ? { open } : {}) });
    i = end;
  };
  /** a quoted run from i to its closing `close` (doubled closers stay inside) */
  const quoted = (kind: TokenKind, from: number, close: string) => {
    let j = from;
    for (;;) {
      const k = sql.indexOf(close, j);
      if (k < 0) return push(kind, n, true);
      if (close !== ']' && sql[k + 1] === close) {
        j = k + 2;
        continue;
      }
      return push(kind, k + 1);
    }
  };
  while (i < n) {
    const c = sql[i];
    if (isSpace(c)) {
      let j = i + 1;
      while (j < n && isSpace(sql[j])) j++;
      push('space', j);
    } else if (c === '-' && sql[i + 1] === '-') {
      const k = sql.indexOf('\n', i);
      push('comment', k < 0 ? n : k);
    } else if (c === '/' && sql[i + 1] === '*') {
      const k = sql.indexOf('*/', i + 2);
      if (k < 0) push('comment', n, true);
      else push('comment', k + 2);
    } else if (c === "'") {
      quoted('string', i + 1, "'");
    } else if ((c === 'x' || c === 'X') && sql[i + 1] === "'") {
      quoted('blob', i + 2, "'");
    } else if (c === '"' || c === '`') {
      quoted('quoted', i + 1, c);
    } else if (c === '[') {
      quoted('quoted', i + 1, ']');
    } else if (c === ';') {
      push('semi', i + 1);
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      let j = i + NUMBER.exec(sql.slice(i, i + 400))![0].length;
      while (j < n && isIdChar(sql[j])) j++; // SQLite refuses "12abc"; keep it one token
      push('number', j);
    } else if (isIdChar(c)) {
      let j = i + 1;
      while (j < n && isIdChar(sql[j])) j++;
      push('word', j);
    } else {
      push('punct', i + 1);
    }
  }
  return out;
}

/** Tokens that mean something (not whitespace or comments). */
export const significant = (tokens: Token[]): Token[] => tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment');

/** An identifier's name: a bare word as written, a quoted one unquoted. */
export function identifierName(t: Token): string {
  if (t.kind !== 'quoted') return t.text;
  const q = t.text[0];
  const body = t.text.slice(1, t.open ? undefined : -1);
  return q === '[' ? body : body.split(q + q).join(q);
}

/** A bare word equal to `keyword` (case-insensitive); quoted words are identifiers, never keywords. */
export const isKeyword = (t: Token | undefined, keyword: string): boolean => t?.kind === 'word' && t.text.toUpperCase() === keyword;

// sqlite3_complete's token classes and transitions (complete.c)
const Tk = { Semi: 0, Ws: 1, Other: 2, Explain: 3, Create: 4, Temp: 5, Trigger: 6, End: 7 } as const;
type Tk = (typeof Tk)[keyof typeof Tk];
const TRANS: number[][] = [
  /*             SEMI WS OTHER EXPLAIN CREATE TEMP TRIGGER END */
  /* 0 INVALID */ [1, 0, 2, 3, 4, 2, 2, 2],
  /* 1 START   */ [1, 1, 2, 3, 4, 2, 2, 2],
  /* 2 NORMAL  */ [1, 2, 2, 2, 2, 2, 2, 2],
  /* 3 EXPLAIN */ [1, 3, 3, 2, 4, 2, 2, 2],
  /* 4 CREATE  */ [1, 4, 2, 2, 2, 4, 5, 2],
  /* 5 TRIGGER */ [6, 5, 5, 5, 5, 5, 5, 5],
  /* 6 SEMI    */ [6, 6, 5, 5, 5, 5, 5, 7],
  /* 7 END     */ [1, 7, 5, 5, 5, 5, 5, 5],
];
const START = 1;

function tokenClass(t: Token): Tk {
  switch (t.kind) {
    case 'space':
    case 'comment':
      return Tk.Ws;
    case 'semi':
      return Tk.Semi;
    case 'word':
      switch (t.text.toUpperCase()) {
        case 'CREATE':
          return Tk.Create;
        case 'TRIGGER':
          return Tk.Trigger;
        case 'TEMP':
        case 'TEMPORARY':
          return Tk.Temp;
        case 'END':
          return Tk.End;
        case 'EXPLAIN':
          return Tk.Explain;
      }
      return Tk.Other;
    default:
      return Tk.Other;
  }
}

export interface Statement {
  /** its text, from its first token to its closing `;` (or the end of the script) */
  sql: string;
  /** where it starts and ends in the script */
  start: number;
  end: number;
  /** its tokens (comments and whitespace included) */
  tokens: Token[];
}

/** The statements of a script, in order; empty ones (only `;`, whitespace or comments) are left out. */
export function splitStatements(sql: string): Statement[] {
  const out: Statement[] = [];
  let state = 0;
  let current: Token[] = [];
  const flush = () => {
    const body = significant(current);
    if (body.some((t) => t.kind !== 'semi')) {
      const first = current.find((t) => t.kind !== 'space')!;
      const last = current[current.length - 1];
      out.push({ sql: sql.slice(first.start, last.end).trimEnd(), start: first.start, end: last.end, tokens: current });
    }
    current = [];
  };
  for (const t of tokenize(sql)) {
    // whitespace between statements belongs to none of them
    if (current.length === 0 && t.kind === 'space') continue;
    current.push(t);
    state = TRANS[state][tokenClass(t)];
    if (t.kind === 'semi' && state === START) flush();
  }
  flush();
  return out;
}

/** The first words of a statement, for messages: `UPDATE notes SET body = …`. */
export function statementHead(s: Pick<Statement, 'tokens'>, words = 5): string {
  const body = significant(s.tokens).filter((t) => t.kind !== 'semi');
  let head = '';
  body.slice(0, words).forEach((t, i) => {
    // a space where the statement has whitespace or a comment between the two tokens
    if (i > 0 && t.start > body[i - 1].end) head += ' ';
    head += t.text.length > 40 ? t.text.slice(0, 39) + '…' : t.text;
  });
  return body.length > words ? `${head} …` : head;
}
