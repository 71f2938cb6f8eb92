// Merging incoming changes (crr-semantics.md), as one set-based SQL program per CRR table over a
// staging table of decoded changes. The crsql_changes INSERT trigger stages one change and runs
// it; applyChanges stages a whole batch and runs it once. Within a batch the result equals
// applying the changes one by one in any order, because each rule keeps a maximum:
//   rows:  the highest causal length cl wins; a higher cl than the local one starts a new life
//          (even: the row is deleted; odd: it exists) in which the old cell clocks no longer count;
//   cells: among changes of the row's final (odd) life, the highest col_version wins, ties go to
//          the larger value (INTEGER > REAL > TEXT > BLOB > NULL, then by value), and it replaces
//          the local cell only if it beats the local clock the same way.
// Winners are stored with db_version = max(this transaction's version, theirs) (Lamport).
import type { TableInfo } from './table-info.ts';
import { quoteId, quoteText } from './table-info.ts';
import { cellsTable, rowsTable, declaredType } from './clock-tables.ts';
import { sqlValueWins, sqlValueRank } from './compare-values.ts';
import { mergeHistorySqls } from './history-sql.ts';

export const incomingTable = (table: string) => `temp.${quoteId(`${table}__crr_in`)}`;
const rowActions = (table: string) => `temp.${quoteId(`${table}__crr_rowact`)}`;
const winners = (table: string) => `temp.${quoteId(`${table}__crr_win`)}`;

const V = `(SELECT db_version FROM crr_tx WHERE id = 1)`;

/** TEMP tables the merge program works in. */
export function mergeTablesSql(info: TableInfo): string {
  const ps = info.pks.map((_, i) => `p${i}`).join(', ');
  // the pk columns keep the table's affinity, so joins with it stay index lookups
  const pDecl = info.pks.map((_, i) => `p${i} ${declaredType(info, i)}`).join(', ');
  return `
DROP TABLE IF EXISTS ${incomingTable(info.name)};
CREATE TEMP TABLE ${quoteId(`${info.name}__crr_in`)} (${pDecl}, cid TEXT, val, col_version INTEGER, db_version INTEGER,
  site_id BLOB, cl INTEGER, seq INTEGER);
DROP TABLE IF EXISTS ${rowActions(info.name)};
CREATE TEMP TABLE ${quoteId(`${info.name}__crr_rowact`)} (${pDecl}, new_cl INTEGER, db_version INTEGER, seq INTEGER,
  site_id BLOB, sentinel INTEGER, PRIMARY KEY (${ps}));
DROP TABLE IF EXISTS ${winners(info.name)};
CREATE TEMP TABLE ${quoteId(`${info.name}__crr_win`)} (${pDecl}, cid TEXT, val, col_version INTEGER, db_version INTEGER,
  site_id BLOB, seq INTEGER, cl INTEGER, PRIMARY KEY (cid, ${ps}));`;
}

/** The merge program for one table: statements to run in order, inside one transaction. */
export function mergeProgram(info: TableInfo, history = true): string[] {
  const t = quoteId(info.name);
  const rows = rowsTable(info.name);
  const cells = cellsTable(info.name);
  const IN = incomingTable(info.name);
  const RA = rowActions(info.name);
  const W = winners(info.name);
  const P = info.pks.map((_, i) => `p${i}`);
  const pkCols = info.pks.map(quoteId);
  const on = (a: string, b: string, bCols: string[] = pkCols) => P.map((p, i) => `${a}.${p} = ${b}.${bCols[i]}`).join(' AND ');
  const onP = (a: string, b: string) => P.map((p) => `${a}.${p} = ${b}.${p}`).join(' AND ');
  const tuple = (cols: string[]) => (cols.length === 1 ? cols[0] : `(${cols.join(', ')})`);
  const site = (x: string) => `(SELECT s.ord FROM crr_sites s WHERE s.site_id = ${x})`;
  const localVal = info.columns.length
    ? `CASE i.cid ${info.columns.map((c) => `WHEN ${quoteText(c)} THEN b.${quoteId(c)}`).join(' ')} END`
    : 'NULL';
  // the local clock of a cell: its explicit clock in this life, else version 1 if the row's
  // insert implied it (see local-triggers.ts)
  const LOCAL = `coalesce(c.col_version, CASE WHEN i.implied_cl = i.cl THEN 1 END)`;
  const any = `(EXISTS (SELECT 1 FROM ${RA}) OR EXISTS (SELECT 1 FROM ${W}))`;

  const program = [
    // rows that start a new life: the highest incoming cl beats the local one
    `INSERT INTO ${RA} (${P.join(', ')}, new_cl, db_version, seq, site_id, sentinel)
     SELECT ${P.map((p) => `i.${p}`).join(', ')}, i.cl, i.db_version, i.seq, i.site_id, i.cid = '-1'
     FROM (SELECT *, row_number() OVER (PARTITION BY ${P.join(', ')} ORDER BY cl DESC, cid <> '-1', seq, site_id) AS rn
           FROM ${IN}) i
     LEFT JOIN ${rows} r ON ${on('i', 'r')}
     WHERE i.rn = 1 AND i.cl > coalesce(r.cl, 0)`,
  ];
  if (info.columns.length) {
    program.push(
      // the best incoming version of each cell in the row's final life, if it beats the local one
      `INSERT INTO ${W} (${P.join(', ')}, cid, val, col_version, db_version, site_id, seq, cl)
       SELECT ${P.map((p) => `i.${p}`).join(', ')}, i.cid, i.val, i.col_version, i.db_version, i.site_id, i.seq, i.cl
       FROM (SELECT i.*, r.i_cl AS implied_cl, row_number() OVER (PARTITION BY ${P.map((p) => `i.${p}`).join(', ')}, i.cid
               ORDER BY i.col_version DESC, ${sqlValueRank('i.val')} DESC, i.val DESC, i.site_id DESC, i.seq) AS rn
             FROM ${IN} i LEFT JOIN ${RA} a ON ${onP('a', 'i')} LEFT JOIN ${rows} r ON ${on('i', 'r')}
             WHERE i.cid <> '-1' AND i.cl % 2 = 1 AND i.cl = coalesce(a.new_cl, r.cl)) i
       LEFT JOIN ${cells} c ON ${on('i', 'c')} AND c.cid = i.cid AND c.cl = i.cl
       LEFT JOIN ${t} b ON ${on('i', 'b')}
       WHERE i.rn = 1 AND (${LOCAL} IS NULL OR i.col_version > ${LOCAL}
         OR (i.col_version = ${LOCAL} AND ${sqlValueWins('i.val', localVal)}))`,
    );
  }
  program.push(
    `INSERT OR IGNORE INTO crr_tx (id, db_version, seq, max_version)
     SELECT 1, value + 1, 0, value + 1 FROM crr_state WHERE key = 'db_version' AND ${any}`,
    `UPDATE crr_tx SET max_version = max(max_version, coalesce((SELECT max(db_version) FROM ${RA}), 0),
       coalesce((SELECT max(db_version) FROM ${W}), 0)) WHERE id = 1 AND ${any}`,
    `INSERT OR IGNORE INTO crr_sites (site_id) SELECT DISTINCT site_id FROM ${IN}`,
    `SELECT crr_note_merge((SELECT count(*) FROM ${RA} WHERE sentinel) + (SELECT count(*) FROM ${W})) WHERE ${any}`,
    `INSERT OR IGNORE INTO crr_merging (id) SELECT 1 WHERE ${any}`,
    `DELETE FROM ${t} WHERE ${tuple(pkCols)} IN (SELECT ${P.join(', ')} FROM ${RA} WHERE new_cl % 2 = 0)`,
    `INSERT OR IGNORE INTO ${t} (${pkCols.join(', ')}) SELECT ${P.join(', ')} FROM ${RA} WHERE new_cl % 2 = 1`,
    // a row's first life seen through one of its cells shows no sentinel, like a local insert
    `INSERT INTO ${rows} (${pkCols.join(', ')}, cl, s_version, s_seq, s_site)
     SELECT ${P.join(', ')}, new_cl, CASE WHEN sentinel OR new_cl > 1 THEN max(${V}, db_version) END, seq, ${site('a.site_id')}
     FROM ${RA} a WHERE true
     ON CONFLICT DO UPDATE SET cl = excluded.cl, s_version = excluded.s_version, s_seq = excluded.s_seq, s_site = excluded.s_site`,
  );
  for (const c of info.columns) {
    program.push(
      `UPDATE ${t} SET ${quoteId(c)} = (SELECT w.val FROM ${W} w WHERE w.cid = ${quoteText(c)} AND ${on('w', t)})
       WHERE ${tuple(pkCols)} IN (SELECT ${P.join(', ')} FROM ${W} WHERE cid = ${quoteText(c)})`,
    );
  }
  if (info.columns.length) {
    program.push(
      `INSERT INTO ${cells} (${pkCols.join(', ')}, cid, col_version, db_version, seq, site, cl)
       SELECT ${P.join(', ')}, cid, col_version, max(${V}, db_version), seq, ${site('w.site_id')}, cl FROM ${W} w WHERE true
       ON CONFLICT DO UPDATE SET col_version = excluded.col_version, db_version = excluded.db_version,
         seq = excluded.seq, site = excluded.site, cl = excluded.cl`,
    );
  }
  if (history) program.push(...mergeHistorySqls(info, IN));
  program.push(`DELETE FROM crr_merging`, `DELETE FROM ${IN}`, `DELETE FROM ${RA}`, `DELETE FROM ${W}`);
  return program;
}

/** Stage one crsql_changes row (NEW) for this table, from inside the INSERT trigger. */
export function stageNewSql(info: TableInfo): string {
  const n = info.pks.length;
  const known = ["'-1'", ...info.columns.map(quoteText)].join(', ');
  const isThis = `NEW."table" = ${quoteText(info.name)}`;
  return `SELECT RAISE(ABORT, 'crsql_changes: unknown column (cid) for this table') WHERE ${isThis} AND NEW.cid NOT IN (${known});
  INSERT INTO ${incomingTable(info.name)} SELECT ${info.pks.map((_, i) => `crr_unpack_pk(NEW.pk, ${i}, ${n})`).join(', ')},
    NEW.cid, NEW.val, NEW.col_version, NEW.db_version, NEW.site_id, NEW.cl, NEW.seq WHERE ${isThis};`;
}
