import { describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { createTableSql, parseCreateTable } from './create-table-sql.ts';

// What SQLite makes of a table definition: columns (types, NOT NULL, defaults, pk, hidden),
// foreign keys, indexes and their columns, and how it behaves under CHECK and COLLATE.
function shape(db: Database.Database, table: string) {
  const q = (sql: string) => db.prepare(sql).all(table);
  return {
    columns: q(`SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?)`),
    fks: q(`SELECT "table", "from", "to", on_update, on_delete, "match" FROM pragma_foreign_key_list(?)`),
    indexes: (db.prepare(`SELECT name, "unique", origin, partial FROM pragma_index_list(?) ORDER BY name`).all(table) as { name: string }[]).map((ix) => ({
      ...ix,
      name: ix.name.replace(table, 'T'),
      cols: db.prepare(`SELECT name, coll, "desc" FROM pragma_index_xinfo(?) WHERE key`).all(ix.name),
    })),
    options: db.prepare(`SELECT wr, strict FROM pragma_table_list WHERE name = ?`).all(table),
  };
}

const CASES = [
  `CREATE TABLE t (a, b)`,
  `CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, name TEXT NOT NULL DEFAULT '' COLLATE NOCASE, n REAL DEFAULT -1.5 CHECK (n > -10 OR n IS NULL))`,
  `CREATE TABLE "t" ("weird name" VARCHAR(10) CONSTRAINT nn NOT NULL ON CONFLICT REPLACE DEFAULT 'x', [b c] DOUBLE PRECISION UNIQUE, \`d\` BLOB DEFAULT X'00')`,
  `CREATE TABLE t (a INT REFERENCES p (id) ON DELETE SET NULL ON UPDATE SET DEFAULT DEFERRABLE INITIALLY DEFERRED, b TEXT CONSTRAINT fk REFERENCES p NOT DEFERRABLE, c DEFAULT (1 + 2))`,
  `CREATE TABLE t (a TEXT NOT NULL, b INT NOT NULL, c, CONSTRAINT pk PRIMARY KEY (a, b DESC), UNIQUE (c, b) ON CONFLICT IGNORE, CHECK (b > 0), FOREIGN KEY (c) REFERENCES p (id) ON DELETE CASCADE) WITHOUT ROWID`,
  `CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT GENERATED ALWAYS AS (upper(a)) STORED, c INT AS (a * 2) VIRTUAL, d INT NOT NULL DEFAULT 0) STRICT`,
  `CREATE TABLE t ( -- a comment, with a comma
     a INT /* and (parens) */ DEFAULT 0,
     b TEXT COLLATE BINARY
   )`,
];

describe('parseCreateTable', () => {
  it.each(CASES)('reads and writes back a table SQLite sees the same: %s', (sql) => {
    const a = new Database(':memory:');
    a.exec(`CREATE TABLE p (id INTEGER PRIMARY KEY)`);
    a.exec(sql);
    const parsed = parseCreateTable(a.prepare(`SELECT sql FROM sqlite_schema WHERE name = 't'`).pluck().get() as string);
    const b = new Database(':memory:');
    b.exec(`CREATE TABLE p (id INTEGER PRIMARY KEY)`);
    b.exec(createTableSql(parsed, '"t"'));
    expect(shape(b, 't')).toEqual(shape(a, 't'));
  });

  it('tells column constraints apart, with their names and clauses', () => {
    const t = parseCreateTable(CASES[3]);
    expect(t.columns.map((c) => [c.name, c.typeSql, c.constraints.map((k) => k.kind)])).toEqual([
      ['a', 'INT', ['references']],
      ['b', 'TEXT', ['references']],
      ['c', '', ['default']],
    ]);
    expect(t.columns[1].constraints[0].sql).toBe('CONSTRAINT fk REFERENCES p NOT DEFERRABLE');
    const u = parseCreateTable(CASES[4]);
    expect(u.constraints.map((k) => [k.kind, k.columns])).toEqual([
      ['primary-key', ['a', 'b']],
      ['unique', ['c', 'b']],
      ['check', []],
      ['foreign-key', ['c']],
    ]);
    expect(u.options).toBe('WITHOUT ROWID');
    expect(parseCreateTable(CASES[2]).columns.map((c) => c.name)).toEqual(['weird name', 'b c', 'd']);
  });

  it('refuses what it cannot rebuild from', () => {
    expect(() => parseCreateTable(`CREATE VIRTUAL TABLE f USING fts5(x)`)).toThrow(/virtual/);
  });
});
