// mDNS discovery, run only inside two network namespaces this test creates and joins with a
// veth pair (multicast never reaches a real interface). The joiner's invite carries no address:
// it can find the sharer only by mDNS. Skipped, with the reason printed, where namespaces cannot
// be made (not root, no `ip`).
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { installCrr } from '../crr/index.ts';
import { tableSnapshot, tempDir } from '../crr/test-helpers.ts';
import { decodeInvite, encodeInvite } from './invite.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const tag = `crr${process.pid % 100000}`;
const NS = [`${tag}a`, `${tag}b`];

function sh(...args: string[]) {
  return spawnSync('ip', args, { encoding: 'utf8' });
}

function makeNamespaces(): string | null {
  if (process.getuid?.() !== 0) return 'not running as root';
  if (sh('netns', 'add', NS[0]).status !== 0) return `ip netns add failed: ${sh('netns', 'add', NS[0]).stderr.trim()}`;
  const steps = [
    ['netns', 'add', NS[1]],
    ['link', 'add', `${tag}x`, 'type', 'veth', 'peer', 'name', `${tag}y`],
    ['link', 'set', `${tag}x`, 'netns', NS[0]],
    ['link', 'set', `${tag}y`, 'netns', NS[1]],
    ['-n', NS[0], 'addr', 'add', '10.231.0.1/24', 'dev', `${tag}x`],
    ['-n', NS[1], 'addr', 'add', '10.231.0.2/24', 'dev', `${tag}y`],
    ['-n', NS[0], 'link', 'set', 'lo', 'up'],
    ['-n', NS[1], 'link', 'set', 'lo', 'up'],
    ['-n', NS[0], 'link', 'set', `${tag}x`, 'up'],
    ['-n', NS[1], 'link', 'set', `${tag}y`, 'up'],
    ['-n', NS[0], 'route', 'add', 'default', 'dev', `${tag}x`],
    ['-n', NS[1], 'route', 'add', 'default', 'dev', `${tag}y`],
  ];
  for (const s of steps) {
    const r = sh(...s);
    if (r.status !== 0) return `ip ${s.join(' ')} failed: ${r.stderr.trim()}`;
  }
  return null;
}

const skipReason = (() => {
  if (spawnSync('ip', ['-V']).status !== 0) return '`ip` is not available';
  return makeNamespaces();
})();
if (skipReason) console.warn(`mDNS discovery test skipped: ${skipReason}`);

function peerIn(ns: string, args: string[]): { proc: ChildProcess; lines: string[] } {
  const env = { ...process.env };
  delete env.CRR_NO_MDNS;
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'main/sync/peer-cli.ts', '--listen', '/ip4/0.0.0.0/tcp/0', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const onData = (d: Buffer) => lines.push(...d.toString().split('\n').filter(Boolean));
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  return { proc, lines };
}

async function until<T>(fn: () => T | undefined, what: string, ms = 25_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('mDNS discovery inside network namespaces', () => {
  const procs: ChildProcess[] = [];
  const t = tempDir('crr-mdns-');
  afterAll(() => {
    for (const p of procs) p.kill('SIGKILL');
    for (const ns of NS) sh('netns', 'del', ns);
    t.cleanup();
  });

  it.skipIf(skipReason !== null)('a joiner with no address in its invite finds the sharer by mDNS and copies the database', async () => {
    const a = join(t.dir, 'a.db');
    const b = join(t.dir, 'b.db');
    {
      const db = new Database(a);
      db.pragma('journal_mode = WAL');
      db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, v TEXT); INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')`);
      const e = installCrr(db, { pollMs: 0 });
      e.asCrr('t');
      e.close();
      db.close();
    }
    const dataA = join(t.dir, 'data-a');
    const dataB = join(t.dir, 'data-b');
    mkdirSync(dataA);
    mkdirSync(dataB);
    const sharer = peerIn(NS[0], ['--db', a, '--share', '--name', 'A', '--data', dataA]);
    procs.push(sharer.proc);
    const code = await until(() => sharer.lines.map((l) => /^invite: (\S+)/.exec(l)?.[1]).find(Boolean), 'invite');
    expect(sharer.lines.join('\n')).toContain('(mDNS on)');
    const noAddresses = encodeInvite({ ...decodeInvite(code), addresses: [] });
    const joiner = peerIn(NS[1], ['--db', b, '--join', noAddresses, '--name', 'B', '--data', dataB]);
    procs.push(joiner.proc);
    await until(() => (joiner.lines.some((l) => /discovered \S+ by mDNS/.test(l)) ? true : undefined), `mDNS discovery; B said:\n${joiner.lines.join('\n')}`);
    await until(() => (joiner.lines.some((l) => /caught up with A/.test(l)) ? true : undefined), 'copy');
    const read = (p: string) => {
      const db = new Database(p, { readonly: true });
      try {
        return tableSnapshot(db, 't');
      } finally {
        db.close();
      }
    };
    expect(read(b)).toEqual(read(a));
  }, 60_000);
});
