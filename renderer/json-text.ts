// JSON values in text cells: validation with a line and column, and a formatted view that only
// moves whitespace. Formatting and compacting here rewrite nothing but the whitespace between
// tokens (strings and numbers are copied character for character), so 1.0 stays 1.0, big integers
// keep every digit and escapes stay as written; JSON.parse/stringify would change all three. The
// editor shows a value formatted and saves an edit in the value's own layout (json-edit.ts).

export type JsonCheck = { ok: true; shape: 'object' | 'array' | 'scalar'; size: number } | { ok: false; message: string; line: number; column: number };

/** Whether `text` is JSON, with what it holds (keys or items) or where and why it is not. */
export function checkJson(text: string): JsonCheck {
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v)) return { ok: true, shape: 'array', size: v.length };
    if (v !== null && typeof v === 'object') return { ok: true, shape: 'object', size: Object.keys(v).length };
    return { ok: true, shape: 'scalar', size: 0 };
  } catch (err) {
    const raw = (err as Error).message;
    const at = /at position (\d+)/.exec(raw);
    const pos = at ? Number(at[1]) : text.length;
    const before = text.slice(0, pos).split('\n');
    const message = raw.replace(/\s*(?:in JSON )?at position \d+.*$/s, '').replace(/^JSON\.parse: /, '') || 'Not JSON';
    return { ok: false, message, line: before.length, column: before[before.length - 1].length + 1 };
  }
}

/** A text cell that opens as JSON: a valid object or array (scalars read better as plain text). */
export function isJsonDocument(text: string): boolean {
  const t = text.trimStart();
  if (t[0] !== '{' && t[0] !== '[') return false;
  const c = checkJson(text);
  return c.ok && c.shape !== 'scalar';
}

/** The tokens of JSON text, whitespace dropped: strings and literals exactly as written. */
function tokens(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t') {
      i++;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out.push(text.slice(i, j + 1));
      i = j + 1;
    } else if ('{}[],:'.includes(ch)) {
      out.push(ch);
      i++;
    } else {
      let j = i;
      while (j < text.length && !' \n\r\t{}[],:"'.includes(text[j])) j++;
      out.push(text.slice(i, j));
      i = j;
    }
  }
  return out;
}

/** Valid JSON without whitespace between tokens. */
export function compactJson(text: string): string {
  return tokens(text).join('');
}

/** Valid JSON on one line with a space after each comma and colon (Python's json.dumps default). */
export function spacedJson(text: string): string {
  return tokens(text)
    .map((tok) => (tok === ',' ? ', ' : tok === ':' ? ': ' : tok))
    .join('');
}

/** Valid JSON laid out one member per line (as JSON.stringify(v, null, indent) lays it out), tokens untouched. */
export function formatJson(text: string, indent = '  '): string {
  const t = tokens(text);
  let out = '';
  let depth = 0;
  for (let k = 0; k < t.length; k++) {
    const tok = t[k];
    if (tok === '{' || tok === '[') {
      const close = tok === '{' ? '}' : ']';
      if (t[k + 1] === close) {
        out += tok + close; // {} and [] stay on their line
        k++;
        continue;
      }
      depth++;
      out += `${tok}\n${indent.repeat(depth)}`;
    } else if (tok === '}' || tok === ']') {
      depth--;
      out += `\n${indent.repeat(depth)}${tok}`;
    } else if (tok === ',') {
      out += `,\n${indent.repeat(depth)}`;
    } else if (tok === ':') {
      out += ': ';
    } else {
      out += tok;
    }
  }
  return out;
}

export type JsonLayout = { kind: 'compact' } | { kind: 'spaced' } | { kind: 'formatted'; indent: string } | { kind: 'other' };

/** How a valid JSON text is laid out: compact, spaced, formatted with an indent of its own, or otherwise. */
export function jsonLayout(text: string): JsonLayout {
  if (compactJson(text) === text) return { kind: 'compact' };
  if (spacedJson(text) === text) return { kind: 'spaced' };
  for (const indent of ['  ', '    ', '\t', '   ', ' ']) if (formatJson(text, indent) === text) return { kind: 'formatted', indent };
  return { kind: 'other' };
}
