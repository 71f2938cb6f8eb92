// Side-by-side engine benchmark: a CRR table against a plain table of the same schema, in one
// run, on real files (WAL, synchronous=NORMAL): 20k rows × 5 columns with a TEXT primary key (the
// workload the reference figures of cr-sqlite 0.16.3 were measured with). Ratios are CRR time /
// plain time, medians of REPEAT runs with the variants interleaved. The CRR side records cell
// history (the default); the same figures with history off are reported beside them.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { installCrr } from './index.ts';
import { tempDir } from './test-helpers.ts';
import type { Change, ChangePageCursor, CrrEngine } from './types.ts';

const ROWS = 20_000;
const COMMIT_EACH_ROWS = 2_000;
const REPEAT = 5;
const SCHEMA = 'CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, name TEXT, qty INTEGER, price REAL, note TEXT, data BLOB)';
/** rows × edits of every cell for the retention figure */
const EDITED_ROWS = 500;
const EDITS = 100;

interface Side {
  db: Database.Database;
  engine: CrrEngine | null;
}

type Mode = 'plain' | 'crr' | 'crr-no-history';

function open(path: string, mode: Mode): Side {
  const crr = mode !== 'plain';
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  const engine = crr ? installCrr(db, { pollMs: 0, history: mode === 'crr' }) : null;
  db.exec(SCHEMA);
  if (crr) db.prepare(`SELECT crsql_as_crr('t')`).get();
  return { db, engine };
}

const key = (i: number) => `id-${String(i).padStart(6, '0')}`;
const row = (i: number) => [key(i), `name ${i}`, i % 100, i * 0.25, `note for row ${i}`, Buffer.from([i & 255, (i >> 8) & 255])];

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** bytes the file's pages hold (after a checkpoint), free pages aside */
function usedBytes(db: Database.Database): number {
  db.pragma('wal_checkpoint(TRUNCATE)');
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  return (pages - free) * (db.pragma('page_size', { simple: true }) as number);
}

function stream(engine: CrrEngine): Change[] {
  const out: Change[] = [];
  for (let c: ChangePageCursor | null = { from: 0, to: engine.dbVersion() }; c; ) {
    const p = engine.changesPage(c, 5000);
    out.push(...p.changes);
    c = p.next;
  }
  return out;
}

function measure(dir: string, rep: number, mode: Mode) {
  const side = open(join(dir, `${mode}-${rep}.db`), mode);
  const { db } = side;
  const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)');
  const out: Record<string, number> = {};
  out.insert = time(() => db.transaction(() => { for (let i = 1; i <= ROWS; i++) insert.run(...row(i)); })());
  out.bytes = usedBytes(db);
  out.commitEach = time(() => { for (let i = ROWS + 1; i <= ROWS + COMMIT_EACH_ROWS; i++) insert.run(...row(i)); });
  const update = db.prepare('UPDATE t SET qty = ? WHERE id = ?');
  out.update = time(() => db.transaction(() => { for (let i = 1; i <= ROWS; i++) update.run(i + 1, key(i)); })());
  out.updateAgain = time(() => db.transaction(() => { for (let i = 1; i <= ROWS; i++) update.run(i + 2, key(i)); })());
  const all = db.prepare('SELECT * FROM t');
  out.readTable = time(() => all.all());
  if (side.engine) {
    const engine = side.engine;
    const changes = db.prepare(`SELECT "table", pk, cid, val, col_version, db_version, site_id, cl, seq FROM crsql_changes WHERE db_version > ?`);
    out.readChanges = time(() => changes.all(0));
    let list: Change[] = [];
    out.readStream = time(() => (list = stream(engine)));
    out.mergeCount = list.length;
    const replica = open(join(dir, `replica-${mode}-${rep}.db`), mode);
    out.merge = time(() => replica.engine!.applyChanges(list));
    replica.db.close();
    // the same changes through SQL, as a cr-sqlite peer sends them: a batch in one transaction
    const rows = changes.raw().all(0) as unknown[][];
    out.sqlMergeCount = rows.length;
    const sqlReplica = open(join(dir, `sql-replica-${mode}-${rep}.db`), mode);
    const ins = sqlReplica.db.prepare(`INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    out.sqlMerge = time(() => sqlReplica.db.transaction(() => { for (const r of rows) ins.run(...r); })());
    sqlReplica.db.close();
  }
  const del = db.prepare('DELETE FROM t WHERE id = ?');
  out.delete = time(() => db.transaction(() => { for (let i = 1; i <= ROWS; i++) del.run(key(i)); })());
  side.engine?.close();
  db.close();
  return out;
}

/** Every cell of EDITED_ROWS rows edited EDITS times: the file against the same after a prune. */
function retention(dir: string): Record<string, number> {
  const side = open(join(dir, 'retention.db'), 'crr');
  const { db, engine } = side;
  const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)');
  db.transaction(() => { for (let i = 1; i <= EDITED_ROWS; i++) insert.run(...row(i)); })();
  const update = db.prepare('UPDATE t SET name = ?, qty = ?, price = ?, note = ?, data = ? WHERE id = ?');
  for (let e = 1; e <= EDITS; e++) {
    db.transaction(() => {
      for (let i = 1; i <= EDITED_ROWS; i++) update.run(`name ${i}.${e}`, i + e, i * 0.5 + e, `note ${i} edit ${e}`, Buffer.from([e, i & 255]), key(i));
    })();
  }
  const grown = usedBytes(db);
  const versions = Number(db.prepare('SELECT count(*) FROM t__crr_v').pluck().get());
  engine!.history.prune();
  const pruned = usedBytes(db);
  const kept = Number(db.prepare('SELECT count(*) FROM t__crr_v').pluck().get());
  engine!.close();
  db.close();
  return {
    history_edited_100x_size_ratio: Number((grown / pruned).toFixed(2)),
    history_bytes_per_version: Math.round((grown - pruned) / Math.max(1, versions - kept)),
  };
}

export async function runEngineBench(): Promise<Record<string, number>> {
  const tmp = tempDir('crr-bench-');
  try {
    const plain: Record<string, number>[] = [];
    const crr: Record<string, number>[] = [];
    const bare: Record<string, number>[] = [];
    for (let rep = 0; rep < REPEAT; rep++) {
      plain.push(measure(tmp.dir, rep, 'plain'));
      crr.push(measure(tmp.dir, rep, 'crr'));
      bare.push(measure(tmp.dir, rep, 'crr-no-history'));
    }
    const m = (set: Record<string, number>[], k: string) => median(set.map((x) => x[k]));
    const ratio = (k: string, set = crr) => Number((m(set, k) / m(plain, k)).toFixed(2));
    const perSecond = (count: string, k: string, set = crr) => Math.round(m(set, count) / (m(set, k) / 1000));
    return {
      insert_ratio: ratio('insert'),
      insert_commit_each_ratio: ratio('commitEach'),
      update_ratio: ratio('update'),
      update_again_ratio: ratio('updateAgain'),
      delete_ratio: ratio('delete'),
      changes_read_ratio: Number((m(crr, 'readChanges') / m(plain, 'readTable')).toFixed(2)),
      changes_page_read_ratio: Number((m(crr, 'readStream') / m(plain, 'readTable')).toFixed(2)),
      merge_changes_per_s: perSecond('mergeCount', 'merge'),
      merge_sql_changes_per_s: perSecond('sqlMergeCount', 'sqlMerge'),
      bytes_per_row_ratio: ratio('bytes'),
      insert_ratio_history_off: ratio('insert', bare),
      insert_commit_each_ratio_history_off: ratio('commitEach', bare),
      update_ratio_history_off: ratio('update', bare),
      update_again_ratio_history_off: ratio('updateAgain', bare),
      delete_ratio_history_off: ratio('delete', bare),
      merge_changes_per_s_history_off: perSecond('mergeCount', 'merge', bare),
      merge_sql_changes_per_s_history_off: perSecond('sqlMergeCount', 'sqlMerge', bare),
      bytes_per_row_ratio_history_off: ratio('bytes', bare),
      plain_insert_rows_per_s: Math.round(ROWS / (m(plain, 'insert') / 1000)),
      ...retention(tmp.dir),
    };
  } finally {
    tmp.cleanup();
  }
}
