// The headless peer: the same sync core without a window.
//   npm run peer -- --db FILE --share             prints "invite: CODE", keeps serving
//   npm run peer -- --db FILE --join CODE         creates FILE from the sharer, keeps syncing
//   npm run peer -- --db FILE                     goes on syncing a file shared or joined before
// Options: --no-mdns, --listen MULTIADDR (repeatable), --connect MULTIADDR (a peer to keep
// connected; repeatable), --name NAME, --data DIR (peer identity; created if missing; one running
// peer per folder), --apply-schema-changes (turns on the database's setting "apply schema changes
// from peers automatically": drops from peers apply here without anyone confirming them),
// --sql-stdin (each line read from stdin is one SQL statement run here as a local write, like an
// edit in the app: `npm run bench` edits a sharer in its own process this way).
// One log line per sync event; stops cleanly on SIGINT/SIGTERM.
import '../polyfills.ts';
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { installCrr } from '../crr/index.ts';
import { dataDir } from '../app/data-dir.ts';
import { DatabaseSync } from './database-sync.ts';
import { decodeInvite, encodeInvite } from './invite.ts';
import { mdnsAllowed, SyncNode } from './node.ts';
import { SyncStore } from './sync-store.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    share: { type: 'boolean', default: false },
    join: { type: 'string' },
    'no-mdns': { type: 'boolean', default: false },
    listen: { type: 'string', multiple: true },
    connect: { type: 'string', multiple: true },
    name: { type: 'string' },
    data: { type: 'string' },
    'apply-schema-changes': { type: 'boolean', default: false },
    'sql-stdin': { type: 'boolean', default: false },
  },
});

const log = (line: string) => console.log(`${new Date().toISOString()} ${line}`);
const die = (message: string): never => {
  console.error(`peer: ${message}`);
  process.exit(2);
};

if (!values.db) die('--db FILE is required');
const file = values.db!;
if (values.share && values.join) die('use --share or --join, not both');
const invite = values.join ? (() => {
  try {
    return decodeInvite(values.join!);
  } catch (err) {
    return die((err as Error).message);
  }
})() : null;
if (!invite && !existsSync(file)) die(`${file} does not exist (use --join CODE to create it from a peer)`);

const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const engine = installCrr(db);
if (values['apply-schema-changes']) engine.schemaLog.setAutoApply(true);
const existing = SyncStore.existingShare(db);
if (invite && existing && existing.databaseId !== invite.databaseId) die(`${file} already holds another shared database`);
if (!invite && !values.share && !existing) die(`${file} is not shared yet: use --share`);

const ds = new DatabaseSync(db, engine, {
  name: values.name ?? hostname(),
  log,
  share: invite ? { databaseId: invite.databaseId, key: invite.key } : undefined,
});
const node = await SyncNode.start({
  identityFile: join(values.data ?? dataDir(), 'peer-identity.key'),
  listen: values.listen,
  mdns: !values['no-mdns'] && mdnsAllowed(),
  log,
}).catch((err: Error) => {
  // an identity in use, a port taken: one line, not a stack trace
  ds.close();
  engine.close();
  db.close();
  return die(err.message);
});
log(`peer ${node.peerId} serving database ${ds.databaseId}`);
node.addDatabase(ds, invite?.addresses ?? []);
// --connect: peers to keep dialing (they join the addresses redialed every few seconds)
for (const address of values.connect ?? []) node.dial(address).catch((err: Error) => log(`could not reach ${address} yet: ${err.message}`));
if (values.share) console.log(`invite: ${encodeInvite({ databaseId: ds.databaseId, key: ds.key, addresses: node.addresses() })}`);
// a statement that fails is logged and refused, nothing else stops
if (values['sql-stdin']) {
  createInterface({ input: process.stdin }).on('line', (sql) => {
    if (!sql.trim()) return;
    try {
      const { changes } = db.prepare(sql).run();
      log(`sql: ${changes} row${changes === 1 ? '' : 's'} changed`);
    } catch (err) {
      log(`sql refused: ${(err as Error).message}`);
    }
  });
}

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  ds.close();
  await node.stop();
  engine.close();
  db.close();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
