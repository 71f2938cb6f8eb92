import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { identifierName, splitStatements, statementHead, tokenize } from './sql-statements.ts';

const texts = (sql: string) => splitStatements(sql).map((s) => s.sql);

describe('splitStatements', () => {
  it('splits on semicolons outside strings, identifiers and comments', () => {
    expect(texts(`SELECT 1; SELECT 'a;b'; SELECT "x;y" FROM t; SELECT [c;d], \`e;f\`; -- no; split\nSELECT 2 /* ; */;`)).toEqual([
      'SELECT 1;',
      "SELECT 'a;b';",
      'SELECT "x;y" FROM t;',
      'SELECT [c;d], `e;f`;',
      '-- no; split\nSELECT 2 /* ; */;',
    ]);
  });

  it('keeps a trigger body in one statement, up to ; END;', () => {
    const trigger = `CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN
      UPDATE t SET n = CASE WHEN n > 1 THEN 1 ELSE 2 END;
      INSERT INTO log VALUES ('end;'); END;`;
    expect(texts(`${trigger}\nINSERT INTO t VALUES (1);`)).toEqual([trigger, 'INSERT INTO t VALUES (1);']);
    // EXPLAIN and TEMPORARY in front, and a trigger without its last semicolon
    expect(texts('EXPLAIN CREATE TEMPORARY TRIGGER x BEFORE DELETE ON t BEGIN SELECT 1; END')).toHaveLength(1);
  });

  it('does not take a table or column named trigger or end for a trigger', () => {
    expect(texts('CREATE TABLE "trigger" (a); CREATE TABLE e (end_ INT, "end"); SELECT 1;')).toHaveLength(3);
  });

  it('leaves out empty statements and keeps text without a final semicolon', () => {
    expect(texts(';;  ;\n-- only a comment\n')).toEqual([]);
    expect(texts('SELECT 1;;\n\nSELECT 2')).toEqual(['SELECT 1;', 'SELECT 2']);
  });

  it('keeps an unterminated string in the statement it opens (SQLite then names the error)', () => {
    expect(texts("SELECT 1; SELECT 'open; SELECT 2;")).toEqual(['SELECT 1;', "SELECT 'open; SELECT 2;"]);
  });

  it('reads blob literals, numbers and quoted identifiers as single tokens', () => {
    const kinds = tokenize(`X'00ff' 1.5e3 0x1F "a""b" [c d] \`e\``).filter((t) => t.kind !== 'space');
    expect(kinds.map((t) => t.kind)).toEqual(['blob', 'number', 'number', 'quoted', 'quoted', 'quoted']);
    expect(kinds.slice(3).map(identifierName)).toEqual(['a"b', 'c d', 'e']);
  });

  it('names a statement by its first words', () => {
    const [s] = splitStatements('  /* c */ UPDATE  notes SET body = 1 WHERE id = 2;');
    expect(statementHead(s)).toBe('UPDATE notes SET body = …');
    expect(statementHead(splitStatements('INSERT INTO t(a) VALUES (1)')[0], 4)).toBe('INSERT INTO t( …');
  });
});

// Scripts built from pieces full of semicolons in every place SQLite allows them. Oracle: SQLite.
// Each piece the splitter returns must prepare as exactly one statement (better-sqlite3 refuses
// a string holding more than one), run in order they must succeed, and leave the same database as
// SQLite running the whole script itself (db.exec).
const pieces = [
  `INSERT INTO t (a, b) VALUES ('x;y', 'it''s; fine')`,
  `UPDATE t SET "b" = 'b;' WHERE "a" = 1`,
  `INSERT INTO t VALUES (X'3b3b', /* ; */ 2)`,
  `UPDATE t SET b = CASE WHEN a IS NULL THEN 'end;' ELSE b END`,
  `CREATE TRIGGER IF NOT EXISTS tr_{n} AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('trigger; {n}'); UPDATE log SET m = m || ';' WHERE m = 'end'; END`,
  `CREATE TEMP TRIGGER IF NOT EXISTS tt_{n} AFTER UPDATE ON t BEGIN SELECT CASE WHEN 1 THEN 1 END; END`,
  `CREATE TABLE IF NOT EXISTS "weird;{n}" ([a;b] TEXT, \`end\` INT)`,
  `SELECT 1 -- a comment; with a semicolon\n`,
  `CREATE VIEW IF NOT EXISTS v_{n} AS SELECT 'begin; end' AS x`,
  `DELETE FROM log WHERE m = ';'`,
];
const separators = [';', ';\n', ' ; ', ';;', '; -- c;\n', ';/* ; */'];

describe('splitStatements against SQLite', () => {
  it('splits random scripts exactly where SQLite does', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(pieces.length - 1), fc.nat(separators.length - 1)), { minLength: 1, maxLength: 12 }), (choice) => {
        const script = choice.map(([p, s], n) => pieces[p].replaceAll('{n}', String(n)) + separators[s]).join('');
        const setup = `CREATE TABLE t (a, b); CREATE TABLE log (m TEXT DEFAULT '');`;
        const whole = new Database(':memory:');
        whole.exec(setup);
        whole.exec(script);
        const split = new Database(':memory:');
        split.exec(setup);
        const statements = splitStatements(script);
        expect(statements).toHaveLength(choice.length);
        for (const s of statements) {
          const stmt = split.prepare(s.sql); // throws on more than one statement
          if (stmt.reader) stmt.all();
          else stmt.run();
        }
        const dump = (db: Database.Database) => [
          db.prepare(`SELECT type, name, sql FROM sqlite_schema ORDER BY name`).all(),
          db.prepare(`SELECT a, typeof(a), b, typeof(b) FROM t ORDER BY rowid`).all(),
          db.prepare(`SELECT m FROM log ORDER BY rowid`).all(),
        ];
        expect(dump(split)).toEqual(dump(whole));
      }),
      { numRuns: 150 },
    );
  });
});
