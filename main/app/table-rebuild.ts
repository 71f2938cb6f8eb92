// Rebuilds SQLite's ALTER TABLE cannot do (lang_altertable.html, "other kinds of table schema
// changes"): a new primary key, no foreign keys, no UNIQUE constraint, a DEFAULT, NOT NULL lifted,
// no AUTOINCREMENT, generated columns made ordinary. The table is created anew from its own CREATE
// TABLE with only that changed (create-table-sql.ts), every row copied (rowids kept), the copy
// checked value by value and storage class by storage class, the old table dropped and the new one
// renamed into its place (legacy_alter_table, so views naming the table are left as they are, as
// SQLite's procedure says), its indexes and triggers made again. Foreign keys are off meanwhile and
// checked before it commits (schema-plan.ts). A collaborative table's clocks live in other tables
// and survive; the engine re-derives its triggers in the same transaction.
import type Database from 'better-sqlite3';
import type { RebuildOptions } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import { quoteId, quoteText } from '../crr/table-info.ts';
import type { CrrEngine } from '../crr/types.ts';
import { createTableSql, parseCreateTable, type ColumnPart, type CreateTable, type Part, type ColumnConstraintKind } from './create-table-sql.ts';
import { isKeyword, significant, tokenize } from './sql-statements.ts';
import type { Plan, PlanContext, Step } from './schema-plan.ts';

interface XColumn {
  name: string;
  type: string;
  pk: number;
  /** 0 ordinary, 2 or 3 generated */
  hidden: number;
}

const constraint = (kind: ColumnConstraintKind, sql: string): Part<ColumnConstraintKind> => ({ kind, sql, tokens: significant(tokenize(sql)) });

/** A DEFAULT as SQLite takes it: a literal or signed number as it is, anything else in parentheses. */
export function defaultTerm(expr: string): string {
  const t = significant(tokenize(expr.trim()));
  if (t.length === 0) throw new ApiError('invalid-argument', 'A default needs a value (for an empty text: \'\').');
  const literal =
    (t.length === 1 && (['string', 'blob', 'number'].includes(t[0].kind) || ['NULL', 'TRUE', 'FALSE', 'CURRENT_TIME', 'CURRENT_DATE', 'CURRENT_TIMESTAMP'].includes(t[0].text.toUpperCase()))) ||
    (t.length === 2 && (t[0].text === '-' || t[0].text === '+') && t[1].kind === 'number');
  if (t.some((x) => x.open)) throw new ApiError('invalid-argument', `The default ${expr} is not complete (a quote or comment is not closed).`);
  return literal ? expr.trim() : `(${expr.trim()})`;
}

const withoutRowid = (t: CreateTable) => significant(tokenize(t.options)).some((x) => isKeyword(x, 'ROWID'));

/** The primary key columns a definition declares, in order. */
function declaredKey(t: CreateTable): string[] {
  const table = t.constraints.find((k) => k.kind === 'primary-key');
  if (table) return table.columns;
  return t.columns.filter((c) => c.constraints.some((k) => k.kind === 'primary-key')).map((c) => c.name);
}

/** An INTEGER PRIMARY KEY column is the rowid itself. */
function rowidAlias(t: CreateTable): boolean {
  const key = declaredKey(t);
  if (key.length !== 1 || withoutRowid(t)) return false;
  return t.columns.find((c) => c.name === key[0])?.typeSql.toUpperCase() === 'INTEGER';
}

function freeName(db: Database.Database, base: string): string {
  const taken = (n: string) => db.prepare(`SELECT 1 FROM sqlite_schema WHERE name = ?`).get(n) !== undefined;
  let name = base;
  for (let i = 2; taken(name); i++) name = `${base}_${i}`;
  return name;
}

/** Plans a rebuild of `table` with `o` changed. Runs inside the transaction it will run in. */
export function rebuildPlan(db: Database.Database, engine: CrrEngine | null, ctx: PlanContext, table: string, o: RebuildOptions): Plan {
  const row = db.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(table) as { sql: string } | undefined;
  if (!row) throw new ApiError('not-found', `There is no table named ${JSON.stringify(table)}.`);
  let def: CreateTable;
  try {
    def = parseCreateTable(row.sql);
  } catch (err) {
    throw new ApiError('invalid-argument', `${table} cannot be rebuilt: ${(err as Error).message}.`);
  }
  const before = createTableSql(def, quoteId(table));
  const sourceRowid = !withoutRowid(def);
  const xcols = db.prepare(`SELECT name, type, pk, hidden FROM pragma_table_xinfo(?)`).safeIntegers(false).all(table) as XColumn[];
  const col = (name: string): ColumnPart => {
    const c = def.columns.find((x) => x.name === name);
    if (!c) throw new ApiError('invalid-argument', `${table} has no column ${JSON.stringify(name)}.`);
    return c;
  };
  const drop = (c: ColumnPart, kinds: ColumnConstraintKind[]) => (c.constraints = c.constraints.filter((k) => !kinds.includes(k.kind)));
  const notes: string[] = [];
  const after: Step[] = [];
  const droppedIndexes = new Set<string>();
  const explicitDrops: { name: string; keep: string | null }[] = [];
  const before_: Step[] = [];
  const oldKey = xcols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);

  if (o.dropForeignKeys) {
    for (const c of def.columns) drop(c, ['references']);
    def.constraints = def.constraints.filter((k) => k.kind !== 'foreign-key');
    notes.push('The foreign key rules go; the columns and their values stay.');
  }
  for (const { index, keepIndex } of o.dropUnique ?? []) {
    const ix = db.prepare(`SELECT origin FROM pragma_index_list(?) WHERE name = ? AND "unique"`).pluck().get(table, index) as string | undefined;
    if (!ix) throw new ApiError('not-found', `${table} has no unique index ${JSON.stringify(index)}.`);
    if (ix === 'pk') throw new ApiError('invalid-argument', `${index} is ${table}'s primary key: choose a new key instead.`);
    const columns = db.prepare(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`).pluck().all(index) as string[];
    if (ix === 'c') {
      // an index of its own: dropped (no rebuild needed for it), or made again without UNIQUE
      droppedIndexes.add(index);
      const sql = db.prepare(`SELECT sql FROM sqlite_schema WHERE name = ?`).pluck().get(index) as string;
      const tokens = tokenize(sql);
      const unique = tokens.findIndex((t) => isKeyword(t, 'UNIQUE'));
      explicitDrops.push({ name: index, keep: keepIndex ? tokens.filter((_, i) => i !== unique && i !== unique + 1).map((t) => t.text).join('') : null });
      continue;
    } else {
      const single = columns.length === 1 ? col(columns[0]) : null;
      if (single?.constraints.some((k) => k.kind === 'unique')) drop(single, ['unique']);
      else {
        const at = def.constraints.findIndex((k) => k.kind === 'unique' && k.columns.join('\0') === columns.join('\0'));
        if (at < 0) throw new ApiError('invalid-argument', `Could not find the UNIQUE constraint behind ${index}.`);
        def.constraints.splice(at, 1);
      }
    }
    if (keepIndex) after.push({ sql: `CREATE INDEX ${quoteId(freeName(db, `${table}_${columns.join('_')}_idx`))} ON ${quoteId(table)} (${columns.map(quoteId).join(', ')})` });
  }
  for (const [name, expr] of Object.entries(o.defaults ?? {})) {
    const c = col(name);
    drop(c, ['default']);
    c.constraints.push(constraint('default', `DEFAULT ${defaultTerm(expr)}`));
  }
  for (const name of o.allowNull ?? []) drop(col(name), ['not-null']);
  if (o.dropAutoincrement) {
    for (const c of def.columns) {
      c.constraints = c.constraints.map((k) => (k.kind === 'primary-key' ? constraint('primary-key', k.tokens.filter((t) => !isKeyword(t, 'AUTOINCREMENT')).map((t) => t.text).join(' ')) : k));
    }
  }
  if (o.materializeGenerated) {
    for (const c of def.columns) drop(c, ['generated']);
    notes.push('Generated columns become ordinary columns holding the values they have now.');
  }
  let addId: string | null = null;
  if (o.primaryKey) {
    for (const c of def.columns) drop(c, ['primary-key']);
    def.constraints = def.constraints.filter((k) => k.kind !== 'primary-key');
    if ('addId' in o.primaryKey) {
      addId = o.primaryKey.addId.trim();
      if (!addId) throw new ApiError('invalid-argument', 'Name the new key column.');
      if (def.columns.some((c) => c.name.toLowerCase() === addId!.toLowerCase())) throw new ApiError('invalid-argument', `${table} already has a column ${addId}: choose another name for the new key.`);
      def.columns.unshift({ name: addId, nameSql: quoteId(addId), typeSql: 'INTEGER', constraints: [constraint('primary-key', 'PRIMARY KEY'), constraint('not-null', 'NOT NULL')] });
      notes.push(`${addId} numbers the rows as they are numbered now (their rowid).`);
    } else {
      const cols = o.primaryKey.columns;
      if (cols.length === 0) throw new ApiError('invalid-argument', 'Choose at least one key column.');
      for (const name of cols) {
        const c = col(name);
        drop(c, ['null']);
        if (!c.constraints.some((k) => k.kind === 'not-null')) c.constraints.push(constraint('not-null', 'NOT NULL'));
      }
      def.constraints.unshift({ kind: 'primary-key', sql: `PRIMARY KEY (${cols.map(quoteId).join(', ')})`, tokens: [], columns: cols });
      const list = cols.map(quoteId).join(', ');
      const T = quoteId(table);
      const named = cols.join(', ');
      before_.push({ check: `SELECT NOT EXISTS (SELECT 1 FROM ${T} WHERE ${cols.map((c) => `${quoteId(c)} IS NULL`).join(' OR ')})`, message: `${named} is NULL in some rows of ${table}: a key needs a value in every row (fill them in, or add an integer id instead).` });
      before_.push({ check: `SELECT NOT EXISTS (SELECT 1 FROM ${T} GROUP BY ${list} HAVING count(*) > 1)`, message: `Some rows of ${table} have the same ${named}: a key must tell every row apart (choose other columns, or add an integer id).` });
      if (cols.length === 1 && col(cols[0]).typeSql.toUpperCase() === 'INTEGER' && !withoutRowid(def)) {
        before_.push({ check: `SELECT NOT EXISTS (SELECT 1 FROM ${T} WHERE typeof(${quoteId(cols[0])}) <> 'integer')`, message: `${cols[0]} holds values that are not whole numbers: an INTEGER key is the rowid and takes only integers.` });
        notes.push(`${cols[0]} becomes the rowid (an INTEGER PRIMARY KEY).`);
      }
    }
  }

  const rebuilt = createTableSql(def, quoteId(table));
  const steps: Step[] = [];
  if (rebuilt !== before) {
    const temp = freeName(db, `${table}__rebuild`);
    const T = quoteId(table);
    const N = quoteId(temp);
    // copied: the ordinary columns, and generated ones that become ordinary
    const copied = xcols.filter((c) => c.hidden === 0 || (o.materializeGenerated && (c.hidden === 2 || c.hidden === 3))).map((c) => c.name);
    const keepRowid = sourceRowid && !withoutRowid(def) && !rowidAlias(def) && !addId;
    const into = [...(keepRowid ? ['rowid'] : []), ...(addId ? [quoteId(addId)] : []), ...copied.map(quoteId)];
    const from = [...(keepRowid ? ['rowid'] : []), ...(addId ? [sourceRowid ? 'rowid' : 'row_number() OVER ()'] : []), ...copied.map(quoteId)];
    // the check compares every copied value with its storage class, byte for byte; rows by their rowid where kept
    const compare = (rowid: string | null) => [...(rowid ? [rowid] : []), ...copied.flatMap((c) => [`typeof(${quoteId(c)})`, `${quoteId(c)} COLLATE BINARY`])].join(', ');
    const oldRow = keepRowid || (addId && sourceRowid) ? 'rowid' : null;
    const newRow = keepRowid ? 'rowid' : addId && sourceRowid ? quoteId(addId) : null;
    steps.push(...before_);
    steps.push({ sql: rebuilt.replace(`CREATE TABLE ${T} (`, `CREATE TABLE ${N} (`) });
    steps.push({ sql: `INSERT INTO ${N} (${into.join(', ')})\n  SELECT ${from.join(', ')} FROM ${T}` });
    steps.push({
      check: `SELECT (SELECT count(*) FROM ${T}) = (SELECT count(*) FROM ${N})\n  AND NOT EXISTS (SELECT ${compare(oldRow)} FROM ${T} EXCEPT SELECT ${compare(newRow)} FROM ${N})\n  AND NOT EXISTS (SELECT ${compare(newRow)} FROM ${N} EXCEPT SELECT ${compare(oldRow)} FROM ${T})`,
      message: `The copy of ${table} would not hold exactly the same rows and values: nothing was changed.`,
    });
    const indexes = db
      .prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name`)
      .all(table) as { name: string; sql: string }[];
    const triggers = db
      .prepare(`SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ? AND name NOT LIKE ? ESCAPE '\\' ORDER BY name`)
      .all(table, `${table.replace(/[\\%_]/g, (m) => '\\' + m)}\\_\\_crr\\_%`) as { name: string; sql: string }[];
    const seq = hasSequence(db) ? (db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = ?`).pluck().get(table) as number | undefined) : undefined;
    steps.push({ sql: `DROP TABLE ${T}` });
    steps.push({ sql: `PRAGMA legacy_alter_table = ON` });
    steps.push({ sql: `ALTER TABLE ${N} RENAME TO ${T}` });
    steps.push({ sql: `PRAGMA legacy_alter_table = OFF` });
    for (const ix of indexes) if (!droppedIndexes.has(ix.name)) steps.push({ sql: ix.sql });
    for (const tr of triggers) steps.push({ sql: tr.sql });
    if (seq !== undefined && /\bAUTOINCREMENT\b/i.test(rebuilt)) {
      // AUTOINCREMENT never reuses a number: carry on from where the old table was
      steps.push({ sql: `INSERT INTO sqlite_sequence (name, seq) SELECT ${quoteText(table)}, 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ${quoteText(table)});\nUPDATE sqlite_sequence SET seq = max(seq, ${seq}) WHERE name = ${quoteText(table)}` });
    }
    notes.unshift(`Every row of ${table} is copied into a new table and checked (count, values, storage classes) before the old one is replaced, in one transaction.`);
    if (indexes.length + triggers.length) notes.push(`Its ${[indexes.length && `${indexes.length} index${indexes.length === 1 ? '' : 'es'}`, triggers.length && `${triggers.length} trigger${triggers.length === 1 ? '' : 's'}`].filter(Boolean).join(' and ')} are made again.`);
  }
  for (const d of explicitDrops) {
    if (rebuilt === before) steps.push({ sql: `DROP INDEX ${quoteId(d.name)}` }); // else it went with the old table
    if (d.keep) steps.push({ sql: d.keep });
  }
  for (const s of after) steps.push(s);
  if (steps.length === 0) throw new ApiError('invalid-argument', `That would not change ${table}.`);
  if (ctx.foreignKeys && rebuilt !== before) {
    // the table's own foreign keys and those of tables referring to it, as far as SQLite can check them now
    const children = (db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table'`).pluck().all() as string[]).filter(
      (t) => t === table || (db.prepare(`SELECT 1 FROM pragma_foreign_key_list(?) WHERE "table" = ? COLLATE NOCASE`).get(t, table) !== undefined),
    );
    let violations = 0;
    const checked: string[] = [];
    for (const t of children) {
      try {
        violations += db.prepare(`SELECT count(*) FROM pragma_foreign_key_check(?)`).pluck().get(t) as number;
        checked.push(t);
      } catch {
        // a foreign key SQLite cannot check even now (foreign key mismatch): left as it is
      }
    }
    if (checked.length) {
      const count = checked.map((t) => `(SELECT count(*) FROM pragma_foreign_key_check(${quoteText(t)}))`).join(' + ');
      steps.push({ check: `SELECT ${count} <= ${violations}`, message: `Rebuilding ${table} would break a foreign key: nothing was changed.` });
    }
    notes.push('Foreign keys are switched off while it runs (PRAGMA foreign_keys = OFF) and checked before it commits.');
  }
  const crr = engine?.isCrr(table) ?? false;
  if (crr) {
    // (the engine re-derives its tracking before the transaction commits: main/crr/schema-repair.ts)
    const newKey = addId ? [addId] : o.primaryKey && 'columns' in o.primaryKey ? o.primaryKey.columns : oldKey;
    if (newKey.join('\0') !== oldKey.join('\0')) notes.push(`${table} is collaborative: a new primary key restarts its change history (earlier versions of its cells are dropped, and every row is recorded again as new).`);
    else notes.push(`${table} stays collaborative: its change history is kept.`);
  }
  return { steps, notes };
}

function hasSequence(db: Database.Database): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'`).get() !== undefined;
}
