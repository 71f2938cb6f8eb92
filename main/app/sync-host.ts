// The process's one sync node, started on first use (sharing, joining, or opening a shared
// file) and shared by every open database. Settings come from the environment:
//   CRR_NO_MDNS=1          no mDNS (tests, CI, any run outside a test network namespace)
//   CRR_SYNC_LISTEN=ADDR   listen multiaddr(s), comma-separated (default /ip4/0.0.0.0/tcp/0)
import { join } from 'node:path';
import { dataDir } from './data-dir.ts';
import { mdnsAllowed, SyncNode } from '../sync/node.ts';

let starting: Promise<SyncNode> | null = null;

/** The node; rejects (and is tried again next time) when it cannot start, e.g. its identity is in use. */
export function syncNode(): Promise<SyncNode> {
  const node = (starting ??= SyncNode.start({
    identityFile: join(dataDir(), 'peer-identity.key'),
    listen: process.env.CRR_SYNC_LISTEN?.split(',').filter(Boolean),
    mdns: mdnsAllowed(),
    log: (line) => console.log(`sync: ${line}`),
  }));
  node.catch(() => {
    if (starting === node) starting = null;
  });
  return node;
}

export async function stopSyncNode(): Promise<void> {
  const node = starting;
  starting = null;
  if (node) await (await node).stop();
}
