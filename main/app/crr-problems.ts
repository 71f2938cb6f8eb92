// Everything that keeps a table from being collaborative (the engine's checkCrrRules stops at the
// first), each with the rebuild that fixes it, and all of them together as one rebuild: what the
// "Fix…" beside a refusal offers.
import type Database from 'better-sqlite3';
import type { CrrProblem, RebuildOptions } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import type { PragmaColumn } from '../crr/table-info.ts';

/** A DEFAULT that fits a column's affinity: 0 for numbers, '' for text, X'' for blobs. */
export function suggestedDefault(type: string): string {
  const t = type.toUpperCase();
  if (/INT|REAL|FLOA|DOUB|NUM|DEC|BOOL/.test(t)) return '0';
  if (/BLOB/.test(t)) return "X''";
  return "''";
}

export function crrProblems(db: Database.Database, table: string): { problems: CrrProblem[]; fix: RebuildOptions | null } {
  const row = db.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(table) as { sql: string } | undefined;
  if (!row) throw new ApiError('not-found', `There is no table named ${JSON.stringify(table)}.`);
  if (/^\s*CREATE\s+VIRTUAL/i.test(row.sql)) {
    return { problems: [{ kind: 'virtual', message: 'It is a virtual table: copy its rows into an ordinary table, which can be collaborative.' }], fix: null };
  }
  const cols = db.prepare(`SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)`).safeIntegers(false).all(table) as PragmaColumn[];
  const problems: CrrProblem[] = [];
  const fix: RebuildOptions = {};
  const generated = cols.filter((c) => c.hidden === 2 || c.hidden === 3);
  if (generated.length) {
    problems.push({ kind: 'generated', message: `Generated column${generated.length > 1 ? 's' : ''} ${generated.map((c) => c.name).join(', ')}: made ordinary columns holding their current values.` });
    fix.materializeGenerated = true;
  }
  const key = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  if (key.length === 0) {
    const names = new Set(cols.map((c) => c.name.toLowerCase()));
    let id = 'id';
    for (let i = 2; names.has(id); i++) id = i === 2 ? 'row_id' : `row_id_${i}`;
    problems.push({ kind: 'no-primary-key', message: `No primary key: choose key columns, or add an integer ${id} numbering the rows.` });
    fix.primaryKey = { addId: id };
  } else if (key.some((c) => !c.notnull)) {
    problems.push({ kind: 'nullable-primary-key', message: `The key ${key.map((c) => c.name).join(', ')} may be NULL: declared NOT NULL.`, subject: key.find((c) => !c.notnull)!.name });
    fix.primaryKey = { columns: key.map((c) => c.name) };
  }
  if (/\bAUTOINCREMENT\b/i.test(row.sql)) {
    problems.push({ kind: 'autoincrement', message: 'AUTOINCREMENT: dropped (an INTEGER PRIMARY KEY still numbers new rows).' });
    fix.dropAutoincrement = true;
  }
  const fks = db.prepare(`SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`).pluck().all(table) as string[];
  if (fks.length) {
    problems.push({ kind: 'foreign-key', message: `Foreign key${fks.length > 1 ? 's' : ''} to ${fks.join(', ')}: dropped (the columns and values stay; replicas cannot enforce them).` });
    fix.dropForeignKeys = true;
  }
  const unique = (db.prepare(`SELECT name, origin FROM pragma_index_list(?) WHERE "unique"`).all(table) as { name: string; origin: string }[]).filter((ix) => ix.origin !== 'pk');
  for (const ix of unique) {
    problems.push({ kind: 'unique-index', message: `Unique index ${ix.name}: made an ordinary index (replicas could not merge two rows with the same value).`, subject: ix.name });
    (fix.dropUnique ??= []).push({ index: ix.name, keepIndex: true });
  }
  for (const c of cols) {
    if (c.pk === 0 && c.hidden === 0 && c.notnull && c.dflt_value === null) {
      const d = suggestedDefault(c.type);
      problems.push({ kind: 'not-null-without-default', message: `${c.name} is NOT NULL without a DEFAULT: given DEFAULT ${d} (change it in the SQL's place below, or allow NULL).`, subject: c.name });
      (fix.defaults ??= {})[c.name] = d;
    }
  }
  return { problems, fix: problems.length ? fix : null };
}
