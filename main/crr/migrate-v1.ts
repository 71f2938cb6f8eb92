// Opening a file written with storage format 1 (crr-desk before the history-is-the-clock
// storage): per CRR table it had t__crr_rows (without i_written or kept values), t__crr_cells
// (one clock per diverged cell) and t__crr_hist (every version, with a unique index). This
// converts it in place, inside the engine's opening transaction: every version the history held
// becomes a version row (the first versions still implied by a live row stay implied), current
// clocks keep their db_version and seq, older versions are stamped with one new db_version so
// they travel to peers once, and conflicts are found again. Nothing is lost that format 1 kept.
import type Database from 'better-sqlite3';
import { quoteId, readTableInfo } from './table-info.ts';
import { createClockTablesSql, deadTable, forksTable, rowsTable, versionsTable } from './clock-tables.ts';
import { parseShape, shapeJson, withSlots } from './slots.ts';
import { versionsSelect } from './history-sql.ts';
import { dropLocalTriggersSql } from './local-triggers.ts';

type Raw = { prepare: (sql: string) => Database.Statement; exec: (sql: string) => void };

const cellsV1 = (t: string) => quoteId(`${t}__crr_cells`);
const histV1 = (t: string) => quoteId(`${t}__crr_hist`);

const tableExists = (raw: Raw, name: string) => raw.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(name) !== undefined;

/** A format-1 file: CRR tables whose cell clocks live in t__crr_cells, and no storage_format. */
export function needsFormat1Migration(raw: Raw): boolean {
  if (!tableExists(raw, 'crr_tables') || !tableExists(raw, 'crr_state')) return false;
  if (raw.prepare(`SELECT 1 FROM crr_state WHERE key = 'storage_format'`).get()) return false;
  const names = raw.prepare('SELECT name FROM crr_tables').pluck().all() as string[];
  return names.some((n) => tableExists(raw, `${n}__crr_cells`));
}

export function migrateFromFormat1(raw: Raw): void {
  const counter = Number(raw.prepare(`SELECT value FROM crr_state WHERE key = 'db_version'`).pluck().get());
  const stamp = counter + 1;
  const columns = raw.prepare(`SELECT name FROM pragma_table_info('crr_tx')`).pluck().all() as string[];
  if (!columns.includes('changed')) raw.exec(`ALTER TABLE crr_tx ADD COLUMN changed INTEGER NOT NULL DEFAULT 1`);
  const entries = raw.prepare('SELECT name, columns FROM crr_tables').all() as { name: string; columns: string }[];
  for (const { name, columns: json } of entries) {
    if (!tableExists(raw, name) || !tableExists(raw, `${name}__crr_cells`)) continue;
    const schema = readTableInfo(raw as unknown as Database.Database, name);
    const shape = parseShape(json, schema.pks.length);
    // versions of columns the stored shape names; the schema's own columns are reconciled later (repair)
    const info = withSlots({ ...schema, columns: shape.cols.map((c) => c[0]) }, shape);
    const rows = rowsTable(name);
    const V = versionsTable(name);
    const cells = cellsV1(name);
    const hist = histV1(name);
    const t = quoteId(name);
    const pk = info.pks.map(quoteId);
    const key = (a: string, b: string) => pk.map((c) => `${a}.${c} = ${b}.${c}`).join(' AND ');
    const slotOf = (cid: string) => `CASE ${cid} ${info.columns.map((c, i) => `WHEN '${c.replace(/'/g, "''")}' THEN ${info.slots[i]}`).join(' ')} END`;
    const baseOf = (cid: string) => (info.columns.length ? `CASE ${cid} ${info.columns.map((c) => `WHEN '${c.replace(/'/g, "''")}' THEN b.${quoteId(c)}`).join(' ')} END` : 'NULL');

    // the old triggers write the old tables: they go now, the engine installs the new ones
    raw.exec(dropLocalTriggersSql(raw, name));
    raw.exec(`ALTER TABLE ${rows} ADD COLUMN i_written INTEGER`);
    raw.exec(`DROP INDEX IF EXISTS ${quoteId(`${name}__crr_rows_v`)}`);
    raw.exec(createClockTablesSql(info));
    if (info.columns.length && tableExists(raw, `${name}__crr_hist`)) {
      // the cell's current clock in the row's life, if explicit
      const current = `(SELECT c.col_version FROM ${cells} c WHERE ${key('c', 'h')} AND c.cid = h.cid AND c.cl = r.cl)`;
      const currentSite = `(SELECT c.site FROM ${cells} c WHERE ${key('c', 'h')} AND c.cid = h.cid AND c.cl = r.cl)`;
      const lost = `(h.cl = r.cl AND CASE WHEN ${current} IS NOT NULL THEN h.col_version = ${current} AND h.site <> ${currentSite}
          ELSE r.i_cl = r.cl AND h.col_version = 1 AND h.site <> r.i_site END)`;
      const stillImplied = `(h.col_version = 1 AND r.i_cl = h.cl AND r.cl = h.cl AND h.site = r.i_site
          AND NOT EXISTS (SELECT 1 FROM ${cells} c2 WHERE ${key('c2', 'h')} AND c2.cid = h.cid AND c2.cl = h.cl))`;
      raw.exec(`INSERT OR IGNORE INTO ${V} (${pk.join(', ')}, slot, lost, cl, col_version, site, val, db_version, seq, parent_site, parent_cv,
          written_at, seen_at, res_site, res_cv, res_members)
        SELECT ${pk.map((c) => `h.${c}`).join(', ')}, ${slotOf('h.cid')}, coalesce(${lost}, 0), h.cl, h.col_version, h.site, h.val,
          coalesce(c.db_version, ${stamp}), coalesce(c.seq, 0), h.parent_site, h.parent_cv, h.written_at, h.seen_at, h.res_site, h.res_cv, h.res_members
        FROM ${hist} h LEFT JOIN ${rows} r ON ${key('r', 'h')}
          LEFT JOIN ${cells} c ON ${key('c', 'h')} AND c.cid = h.cid AND c.cl = h.cl AND c.col_version = h.col_version AND c.site = h.site
        WHERE ${slotOf('h.cid')} IS NOT NULL AND NOT ${stillImplied}`);
      // when the implied first versions were seen (their seen time is their db_version's)
      raw.exec(`INSERT OR IGNORE INTO crr_times (db_version, at)
        SELECT r.i_version, min(h.seen_at) FROM ${rows} r JOIN ${hist} h ON ${key('h', 'r')} AND h.cl = r.i_cl AND h.col_version = 1
        WHERE r.i_version IS NOT NULL GROUP BY r.i_version`);
    }
    if (info.columns.length) {
      // current clocks the history did not hold (it was off, or pruned): their value is the row's
      raw.exec(`INSERT OR IGNORE INTO ${V} (${pk.join(', ')}, slot, lost, cl, col_version, site, val, db_version, seq, parent_site, parent_cv)
        SELECT ${pk.map((c) => `c.${c}`).join(', ')}, ${slotOf('c.cid')}, 0, c.cl, c.col_version, c.site, ${baseOf('c.cid')}, c.db_version, c.seq,
          NULL, CASE WHEN c.col_version = 1 THEN 0 END
        FROM ${cells} c JOIN ${rows} r ON ${key('r', 'c')} AND r.cl = c.cl JOIN ${t} b ON ${key('b', 'c')}
        WHERE ${slotOf('c.cid')} IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM ${V} x WHERE ${key('x', 'c')} AND x.slot = ${slotOf('c.cid')} AND x.cl = c.cl AND x.col_version = c.col_version
            AND x.site = c.site)`);
    }
    // a deleted row's sentinel becomes its deleted life's record (its first versions were written out above)
    raw.exec(`INSERT INTO ${deadTable(name)} (${pk.join(', ')}, cl, db_version, seq, site)
      SELECT ${pk.join(', ')}, cl, s_version, s_seq, s_site FROM ${rows} WHERE cl % 2 = 0 AND s_version IS NOT NULL`);
    // an implied clock stays only for a live row in its life; others were written out above
    raw.exec(`UPDATE ${rows} SET i_cl = NULL, i_version = NULL, i_seq = NULL, i_site = NULL
      WHERE i_cl IS NOT NULL AND (cl % 2 = 0 OR i_cl <> cl)`);
    if (info.columns.length) {
      raw.exec(`INSERT OR IGNORE INTO ${forksTable(name)} (${pk.join(', ')}, slot, cl, parent_site, parent_cv, seen_version)
        SELECT ${pk.join(', ')}, slot, cl, coalesce(parent_site, -1), parent_cv, ${stamp} FROM (${versionsSelect(info)})
        WHERE parent_cv IS NOT NULL GROUP BY ${pk.join(', ')}, slot, cl, parent_site, parent_cv
        HAVING count(DISTINCT typeof(val) || ':' || quote(val)) > 1`);
    }
    raw.exec(`DROP TABLE IF EXISTS ${cells}; DROP TABLE IF EXISTS ${hist};`);
    raw.prepare('UPDATE crr_tables SET columns = ? WHERE name = ?').run(shapeJson(shape), name);
  }
  raw.prepare(`UPDATE crr_state SET value = ? WHERE key = 'db_version'`).run(BigInt(stamp));
  raw.prepare(`INSERT INTO crr_state (key, value) VALUES ('crsql_db_version', ?) ON CONFLICT DO UPDATE SET value = excluded.value`).run(BigInt(counter));
  raw.prepare('INSERT OR REPLACE INTO crr_times (db_version, at) VALUES (?, ?)').run(BigInt(stamp), Date.now());
}
