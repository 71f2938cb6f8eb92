// Merging incoming changes (crr-semantics.md), as one set-based SQL program per CRR table over a
// staging table of decoded changes (a whole page from applyChanges, or every row one INSERT INTO
// crsql_changes statement staged). Within a batch the result equals applying the changes one by
// one in any order, because each rule keeps a maximum:
//   rows:  the highest causal length cl wins; a higher cl than the local one starts a new life
//          (even: the row is deleted; odd: it exists) in which the old cell versions no longer count;
//   cells: among changes of the row's final (odd) life, the highest col_version wins, ties go to
//          the larger value (INTEGER > REAL > TEXT > BLOB > NULL, then by value), and it replaces
//          the local current version only if it beats it the same way.
// Winners are stored with db_version = max(this transaction's version, theirs) (Lamport). Every
// incoming version this replica did not have is kept (the history is the clock: clock-tables.ts):
// losers and older versions as history, stamped with this transaction's version so they travel
// on to other peers; a version that ties the current one and loses is marked lost. A new row that
// arrives with every column once in its first life (a peer's insert, a clone, a cr-sqlite peer's
// current versions) is not seen here: the fast paths (whole-rows.ts) write it before this runs. Versions written over the
// same parent with different values are recorded as a fork (a conflict).
import type { TableInfo } from './table-info.ts';
import { quoteId, quoteText, sqlTuple as tuple } from './table-info.ts';
import { deadTable, declaredType, deadValue, forksTable, rowsTable, versionsTable } from './clock-tables.ts';
import { sqlValueWins } from './compare-values.ts';
import { currentVersionVid, materializeImpliedSql, stagedParentCv, stagedParentSite, versionColumns } from './implied.ts';
import { wholeTableSql } from './whole-rows.ts';
import { CLOCK_ROW } from './clock-sql.ts';

export const incomingTable = (table: string) => `temp.${quoteId(`${table}__crr_in`)}`;
const rowActions = (table: string) => `temp.${quoteId(`${table}__crr_rowact`)}`;
const winners = (table: string) => `temp.${quoteId(`${table}__crr_win`)}`;

/** Columns of the staging table after the key columns p0..: slot -1 is the row's sentinel. */
export const STAGED_COLUMNS = ['slot', 'val', 'col_version', 'db_version', 'site', 'cl', 'seq', 'psite', 'pcv', 'wa', 'rsite', 'rcv', 'rm'] as const;

const V_TX = `(SELECT db_version FROM crr_tx WHERE id = 1)`;

/** TEMP tables the merge program works in. */
export function mergeTablesSql(info: TableInfo): string {
  const ps = info.pks.map((_, i) => `p${i}`).join(', ');
  // the pk columns keep the table's affinity, so joins with it stay index lookups
  const pDecl = info.pks.map((_, i) => `p${i} ${declaredType(info, i)}`).join(', ');
  return `
DROP TABLE IF EXISTS ${incomingTable(info.name)};
-- keyed by the version (a change delivered twice is staged once), in key order for the groupings below
CREATE TEMP TABLE ${quoteId(`${info.name}__crr_in`)} (${pDecl}, slot INTEGER, val, col_version INTEGER, db_version INTEGER,
  site INTEGER, cl INTEGER, seq INTEGER, psite INTEGER, pcv INTEGER, wa INTEGER, rsite INTEGER, rcv INTEGER, rm INTEGER, known INTEGER,
  PRIMARY KEY (${ps}, slot, cl, col_version, site)) WITHOUT ROWID;
DROP TABLE IF EXISTS ${rowActions(info.name)};
CREATE TEMP TABLE ${quoteId(`${info.name}__crr_rowact`)} (${pDecl}, new_cl INTEGER, db_version INTEGER, seq INTEGER,
  site INTEGER, sentinel INTEGER, old_cl INTEGER, old_icl INTEGER, PRIMARY KEY (${ps})) WITHOUT ROWID;
DROP TABLE IF EXISTS ${winners(info.name)};
CREATE TEMP TABLE ${quoteId(`${info.name}__crr_win`)} (${pDecl}, slot INTEGER, val, col_version INTEGER, db_version INTEGER,
  site INTEGER, seq INTEGER, cl INTEGER, psite INTEGER, pcv INTEGER, wa INTEGER, rsite INTEGER, rcv INTEGER, rm INTEGER,
  local_cv INTEGER, local_site INTEGER, local_implied INTEGER, local_val, PRIMARY KEY (${ps}, slot)) WITHOUT ROWID;
${info.columns.length ? wholeTableSql(info) : ''}`;
}

/** The merge program for one table: statements to run in order, inside one transaction. */
export function mergeProgram(info: TableInfo, history = true): string[] {
  const t = quoteId(info.name);
  const rows = rowsTable(info.name);
  const V = versionsTable(info.name);
  const F = forksTable(info.name);
  const D = deadTable(info.name);
  const IN = incomingTable(info.name);
  // the staging tables by their bare names, for UPDATE targets (aliases there break RENAME COLUMN)
  const inName = quoteId(`${info.name}__crr_in`);
  const RA = rowActions(info.name);
  const W = winners(info.name);
  const P = info.pks.map((_, i) => `p${i}`);
  const pkCols = info.pks.map(quoteId);
  const n = info.columns.length;
  /** a.p0 = b."id" AND … */
  const on = (a: string, b: string) => P.map((p, i) => `${a}.${p} = ${b}.${pkCols[i]}`).join(' AND ');
  const onP = (a: string, b: string) => P.map((p) => `${a}.${p} = ${b}.${p}`).join(' AND ');
  const Pof = (a: string) => P.map((p) => `${a}.${p}`).join(', ');
  const sinceOf = (slot: string) => (info.since.some((s) => s > 0) ? `CASE ${slot} ${info.slots.map((s, i) => `WHEN ${s} THEN ${info.since[i]}`).join(' ')} ELSE 0 END` : '0');
  const baseBySlot = (b: string, slot: string) =>
    n ? `CASE ${slot} ${info.columns.map((c, i) => `WHEN ${info.slots[i]} THEN ${b}.${quoteId(c)}`).join(' ')} END` : 'NULL';
  const pcv = stagedParentCv;
  const anyRowOrWin = `(EXISTS (SELECT 1 FROM ${RA}) OR EXISTS (SELECT 1 FROM ${W}))`;
  const newCells = `EXISTS (SELECT 1 FROM ${IN} WHERE slot >= 0 AND known IS NOT 1)`;
  /** x."id" = i.p0 AND …: a clock-table row against a staged one */
  const matchXI = (x: string, i: string) => P.map((p, k) => `${x}.${pkCols[k]} = ${i}.${p}`).join(' AND ');
  /** two aliases of tables keyed by the table's own pk columns */
  const sameKey = (a: string, b: string) => pkCols.map((c) => `${a}.${c} = ${b}.${c}`).join(' AND ');
  const deadBySlot = (r: string, slot: string) =>
    n ? `CASE ${slot} ${info.slots.map((s) => `WHEN ${s} THEN ${r}.${deadValue(s)}`).join(' ')} END` : 'NULL';
  /** a value differs from another, storage class included (1 and 1.0 differ) */
  const differs = (a: string, b: string) => `(${a} IS NOT ${b} OR typeof(${a}) <> typeof(${b}))`;
  const psite = stagedParentSite;

  const program: string[] = [
    // versions this replica already has (in its history, or implied by a row's insert)
    `UPDATE ${IN} SET known = 1 WHERE slot >= 0 AND (
       EXISTS (SELECT 1 FROM ${V} x WHERE ${matchXI('x', inName)} AND x.slot = ${inName}.slot AND x.lost IN (0, 1) AND x.cl = ${inName}.cl
         AND x.col_version = ${inName}.col_version AND x.site = ${inName}.site)
       OR (col_version = 1 AND EXISTS (SELECT 1 FROM ${rows} r WHERE ${matchXI('r', inName)} AND r.i_cl = ${inName}.cl
         AND r.i_site = ${inName}.site AND ${sinceOf(`${inName}.slot`)} <= r.i_version)))`,
    // rows that start a new life: the highest incoming cl beats the local one (its clock from
    // the sentinel of that life if one came, else from its first cell: the staged key's order)
    `INSERT INTO ${RA} (${P.join(', ')}, new_cl, db_version, seq, site, sentinel, old_cl, old_icl)
     SELECT ${Pof('g')}, g.cl, i.db_version, i.seq, i.site, i.slot = -1, g.old_cl, g.old_icl
     FROM (SELECT ${Pof('m')}, m.cl, coalesce(r.cl, 0) AS old_cl, r.i_cl AS old_icl
           FROM (SELECT ${P.join(', ')}, max(cl) AS cl FROM ${IN} GROUP BY ${P.join(', ')}) m
             LEFT JOIN ${rows} r ON ${on('m', 'r')}
           WHERE m.cl > coalesce(r.cl, 0)) g
       -- (only then the clock's change: most keys of a batch keep their life)
       CROSS JOIN ${IN} i ON ${onP('i', 'g')} AND i.cl = g.cl
         AND i.slot = (SELECT min(x.slot) FROM ${IN} x WHERE ${onP('x', 'g')} AND x.cl = g.cl)
         AND i.site = (SELECT min(x.site) FROM ${IN} x WHERE ${onP('x', 'g')} AND x.cl = g.cl AND x.slot = i.slot)
     GROUP BY ${Pof('g')}`,
  ];
  if (n) {
    const localCv = `coalesce(c.col_version, CASE WHEN i.implied_cl = i.cl AND ${sinceOf('i.slot')} <= i.implied_version THEN 1 END)`;
    const localVal = `CASE WHEN c.col_version IS NOT NULL THEN c.val ELSE ${baseBySlot('b', 'i.slot')} END`;
    program.push(
      // the best incoming version of each cell in the row's final life, if it beats the local one
      `INSERT INTO ${W} (${P.join(', ')}, slot, val, col_version, db_version, site, seq, cl, psite, pcv, wa, rsite, rcv, rm,
         local_cv, local_site, local_implied, local_val)
       SELECT ${Pof('i')}, i.slot, i.val, i.col_version, i.db_version, i.site, i.seq, i.cl, ${psite('i')}, ${pcv('i')}, i.wa, i.rsite, i.rcv, i.rm,
         ${localCv}, c.site, c.col_version IS NULL AND ${localCv} IS NOT NULL, ${localVal}
       FROM (SELECT i.*, r.i_cl AS implied_cl, r.i_version AS implied_version
             FROM ${IN} i LEFT JOIN ${RA} a ON ${onP('a', 'i')} LEFT JOIN ${rows} r ON ${on('i', 'r')}
             WHERE i.slot >= 0 AND i.known IS NOT 1 AND i.cl % 2 = 1 AND i.cl = coalesce(a.new_cl, r.cl)
               -- the best incoming version of the cell: no other of its life outranks it (a
               -- higher col_version, a larger value, the larger site). Another of the same
               -- col_version and site is i itself (the staging key), so the value compare,
               -- most of this test's cost when a cell has one incoming version, skips it
               AND NOT EXISTS (SELECT 1 FROM ${IN} o WHERE ${onP('o', 'i')} AND o.slot = i.slot AND o.cl = i.cl AND o.known IS NOT 1
                 AND o.col_version >= i.col_version AND (o.col_version > i.col_version OR (o.site <> i.site AND (${sqlValueWins('o.val', 'i.val')}
                   OR (o.val IS i.val AND typeof(o.val) = typeof(i.val) AND o.site > i.site)))))) i
       -- the cell's current version row, fetched by rowid (77 -> 65 ms for 40k edits of cells with version rows)
       LEFT JOIN ${V} c ON c.vid = ${currentVersionVid(info, P.map((p) => `i.${p}`), 'i.slot', 'i.cl')}
       LEFT JOIN ${t} b ON ${on('i', 'b')}
       WHERE (${localCv} IS NULL OR i.col_version > ${localCv}
         OR (i.col_version = ${localCv} AND ${sqlValueWins('i.val', localVal)}))`,
    );
  }
  program.push(
    `INSERT INTO crr_tx (id, db_version, seq, max_version, changed)
     SELECT 1, value + 1, 0, value + 1, ${anyRowOrWin} FROM ${CLOCK_ROW} WHERE (${anyRowOrWin} OR ${newCells})
     ON CONFLICT (id) DO UPDATE SET changed = max(changed, excluded.changed)`,
    `UPDATE crr_tx SET max_version = max(max_version, coalesce((SELECT max(db_version) FROM ${RA}), 0),
       coalesce((SELECT max(db_version) FROM ${W}), 0)) WHERE id = 1 AND ${anyRowOrWin}`,
    `SELECT crr_note_merge((SELECT count(*) FROM ${RA} WHERE sentinel) + (SELECT count(*) FROM ${W}),
       (SELECT count(*) FROM ${IN} WHERE known IS NOT 1),
       ${quoteText(info.name)})
     WHERE ${anyRowOrWin} OR ${newCells}`,
    `INSERT OR IGNORE INTO crr_merging (id) SELECT 1 WHERE ${anyRowOrWin}`,
  );

  if (n) {
    // a life that ends for good (not a plain delete of it): its implied versions become rows.
    // (CROSS JOIN: the row actions drive, the clock tables are searched, whatever the planner thinks)
    const endsLife = `(a.old_cl % 2 = 0 OR a.new_cl <> a.old_cl + 1)`;
    if (history) {
      program.push(
        ...materializeImpliedSql(info, `${RA} a CROSS JOIN ${rows} r CROSS JOIN ${t} b`, `${on('a', 'r')} AND ${sameKey('b', 'r')} AND r.cl % 2 = 1 AND ${endsLife}`,
          baseBySlot('b', 'v.column2'), true),
        ...materializeImpliedSql(info, `${RA} a CROSS JOIN ${rows} r LEFT JOIN ${D} d ON ${sameKey('d', 'r')} AND d.cl = r.cl`,
          `${on('a', 'r')} AND r.cl % 2 = 0 AND ${endsLife}`, deadBySlot('d', 'v.column2'), true),
      );
    }
    // An implied first version that an incoming version of its life outranks (a later version,
    // winner or not, or a version 1 that won the tie) is no longer current: it becomes a row
    // first, with its value from before this merge (lost when it lost the tie), stamped with
    // this transaction's version (implied.ts says why). A version 1 that loses the tie to it
    // is only marked lost: the implied one stays current and implied. A later version that wins
    // over the current implied one keeps it instead, as a local update does (has_first,
    // first_val: below), one row fewer per edited cell of a clone; with history off it is simply
    // not kept (it would be written here only to be pruned below). (Tested before the version
    // rows are searched: the common reason a later version writes nothing here.)
    const keptByWinner = `AND NOT EXISTS (SELECT 1 FROM ${W} w WHERE ${onP('w', 'i')} AND w.slot = i.slot AND w.cl = i.cl AND w.local_implied AND w.col_version > 1) `;
    program.push(
      `INSERT OR IGNORE INTO ${V} (${versionColumns(info)})
       SELECT DISTINCT ${Pof('i')}, i.slot, EXISTS (SELECT 1 FROM ${W} w WHERE ${onP('w', 'i')} AND w.slot = i.slot AND w.cl = i.cl AND w.col_version = 1),
         r.i_cl, 1, r.i_site, CASE WHEN r.cl = r.i_cl THEN ${baseBySlot('b', 'i.slot')} ELSE ${deadBySlot('d', 'i.slot')} END,
         ${V_TX}, r.i_seq + i.slot, NULL, 0, r.i_written, NULL, NULL, NULL, NULL, NULL, NULL
       FROM ${IN} i CROSS JOIN ${rows} r ON ${on('i', 'r')} AND r.i_cl = i.cl LEFT JOIN ${t} b ON ${on('i', 'b')}
         LEFT JOIN ${D} d ON ${sameKey('d', 'r')} AND d.cl = r.cl
       WHERE i.slot >= 0 AND i.known IS NOT 1 AND ${sinceOf('i.slot')} <= r.i_version
         AND (i.col_version > 1 OR EXISTS (SELECT 1 FROM ${W} w WHERE ${onP('w', 'i')} AND w.slot = i.slot AND w.cl = i.cl AND w.col_version = 1))
         ${keptByWinner}AND NOT EXISTS (SELECT 1 FROM ${V} x WHERE ${matchXI('x', 'i')} AND x.slot = i.slot AND x.cl = i.cl AND (x.lost = 0 OR x.has_first = 1))`,
    );
    program.push(
      `UPDATE ${V} SET lost = 1 WHERE ${tuple([...pkCols, 'slot', 'lost', 'cl', 'col_version', 'site'])} IN
         (SELECT ${Pof('w')}, w.slot, 0, w.cl, w.local_cv, w.local_site FROM ${W} w WHERE NOT w.local_implied AND w.local_cv = w.col_version)`,
    );
  }

  program.push(
    // a life that ends by a delete leaves a record: its sentinel clock and the row's values
    `INSERT INTO ${D} (${pkCols.join(', ')}, cl, db_version, seq, site${info.slots.map((x) => `, ${deadValue(x)}`).join('')})
     SELECT ${Pof('a')}, a.new_cl, max(${V_TX}, a.db_version), a.seq, a.site${info.columns.map((c) => `, b.${quoteId(c)}`).join('')}
     FROM ${RA} a LEFT JOIN ${t} b ON ${on('a', 'b')} WHERE a.new_cl % 2 = 0`,
    // the record of a deleted life the row leaves goes (its versions were written out above)
    `DELETE FROM ${D} WHERE ${tuple([...pkCols, 'cl'])} IN (SELECT ${P.join(', ')}, old_cl FROM ${RA} WHERE old_cl % 2 = 0 AND old_cl > 0)`,
    // a deleted row goes; a live row starting a new life is re-created with its defaults: the
    // values of the old life do not count in the new one (a copy that never had them would
    // otherwise hold other values; cr-sqlite keeps them and diverges)
    `DELETE FROM ${t} WHERE ${tuple(pkCols)} IN (SELECT ${P.join(', ')} FROM ${RA} WHERE new_cl % 2 = 0 OR old_cl % 2 = 1)`,
    // a new life's row gets its key, then each won cell
    `INSERT OR IGNORE INTO ${t} (${pkCols.join(', ')}) SELECT ${P.join(', ')} FROM ${RA} WHERE new_cl % 2 = 1`,
    // a row's first life seen through one of its cells shows no sentinel, like a local insert;
    // a life that ended for good drops its implied clock (written out above); a new life merged
    // here has no implied clock: its cells' versions are rows
    // (a deleted life's sentinel is its record's)
    `INSERT INTO ${rows} (${pkCols.join(', ')}, cl, s_version, s_seq, s_site, i_cl, i_version, i_seq, i_site, i_written)
     SELECT ${Pof('a')}, a.new_cl, CASE WHEN a.new_cl % 2 = 1 AND (a.sentinel OR a.new_cl > 1) THEN max(${V_TX}, a.db_version) END, a.seq, a.site,
       NULL, NULL, NULL, NULL, NULL
     FROM ${RA} a WHERE true
     ON CONFLICT DO UPDATE SET cl = excluded.cl, s_version = excluded.s_version, s_seq = excluded.s_seq, s_site = excluded.s_site,
       i_cl = CASE WHEN excluded.cl = cl + 1 AND cl % 2 = 1 THEN i_cl END,
       i_version = CASE WHEN excluded.cl = cl + 1 AND cl % 2 = 1 THEN i_version END,
       i_seq = CASE WHEN excluded.cl = cl + 1 AND cl % 2 = 1 THEN i_seq END,
       i_site = CASE WHEN excluded.cl = cl + 1 AND cl % 2 = 1 THEN i_site END,
       i_written = CASE WHEN excluded.cl = cl + 1 AND cl % 2 = 1 THEN i_written END`,
  );
  // each won cell, joined to its row (no second search of the winners per row: a third faster
  // than WHERE key IN (...) with a subquery per row). The unary + keeps the winners driving
  // (each row found by key) once ANALYZE has given the table row counts: without it the planner
  // scans the table for every batch (query-plans.test.ts)
  info.columns.forEach((c, i) => {
    program.push(
      `UPDATE ${t} SET ${quoteId(c)} = w.val FROM ${W} w WHERE w.slot = ${info.slots[i]} AND ${P.map((p, k) => `+w.${p} = ${t}.${pkCols[k]}`).join(' AND ')}`,
    );
  });
  if (n) {
    program.push(
      // the winners' versions (one over a current implied first version keeps that one's value)
      `INSERT OR IGNORE INTO ${V} (${versionColumns(info)})
       SELECT ${Pof('w')}, w.slot, 0, w.cl, w.col_version, w.site, w.val, max(${V_TX}, w.db_version), w.seq, w.psite, w.pcv, w.wa, NULL,
         w.rsite, w.rcv, w.rm, ${history ? `CASE WHEN w.local_implied AND w.col_version > 1 THEN 1 END, CASE WHEN w.local_implied AND w.col_version > 1 THEN w.local_val END` : 'NULL, NULL'}
       FROM ${W} w WHERE true`,
    );
    if (history) {
      const isWinner = `EXISTS (SELECT 1 FROM ${W} w WHERE ${onP('w', 'i')} AND w.slot = i.slot AND w.site = i.site AND w.col_version = i.col_version AND w.cl = i.cl)`;
      const finalCl = `(SELECT r.cl FROM ${rows} r WHERE ${matchXI('r', 'i')})`;
      // lost: a version that ties the cell's current one and is not it; and a version 1 beside
      // an implied one of its life (current or not), which must stay the newest of its life
      // to stay implied (the version search first: most older versions tie none, and then the
      // row's life is not read)
      const tieLost = `((EXISTS (SELECT 1 FROM ${V} x WHERE ${matchXI('x', 'i')} AND x.slot = i.slot AND x.lost = 0 AND x.cl = i.cl AND x.col_version = i.col_version)
           AND i.cl = ${finalCl})
         OR (i.col_version = 1 AND EXISTS (SELECT 1 FROM ${rows} r WHERE ${matchXI('r', 'i')} AND r.i_cl = i.cl
             AND ${sinceOf('i.slot')} <= r.i_version)
           AND NOT EXISTS (SELECT 1 FROM ${V} x WHERE ${matchXI('x', 'i')} AND x.slot = i.slot AND x.cl = i.cl AND (x.lost = 0 OR x.has_first = 1))))`;
      // the implied first version of the cell in life i.cl, when it is a sibling (parent none)
      // with another value: displaced by an update (its value kept in first_val), or still implied
      const impliedSiblingDiffers = `EXISTS (SELECT 1 FROM ${rows} r LEFT JOIN ${t} b ON ${sameKey('b', 'r')}
               LEFT JOIN ${D} d ON ${sameKey('d', 'r')} AND d.cl = r.cl
             WHERE ${matchXI('r', 'i')} AND r.i_cl = i.cl AND ${sinceOf('i.slot')} <= r.i_version AND (
               EXISTS (SELECT 1 FROM ${V} x WHERE ${matchXI('x', 'i')} AND x.slot = i.slot AND x.cl = i.cl AND x.has_first = 1
                 AND ${differs('x.first_val', 'i.val')})
               OR (NOT EXISTS (SELECT 1 FROM ${V} x WHERE ${matchXI('x', 'i')} AND x.slot = i.slot AND x.cl = i.cl AND (x.lost = 0 OR x.has_first = 1))
                 AND ${differs(`CASE WHEN r.cl = i.cl THEN ${baseBySlot('b', 'i.slot')} ELSE ${deadBySlot('d', 'i.slot')} END`, 'i.val')})))`;
      program.push(
        // every other version this replica did not have: history (losers, older versions, older lives)
        `INSERT OR IGNORE INTO ${V} (${versionColumns(info)})
         SELECT ${Pof('i')}, i.slot, ${tieLost}, i.cl, i.col_version, i.site, i.val, ${V_TX}, i.seq, ${psite('i')}, ${pcv('i')}, i.wa, NULL,
           i.rsite, i.rcv, i.rm, NULL, NULL
         FROM ${IN} i WHERE i.slot >= 0 AND i.known IS NOT 1 AND NOT ${isWinner}`,
        // a version written over the same parent as another, with another value: a fork (conflict).
        // (The version row of i's own col_version and site is i's, just written: skipped on its
        // index entry, before its row is read for the parent)
        `INSERT OR IGNORE INTO ${F} (${pkCols.join(', ')}, slot, cl, parent_site, parent_cv, seen_version)
         SELECT ${Pof('i')}, i.slot, i.cl, coalesce(${psite('i')}, -1), ${pcv('i')}, ${V_TX}
         FROM ${IN} i WHERE i.slot >= 0 AND i.known IS NOT 1 AND ${pcv('i')} IS NOT NULL AND (
           EXISTS (SELECT 1 FROM ${V} x WHERE ${matchXI('x', 'i')} AND x.slot = i.slot AND x.cl = i.cl
             AND (x.col_version <> i.col_version OR x.site <> i.site) AND x.parent_cv = ${pcv('i')} AND x.parent_site IS ${psite('i')} AND ${differs('x.val', 'i.val')})
           OR (${pcv('i')} = 0 AND ${impliedSiblingDiffers}))`,
      );
    } else {
      // history off: a cell keeps only its current version
      program.push(
        `DELETE FROM ${V} WHERE ${tuple([...pkCols, 'slot'])} IN (SELECT ${Pof('w')}, w.slot FROM ${W} w) AND (lost = 1
           OR cl <> (SELECT r.cl FROM ${rows} r WHERE ${pkCols.map((c) => `r.${c} = ${V}.${c}`).join(' AND ')})
           OR col_version < (SELECT max(y.col_version) FROM ${V} y WHERE ${pkCols.map((c) => `y.${c} = ${V}.${c}`).join(' AND ')}
             AND y.slot = ${V}.slot AND y.lost = 0 AND y.cl = ${V}.cl))`,
      );
    }
  }
  program.push(`DELETE FROM crr_merging`, `DELETE FROM ${IN}`, `DELETE FROM ${RA}`, `DELETE FROM ${W}`);
  return program;
}

/** Stage one crsql_changes row (NEW) for this table, from inside the INSERT trigger. */
export function stageNewSql(info: TableInfo): string {
  const n = info.pks.length;
  const isThis = `NEW."table" = ${quoteText(info.name)}`;
  const slot = `CASE NEW.cid WHEN '-1' THEN -1 ${info.columns.map((c, i) => `WHEN ${quoteText(c)} THEN ${info.slots[i]}`).join(' ')} END`;
  return `SELECT RAISE(ABORT, 'crsql_changes: unknown column (cid) for this table') WHERE ${isThis} AND ${slot} IS NULL;
  INSERT OR IGNORE INTO crr_sites (site_id) SELECT NEW.site_id WHERE ${isThis};
  INSERT OR IGNORE INTO ${incomingTable(info.name)} (${info.pks.map((_, i) => `p${i}`).join(', ')}, ${STAGED_COLUMNS.join(', ')})
    SELECT ${info.pks.map((_, i) => `crr_unpack_pk(NEW.pk, ${i}, ${n})`).join(', ')}, ${slot}, NEW.val, NEW.col_version, NEW.db_version,
      (SELECT ord FROM crr_sites WHERE site_id = NEW.site_id), NEW.cl, NEW.seq, NULL, NULL, NULL, NULL, NULL, NULL WHERE ${isThis};`;
}
