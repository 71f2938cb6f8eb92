// One libp2p node per running app (or headless peer): TCP, noise, yamux, identify, ping, and mDNS
// when allowed. It carries every shared database of the process over the sync protocol
// (session.ts), keeps dialing the peers each database knows, and reports peers for the UI.
import '../polyfills.ts';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import { mdns } from '@libp2p/mdns';
import { multiaddr } from '@multiformats/multiaddr';
import type { Connection } from '@libp2p/interface';
import type { PeerInfo } from '../../shared/api.ts';
import { loadIdentity, lockIdentity } from './identity.ts';
import type { DatabaseSync } from './database-sync.ts';
import { PROTOCOL, SessionRefused, SyncSession } from './session.ts';

export interface SyncNodeOptions {
  /** file holding this install's peer key */
  identityFile: string;
  /** multiaddrs to listen on; default /ip4/0.0.0.0/tcp/0 */
  listen?: string[];
  /** mDNS discovery; must be off outside a network namespace in tests */
  mdns: boolean;
  log?: (line: string) => void;
  /** how often to redial known peers that are not connected (ms) */
  redialMs?: number;
  /** how long an inbound or outbound sync stream may take to authenticate (ms; default 10 s) */
  handshakeMs?: number;
}

/** The mDNS off switch shared by the app and the headless peer. */
export const mdnsAllowed = () => process.env.CRR_NO_MDNS !== '1';

export class SyncNode {
  private readonly databases = new Map<string, DatabaseSync>();
  private readonly sessions = new Map<string, SyncSession>();
  private readonly opening = new Set<string>();
  private readonly dialing = new Set<string>();
  private readonly discovered = new Set<string>();
  private readonly extraAddresses = new Map<string, Set<string>>();
  /** peer|db pairs the peer said it does not share, and until when not to ask again */
  private readonly notShared = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private stopped = false;

  private constructor(
    readonly libp2p: Libp2p,
    private readonly options: SyncNodeOptions,
    private readonly releaseIdentity: () => void,
  ) {
    libp2p.addEventListener('connection:open', (e) => this.connected(e.detail));
    libp2p.addEventListener('peer:discovery', (e) => {
      // without mDNS this event only repeats peers we dialed or that dialed us
      if (!options.mdns) return;
      const id = e.detail.id.toString();
      if (this.discovered.has(id)) return;
      this.discovered.add(id);
      this.log(`discovered ${id.slice(-8)} by mDNS`);
      void this.dialPeer(id, e.detail.multiaddrs.map((a) => a.toString()));
      this.changed();
    });
    libp2p.addEventListener('connection:close', () => this.changed());
    this.timer = setInterval(() => this.redial(), options.redialMs ?? 3000);
    this.timer.unref();
  }

  /** Throws IdentityInUse when another running process holds the identity file. */
  static async start(options: SyncNodeOptions): Promise<SyncNode> {
    const release = lockIdentity(options.identityFile);
    let libp2p: Libp2p;
    try {
      const privateKey = await loadIdentity(options.identityFile);
      libp2p = await createLibp2p({
        privateKey,
        addresses: { listen: options.listen?.length ? options.listen : ['/ip4/0.0.0.0/tcp/0'] },
        transports: [tcp()],
        connectionEncrypters: [noise()],
        streamMuxers: [yamux()],
        peerDiscovery: options.mdns ? [mdns()] : [],
        services: { identify: identify(), ping: ping() },
      });
    } catch (err) {
      release();
      throw err;
    }
    const node = new SyncNode(libp2p, options, release);
    await libp2p.handle(PROTOCOL, (stream, connection) => node.inbound(stream, connection), { maxInboundStreams: 256 });
    options.log?.(`listening on ${node.addresses().join(' ')}${options.mdns ? ' (mDNS on)' : ' (mDNS off)'}`);
    return node;
  }

  get peerId(): string {
    return this.libp2p.peerId.toString();
  }

  /** Dialable addresses with /p2p/, non-loopback first (other hosts must not dial 127.0.0.1 first). */
  addresses(): string[] {
    const all = this.libp2p.getMultiaddrs().map((a) => a.toString());
    const loopback = (a: string) => a.startsWith('/ip4/127.') || a.startsWith('/ip6/::1/');
    return [...all.filter((a) => !loopback(a)), ...all.filter(loopback)];
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private readonly listeners = new Set<() => void>();
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  private changed(): void {
    for (const l of this.listeners) l();
  }

  addDatabase(ds: DatabaseSync, addresses: string[] = []): void {
    this.databases.set(ds.databaseId, ds);
    for (const a of addresses) {
      this.rememberAddress(a);
      const peer = /\/p2p\/([^/]+)$/.exec(a)?.[1];
      if (peer && peer !== this.peerId) ds.store.rememberPeer({ peerId: peer, addresses: addresses.filter((x) => x.endsWith(`/p2p/${peer}`)) });
    }
    for (const conn of this.libp2p.getConnections()) void this.openSession(conn, ds);
    this.redial();
  }

  removeDatabase(ds: DatabaseSync): void {
    if (this.databases.get(ds.databaseId) === ds) this.databases.delete(ds.databaseId);
    for (const [key, s] of this.sessions) if (s.databaseId === ds.databaseId) {
      s.close('closing');
      this.sessions.delete(key);
    }
  }

  /** Connections for the peer list: peer id → remote addresses. */
  connections(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const c of this.libp2p.getConnections()) {
      const id = c.remotePeer.toString();
      out.set(id, [...(out.get(id) ?? []), c.remoteAddr.toString()]);
    }
    return out;
  }

  peers(ds: DatabaseSync): PeerInfo[] {
    return ds.peers(this.connections(), this.discovered);
  }

  /** Dials a multiaddr (with /p2p/ or not); resolves once connected. */
  async dial(address: string): Promise<void> {
    const ma = multiaddr(address);
    this.rememberAddress(address);
    await this.libp2p.dial(ma, { signal: AbortSignal.timeout(5000) });
  }

  private rememberAddress(address: string): void {
    const peer = /\/p2p\/([^/]+)$/.exec(address)?.[1];
    if (!peer || peer === this.peerId) return;
    if (!this.extraAddresses.has(peer)) this.extraAddresses.set(peer, new Set());
    this.extraAddresses.get(peer)!.add(address);
  }

  private async dialPeer(peer: string, addresses: string[]): Promise<void> {
    if (this.stopped || peer === this.peerId || this.dialing.has(peer)) return;
    if (this.libp2p.getConnections().some((c) => c.remotePeer.toString() === peer)) return;
    this.dialing.add(peer);
    try {
      for (const a of addresses) {
        try {
          await this.libp2p.dial(multiaddr(a.includes('/p2p/') ? a : `${a}/p2p/${peer}`), { signal: AbortSignal.timeout(4000) });
          return;
        } catch {
          // try the next address
        }
      }
    } finally {
      this.dialing.delete(peer);
    }
  }

  /** Keeps known peers of every shared database connected. */
  private redial(): void {
    if (this.stopped) return;
    // held changes wait for a schema change, which no commit announces
    for (const ds of this.databases.values()) ds.retryHeld();
    const wanted = new Map<string, Set<string>>();
    for (const [peer, addrs] of this.extraAddresses) wanted.set(peer, new Set(addrs));
    for (const ds of this.databases.values()) {
      for (const p of ds.store.peers()) {
        if (!wanted.has(p.peerId)) wanted.set(p.peerId, new Set());
        for (const a of p.addresses) wanted.get(p.peerId)!.add(a);
      }
    }
    for (const [peer, addrs] of wanted) if (addrs.size) void this.dialPeer(peer, [...addrs]);
    // a session that ended while its connection stayed up is opened again
    for (const conn of this.libp2p.getConnections()) {
      for (const ds of this.databases.values()) {
        const until = this.notShared.get(this.key(conn.remotePeer.toString(), ds.databaseId));
        if (!until || until < Date.now()) void this.openSession(conn, ds);
      }
    }
  }

  private connected(conn: Connection): void {
    this.changed();
    const remote = conn.remotePeer.toString();
    // Both sides open sessions; the higher peer id waits a moment so that usually only the
    // lower one's survives (see inbound()).
    const delay = this.peerId < remote ? 0 : 1000;
    setTimeout(() => {
      for (const ds of this.databases.values()) void this.openSession(conn, ds);
    }, delay).unref();
  }

  private key(peer: string, db: string): string {
    return `${peer}|${db}`;
  }

  private async openSession(conn: Connection, ds: DatabaseSync): Promise<void> {
    const remote = conn.remotePeer.toString();
    const key = this.key(remote, ds.databaseId);
    if (this.stopped || conn.status !== 'open' || this.sessions.has(key) || this.opening.has(key)) return;
    this.opening.add(key);
    try {
      const stream = await conn.newStream(PROTOCOL, { signal: AbortSignal.timeout(5000) });
      this.opening.delete(key);
      if (this.sessions.has(key) || this.stopped) {
        stream.abort(new Error('duplicate'));
        return;
      }
      this.register(key, new SyncSession(stream, remote, this.peerId, 'initiator', ds, (s) => this.ended(key, s), this.sessionOptions()), ds, conn);
    } catch (err) {
      this.opening.delete(key);
      this.log(`could not open a sync stream to ${remote.slice(-8)}: ${(err as Error).message}`);
    }
  }

  private inbound(stream: import('@libp2p/interface').Stream, conn: Connection): void {
    const remote = conn.remotePeer.toString();
    let key = '';
    const resolve = (databaseId: string, session: SyncSession) => {
      const ds = this.databases.get(databaseId);
      if (!ds) return new SessionRefused('unknown-database', 'this peer does not share that database');
      key = this.key(remote, databaseId);
      const existing = this.sessions.get(key);
      const mineWins = this.peerId < remote;
      if ((existing && existing.role === 'initiator' && mineWins) || (this.opening.has(key) && mineWins)) {
        return new SessionRefused('duplicate', 'a session for this database is already open');
      }
      existing?.close();
      this.register(key, session, ds, conn);
      return ds;
    };
    new SyncSession(stream, remote, this.peerId, 'responder', resolve, (s) => this.ended(key, s), this.sessionOptions());
  }

  private sessionOptions() {
    return { log: (line: string) => this.log(line), handshakeMs: this.options.handshakeMs };
  }

  private register(key: string, s: SyncSession, ds: DatabaseSync, conn: Connection): void {
    this.sessions.set(key, s);
    ds.sessions.add(s);
    // an address we dialed is one we can dial again after a restart
    if (conn.direction === 'outbound') {
      const peer = conn.remotePeer.toString();
      ds.store.rememberPeer({ peerId: peer, addresses: [conn.remoteAddr.toString().replace(/\/p2p\/.*$/, '') + `/p2p/${peer}`] });
    }
  }

  private ended(key: string, s: SyncSession): void {
    if (s.refusal === 'unknown-database' && s.databaseId) this.notShared.set(this.key(s.remotePeer, s.databaseId), Date.now() + 60_000);
    if (key && this.sessions.get(key) === s) this.sessions.delete(key);
    for (const ds of this.databases.values()) if (ds.sessions.has(s)) ds.sessionEnded(s);
    this.changed();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const s of this.sessions.values()) s.close('closing');
    this.sessions.clear();
    try {
      await this.libp2p.stop();
    } finally {
      this.releaseIdentity();
    }
  }
}
