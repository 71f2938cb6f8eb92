// Recognising the schema changes the engine must handle itself when they run on its connection
// (schema-repair.ts guardAlter): `ALTER TABLE` on a collaborative table, in a prepared statement
// or anywhere in a db.exec() script. A small lexer, not a parser: it knows quotes, comments and
// trigger bodies (whose inner semicolons do not end the statement), which is all that splitting a
// script and reading an ALTER's head need. (The app has a richer tokenizer; the engine may not
// import the app.)

type Tok = { kind: 'word' | 'quoted' | 'punct' | 'other'; text: string; start: number; end: number };

const WORD = /[A-Za-z0-9_$\u0080-\uffff]/;

/** The significant tokens of `sql` (comments and whitespace skipped). */
function tokens(sql: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? sql.length : close + 2;
    } else if (c === "'" || c === '"' || c === '`' || c === '[') {
      const closer = c === '[' ? ']' : c;
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) break;
        if (sql[j] === closer) {
          if (closer !== ']' && sql[j + 1] === closer) j += 2;
          else break;
        } else j++;
      }
      out.push({ kind: c === "'" ? 'other' : 'quoted', text: sql.slice(i, j + 1), start: i, end: Math.min(j + 1, sql.length) });
      i = j + 1;
    } else if (WORD.test(c)) {
      let j = i + 1;
      while (j < sql.length && WORD.test(sql[j])) j++;
      out.push({ kind: 'word', text: sql.slice(i, j), start: i, end: j });
      i = j;
    } else {
      out.push({ kind: 'punct', text: c, start: i, end: i + 1 });
      i++;
    }
  }
  return out;
}

const isWord = (t: Tok | undefined, w: string) => t?.kind === 'word' && t.text.toUpperCase() === w;

/** An identifier token's name (quotes removed). */
function nameOf(t: Tok): string {
  if (t.kind !== 'quoted') return t.text;
  const q = t.text[0];
  const body = t.text.slice(1, -1);
  return q === '[' ? body : body.split(q + q).join(q);
}

/** The statements of a script, as text (a trigger's body stays in its CREATE TRIGGER). */
export function splitStatements(sql: string): string[] {
  const toks = tokens(sql);
  const out: string[] = [];
  let start = 0;
  let from = 0; // first token of the current statement
  let trigger = false;
  for (let k = 0; k < toks.length; k++) {
    const t = toks[k];
    if (k === from) trigger = false;
    // CREATE [TEMP | TEMPORARY] TRIGGER
    if (!trigger && isWord(t, 'TRIGGER') && isWord(toks[from], 'CREATE') && k - from <= 2) trigger = true;
    if (t.text !== ';') continue;
    // inside a trigger only "; END ;" (or a body-less "END;") ends the statement
    if (trigger && !(isWord(toks[k - 1], 'END') && (toks[k - 2]?.text === ';' || isWord(toks[k - 2], 'BEGIN')))) continue;
    const text = sql.slice(start, t.end).trim();
    if (text !== ';') out.push(text);
    start = t.end;
    from = k + 1;
  }
  const rest = sql.slice(start).trim();
  if (toks.some((t) => t.start >= start)) out.push(rest);
  return out;
}

export type AlterAction =
  | { kind: 'drop-column'; column: string }
  | { kind: 'rename-table'; to: string }
  | { kind: 'other' };

/** `ALTER TABLE [schema.]name …` heading one statement: the table and what it does; null otherwise. */
export function alterOf(sql: string): { table: string; action: AlterAction } | null {
  const t = tokens(sql);
  if (!isWord(t[0], 'ALTER') || !isWord(t[1], 'TABLE') || !t[2]) return null;
  const qualified = t[3]?.text === '.';
  const nameTok = qualified ? t[4] : t[2];
  if (!nameTok || (nameTok.kind !== 'word' && nameTok.kind !== 'quoted')) return null;
  if (qualified && !['main'].includes(nameOf(t[2]).toLowerCase())) return null;
  const rest = t.slice(qualified ? 5 : 3);
  const table = nameOf(nameTok);
  if (isWord(rest[0], 'DROP')) {
    const col = isWord(rest[1], 'COLUMN') ? rest[2] : rest[1];
    if (col && (col.kind === 'word' || col.kind === 'quoted')) return { table, action: { kind: 'drop-column', column: nameOf(col) } };
  }
  if (isWord(rest[0], 'RENAME') && isWord(rest[1], 'TO') && rest[2]) return { table, action: { kind: 'rename-table', to: nameOf(rest[2]) } };
  return { table, action: { kind: 'other' } };
}

/** Whether a script may hold an ALTER TABLE (cheap; alterOf decides per statement). */
export const mayAlter = (sql: string) => /\bALTER\b/i.test(sql);
