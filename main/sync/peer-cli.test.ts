// Issue 16.8, the headless peer's rough edges: `--data DIR` for a folder that does not exist yet,
// and two peers started with the same data folder (the same peer identity) on one machine.
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { installCrr } from '../crr/index.ts';
import { tempDir } from '../crr/test-helpers.ts';
import { spawnPeer, type PeerProcess } from './test-peers.ts';

function sharedFile(path: string): string {
  const db = new Database(path);
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT)`);
  const e = installCrr(db, { pollMs: 0 });
  e.asCrr('t');
  e.close();
  db.close();
  return path;
}

describe('npm run peer', () => {
  const peers: PeerProcess[] = [];
  let cleanup = () => {};
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.stop('SIGKILL')));
    cleanup();
  });

  it('creates the --data folder when it does not exist', async () => {
    const t = tempDir('crr-cli-');
    cleanup = t.cleanup;
    const data = join(t.dir, 'not', 'there', 'yet');
    const p = spawnPeer(['--db', sharedFile(join(t.dir, 'a.db')), '--share'], data);
    peers.push(p);
    await p.waitFor(/^invite: /);
    expect(existsSync(join(data, 'peer-identity.key'))).toBe(true);
  });

  it('a second peer with the same data folder says so in one line and exits', async () => {
    const t = tempDir('crr-cli-');
    cleanup = t.cleanup;
    const data = join(t.dir, 'data');
    mkdirSync(data);
    const first = spawnPeer(['--db', sharedFile(join(t.dir, 'a.db')), '--share'], data);
    peers.push(first);
    await first.waitFor(/^invite: /);
    const second = spawnPeer(['--db', sharedFile(join(t.dir, 'b.db')), '--share'], data);
    peers.push(second);
    const line = await second.waitFor(/peer identity .* in use/);
    expect(line.input).toMatch(new RegExp(`in use by process ${first.proc.pid}: `));
    expect(await second.exited).toBe(2);
    expect(second.lines.filter((l) => l.trim() !== '')).toEqual([line.input]);
    // once the first stops, the folder is free again (a SIGKILLed peer's stale lock too)
    await first.stop('SIGKILL');
    const third = spawnPeer(['--db', join(t.dir, 'b.db'), '--share'], data);
    peers.push(third);
    await third.waitFor(/^invite: /);
  });

  it('--sql-stdin runs each stdin line as a local write that reaches peers; a bad line is refused, the peer goes on', async () => {
    const t = tempDir('crr-cli-');
    cleanup = t.cleanup;
    const a = spawnPeer(['--db', sharedFile(join(t.dir, 'a.db')), '--share', '--name', 'A', '--sql-stdin'], join(t.dir, 'data-a'));
    peers.push(a);
    const invite = (await a.waitFor(/^invite: (\S+)/))[1];
    const b = spawnPeer(['--db', join(t.dir, 'b.db'), '--join', invite, '--name', 'B'], join(t.dir, 'data-b'));
    peers.push(b);
    await b.waitFor(/received 1 schema change from A/);
    a.proc.stdin!.write('INSERT INTO nowhere VALUES (1)\n');
    await a.waitFor(/sql refused: .*no such table: nowhere/);
    a.proc.stdin!.write("INSERT INTO t VALUES (1, 'from stdin')\n");
    await a.waitFor(/sql: 1 row changed/);
    await b.waitFor(/received 1 change from A/);
    const copy = new Database(join(t.dir, 'b.db'), { readonly: true });
    try {
      expect(copy.prepare('SELECT v FROM t WHERE id = 1').get()).toEqual({ v: 'from stdin' });
    } finally {
      copy.close();
    }
  });
});
