// Side-by-side engine benchmark: a CRR table against a plain table of the same schema, in one
// run, on real files (WAL, synchronous=NORMAL). Ratios are CRR time / plain time. The CRR side
// records cell history (the default); the same figures with history off are reported beside them.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { installCrr } from './index.ts';
import { tempDir } from './test-helpers.ts';
import type { CrrEngine } from './types.ts';

const ROWS = 20_000;
const COMMIT_EACH_ROWS = 2_000;
const REPEAT = 3;
const SCHEMA = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, name TEXT, qty INTEGER, price REAL, note TEXT, data BLOB)';

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

const row = (i: number) => [i, `name ${i}`, i % 100, i * 0.25, `note for row ${i}`, Buffer.from([i & 255, (i >> 8) & 255])];

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function measure(dir: string, rep: number, mode: Mode) {
  const side = open(join(dir, `${mode}-${rep}.db`), mode);
  const { db } = side;
  const insert = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)');
  const out: Record<string, number> = {};
  out.insert = time(() => db.transaction(() => { for (let i = 1; i <= ROWS; i++) insert.run(...row(i)); })());
  out.commitEach = time(() => { for (let i = ROWS + 1; i <= ROWS + COMMIT_EACH_ROWS; i++) insert.run(...row(i)); });
  const update = db.prepare('UPDATE t SET qty = ? WHERE id = ?');
  out.update = time(() => db.transaction(() => { for (let i = 1; i <= ROWS; i++) update.run(i + 1, i); })());
  const all = db.prepare('SELECT * FROM t');
  out.readTable = time(() => all.all());
  if (side.engine) {
    const changes = db.prepare(`SELECT "table", pk, cid, val, col_version, db_version, site_id, cl, seq FROM crsql_changes WHERE db_version > ?`);
    out.readChanges = time(() => changes.all(0));
    const list = side.engine.changesSince(0);
    const replica = open(join(dir, `replica-${mode}-${rep}.db`), mode);
    out.mergeCount = list.length;
    out.merge = time(() => replica.engine!.applyChanges(list));
    replica.db.close();
  }
  const del = db.prepare('DELETE FROM t WHERE id = ?');
  out.delete = time(() => db.transaction(() => { for (let i = 1; i <= ROWS; i++) del.run(i); })());
  side.engine?.close();
  db.close();
  return out;
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
    return {
      insert_ratio: ratio('insert'),
      insert_commit_each_ratio: ratio('commitEach'),
      update_ratio: ratio('update'),
      delete_ratio: ratio('delete'),
      changes_read_ratio: Number((m(crr, 'readChanges') / m(plain, 'readTable')).toFixed(2)),
      merge_changes_per_s: Math.round(m(crr, 'mergeCount') / (m(crr, 'merge') / 1000)),
      insert_ratio_history_off: ratio('insert', bare),
      insert_commit_each_ratio_history_off: ratio('commitEach', bare),
      update_ratio_history_off: ratio('update', bare),
      delete_ratio_history_off: ratio('delete', bare),
      merge_changes_per_s_history_off: Math.round(m(bare, 'mergeCount') / (m(bare, 'merge') / 1000)),
      plain_insert_rows_per_s: Math.round(ROWS / (m(plain, 'insert') / 1000)),
    };
  } finally {
    tmp.cleanup();
  }
}
