// `npm run bench`'s figures for the text merge policy (text-cells.ts), through the engine on real
// files: 3 replicas edit one 10k-character cell concurrently (each an UPDATE of the whole text,
// diffed into character edits by the engine), then each pulls the two others' streams (delta
// sync, as our protocol pages it): text_merge_edits_per_s is the edits merged per second of
// applyChanges. text_state_bytes_after_1000_edits: the compacted CRDT state of one cell after
// 1,000 such edits, against text_bytes_after_1000_edits, the UTF-8 bytes of its text then.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openReplica, closeReplica, tempDir, streamChanges, type Replica } from './test-helpers.ts';

const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore'.split(' ');

function texts(seed: number) {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const para = (n: number) => {
    let t = '';
    while (t.length < n) t += WORDS[Math.floor(rnd() * WORDS.length)] + (rnd() < 0.1 ? '.\n' : ' ');
    return t.slice(0, n);
  };
  /** one person's edit: a word typed, a few characters deleted, or a short replacement */
  const edit = (t: string) => {
    const at = Math.floor(rnd() * (t.length + 1));
    const k = rnd();
    if (k < 0.5) return t.slice(0, at) + WORDS[Math.floor(rnd() * WORDS.length)] + ' ' + t.slice(at);
    if (k < 0.8) return t.slice(0, at) + t.slice(at + 1 + Math.floor(rnd() * 8));
    return t.slice(0, at) + 'X' + t.slice(at + 3);
  };
  return { para, edit };
}

function open(dir: string, name: string): Replica {
  const r = openReplica(join(dir, `${name}.db`));
  r.db.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY NOT NULL, body TEXT); SELECT crsql_as_crr('notes');`);
  r.engine.history.setPolicy('notes', 'body', 'text');
  return r;
}

const body = (r: Replica) => r.db.prepare('SELECT body FROM notes WHERE id = 1').pluck().get() as string;
const write = (r: Replica, text: string) => r.db.prepare('UPDATE notes SET body = ? WHERE id = 1').run(text);

export async function runCrdtBench(): Promise<Record<string, number>> {
  const tmp = tempDir('crr-crdt-bench-');
  try {
    const { para, edit } = texts(11);
    // three replicas holding the same 10k-character cell
    const reps = ['a', 'b', 'c'].map((n) => open(tmp.dir, n));
    reps[0].db.prepare('INSERT INTO notes VALUES (1, ?)').run(para(10_000));
    const seen = reps.map(() => reps.map(() => 0));
    const pull = (to: number, from: number) => {
      const top = reps[from].engine.dbVersion();
      const changes = streamChanges(reps[from], seen[to][from], reps[to].engine.siteId, 1000);
      const t0 = performance.now();
      reps[to].engine.applyChanges(changes);
      seen[to][from] = top;
      return performance.now() - t0;
    };
    for (let to = 1; to < 3; to++) pull(to, 0);
    const ROUNDS = 60;
    let mergeMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of reps) write(r, edit(body(r)));
      for (let to = 0; to < 3; to++) for (let from = 0; from < 3; from++) if (to !== from) mergeMs += pull(to, from);
    }
    // a last round for the settled versions, then every replica holds the same text
    for (let to = 0; to < 3; to++) for (let from = 0; from < 3; from++) if (to !== from) pull(to, from);
    if (!(body(reps[1]) === body(reps[0]) && body(reps[2]) === body(reps[0]))) throw new Error('crdt bench: replicas did not converge');
    const editsMerged = ROUNDS * 3 * 2;
    reps.forEach(closeReplica);

    // one cell edited 1,000 times: its compacted state against its text
    const one = open(tmp.dir, 'one');
    one.db.prepare('INSERT INTO notes VALUES (1, ?)').run(para(2_000));
    for (let i = 0; i < 1000; i++) write(one, edit(body(one)));
    const state = one.db.prepare('SELECT length(crr_state) FROM notes__crr_text').pluck().get() as number;
    const textBytes = Buffer.byteLength(body(one));
    closeReplica(one);
    return {
      text_merge_edits_per_s: Math.round(editsMerged / (mergeMs / 1000)),
      text_state_bytes_after_1000_edits: state,
      text_bytes_after_1000_edits: textBytes,
    };
  } finally {
    tmp.cleanup();
  }
}
