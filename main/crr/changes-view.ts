// crsql_changes on the engine's connection: a TEMP view over the clock tables (it may call the
// engine's pure JS functions because only this connection sees it) and a TEMP INSTEAD OF INSERT
// trigger that merges one incoming change, in SQL, by cr-sqlite's rules (crr-semantics.md):
//   action 0 ignore | 1 delete | 2 create/resurrect (sentinel) | 3 create/resurrect + set cell | 4 set cell
// A row first seen through a cell of its first life (cl 1) gets no sentinel, like a local insert;
// a later life does (cr-sqlite records the resurrection with the cell's clock).
import type { TableInfo } from './table-info.ts';
import { quoteId, quoteText } from './table-info.ts';
import { cellsTable, rowsTable } from './clock-tables.ts';
import { sqlValueWins } from './compare-values.ts';

const ctxTable = (table: string) => `temp.${quoteId(`${table}__crr_ctx`)}`;
const ctxName = (table: string) => quoteId(`${table}__crr_ctx`);

function viewBranches(info: TableInfo): string {
  const t = quoteId(info.name);
  const pkArgs = (alias: string) => info.pks.map((p) => `${alias}.${quoteId(p)}`).join(', ');
  const join = (a: string, b: string) => info.pks.map((p) => `${a}.${quoteId(p)} = ${b}.${quoteId(p)}`).join(' AND ');
  const val = info.columns.length
    ? `CASE c.cid ${info.columns.map((col) => `WHEN ${quoteText(col)} THEN b.${quoteId(col)}`).join(' ')} END`
    : 'NULL';
  // sentinels first: a resurrection and its cells can share db_version and seq
  return `SELECT ${quoteText(info.name)} AS "table", crr_pack_pk(${pkArgs('r')}) AS pk, '-1' AS cid, NULL AS val,
    r.cl AS col_version, r.s_version AS db_version, s.site_id AS site_id, r.cl AS cl, r.s_seq AS seq
  FROM ${rowsTable(info.name)} r JOIN crr_sites s ON s.ord = r.s_site WHERE r.s_version IS NOT NULL
UNION ALL
SELECT ${quoteText(info.name)}, crr_pack_pk(${pkArgs('c')}), c.cid, ${val}, c.col_version, c.db_version, s.site_id, r.cl, c.seq
  FROM ${cellsTable(info.name)} c JOIN ${rowsTable(info.name)} r ON ${join('r', 'c')}
    LEFT JOIN ${t} b ON ${join('b', 'c')} JOIN crr_sites s ON s.ord = c.site`;
}

function mergeStatements(info: TableInfo): string {
  const t = quoteId(info.name);
  const rows = rowsTable(info.name);
  const cells = cellsTable(info.name);
  const ctx = ctxName(info.name);
  const n = info.pks.length;
  const ps = info.pks.map((_, i) => `p${i}`);
  const pkList = info.pks.map(quoteId).join(', ');
  const isThis = `NEW."table" = ${quoteText(info.name)}`;
  const action = `(SELECT action FROM ${ctx} WHERE id = 1)`;
  const ctxPk = (alias: string) =>
    info.pks.map((p, i) => `${alias}.${quoteId(p)} = (SELECT p${i} FROM ${ctx} WHERE id = 1)`).join(' AND ');
  const kJoin = (alias: string) => info.pks.map((p, i) => `${alias}.${quoteId(p)} = k.p${i}`).join(' AND ');
  const localVal = info.columns.length
    ? `CASE NEW.cid ${info.columns.map((c) => `WHEN ${quoteText(c)} THEN b.${quoteId(c)}`).join(' ')} END`
    : 'NULL';
  const version = `(SELECT max(db_version, NEW.db_version) FROM crr_tx WHERE id = 1)`;
  const site = `(SELECT ord FROM crr_sites WHERE site_id = NEW.site_id)`;
  const known = ["'-1'", ...info.columns.map(quoteText)].join(', ');
  return `
  SELECT RAISE(ABORT, 'crsql_changes: unknown column (cid) for this table') WHERE ${isThis} AND NEW.cid NOT IN (${known});
  INSERT OR REPLACE INTO ${ctx} (id, ${ps.join(', ')}, action)
    SELECT 1, ${ps.map((p) => `k.${p}`).join(', ')},
      CASE
        WHEN NEW.cl < coalesce(r.cl, 0) THEN 0
        WHEN NEW.cl % 2 = 0 THEN CASE WHEN NEW.cl = coalesce(r.cl, 0) THEN 0 ELSE 1 END
        WHEN NEW.cid = '-1' THEN CASE WHEN NEW.cl = coalesce(r.cl, 0) THEN 0 ELSE 2 END
        WHEN NEW.cl > coalesce(r.cl, 0) THEN 3
        WHEN c.col_version IS NULL OR NEW.col_version > c.col_version THEN 4
        WHEN NEW.col_version < c.col_version THEN 0
        WHEN ${sqlValueWins('NEW.val', localVal)} THEN 4
        ELSE 0
      END
    FROM (SELECT ${ps.map((p, i) => `crr_unpack_pk(NEW.pk, ${i}, ${n}) AS ${p}`).join(', ')}) k
      LEFT JOIN ${rows} r ON ${kJoin('r')}
      LEFT JOIN ${cells} c ON ${kJoin('c')} AND c.cid = NEW.cid
      LEFT JOIN ${t} b ON ${kJoin('b')}
    WHERE ${isThis};
  INSERT OR IGNORE INTO crr_tx (id, db_version, seq, max_version)
    SELECT 1, value + 1, 0, value + 1 FROM crr_state WHERE key = 'db_version' AND ${isThis} AND ${action} > 0;
  UPDATE crr_tx SET max_version = max(max_version, NEW.db_version) WHERE id = 1 AND ${isThis} AND ${action} > 0;
  INSERT OR IGNORE INTO crr_sites (site_id) SELECT NEW.site_id WHERE ${isThis} AND ${action} > 0;
  SELECT crr_note_merge() WHERE ${isThis} AND ${action} > 0;
  DELETE FROM ${t} WHERE ${isThis} AND ${action} = 1 AND ${ctxPk(t)};
  INSERT OR IGNORE INTO ${t} (${pkList}) SELECT ${ps.join(', ')} FROM ${ctx} WHERE id = 1 AND ${isThis} AND action IN (2, 3);
  INSERT INTO ${rows} (${pkList}, cl, s_version, s_seq, s_site)
    SELECT ${ps.join(', ')}, NEW.cl, CASE WHEN action = 3 AND NEW.cl = 1 THEN NULL ELSE ${version} END, NEW.seq, ${site}
    FROM ${ctx} WHERE id = 1 AND ${isThis} AND action IN (1, 2, 3)
    ON CONFLICT DO UPDATE SET cl = excluded.cl, s_version = excluded.s_version, s_seq = excluded.s_seq, s_site = excluded.s_site;
  DELETE FROM ${cells} WHERE ${isThis} AND ${action} IN (1, 2, 3) AND ${ctxPk(cells)};
  ${
    info.columns.length
      ? `UPDATE ${t} SET ${info.columns
          .map((c) => `${quoteId(c)} = CASE WHEN NEW.cid = ${quoteText(c)} THEN NEW.val ELSE ${quoteId(c)} END`)
          .join(', ')}
    WHERE ${isThis} AND ${action} IN (3, 4) AND ${ctxPk(t)};
  INSERT INTO ${cells} (${pkList}, cid, col_version, db_version, seq, site)
    SELECT ${ps.join(', ')}, NEW.cid, NEW.col_version, ${version}, NEW.seq, ${site}
    FROM ${ctx} WHERE id = 1 AND ${isThis} AND action IN (3, 4)
    ON CONFLICT DO UPDATE SET col_version = excluded.col_version, db_version = excluded.db_version,
      seq = excluded.seq, site = excluded.site;`
      : ''
  }`;
}

/** TEMP objects for the current set of CRR tables; safe to run again after any change. */
export function changesViewSql(tables: TableInfo[]): string {
  const out: string[] = [
    'DROP VIEW IF EXISTS temp.crsql_changes;',
    `CREATE TEMP VIEW crsql_changes AS ${
      tables.length
        ? tables.map(viewBranches).join('\nUNION ALL\n')
        : `SELECT NULL AS "table", NULL AS pk, NULL AS cid, NULL AS val, NULL AS col_version, NULL AS db_version,
             NULL AS site_id, NULL AS cl, NULL AS seq WHERE 0`
    };`,
  ];
  for (const info of tables) {
    out.push(`DROP TABLE IF EXISTS ${ctxTable(info.name)};`);
    out.push(
      `CREATE TEMP TABLE ${ctxName(info.name)} (id INTEGER PRIMARY KEY, ${info.pks.map((_, i) => `p${i}`).join(', ')}, action INTEGER);`,
    );
  }
  const names = tables.map((t) => quoteText(t.name)).join(', ');
  out.push(`CREATE TEMP TRIGGER crsql_changes_insert INSTEAD OF INSERT ON crsql_changes
BEGIN
  SELECT RAISE(ABORT, 'crsql_changes: no CRR table by that name (could not find the schema information for it)')
    WHERE NEW."table" NOT IN (${names});
  INSERT OR IGNORE INTO crr_merging (id) VALUES (1);
  ${tables.map(mergeStatements).join('\n')}
  DELETE FROM crr_merging;
END;`);
  out.push(`CREATE TEMP TRIGGER crsql_changes_update INSTEAD OF UPDATE ON crsql_changes
BEGIN SELECT RAISE(ABORT, 'crsql_changes only supports INSERT and SELECT: UPDATE is not allowed'); END;`);
  out.push(`CREATE TEMP TRIGGER crsql_changes_delete INSTEAD OF DELETE ON crsql_changes
BEGIN SELECT RAISE(ABORT, 'crsql_changes only supports INSERT and SELECT: DELETE is not allowed'); END;`);
  return out.join('\n');
}
