// A loopback TCP proxy for one link between two peers, for the soak (soak.ts): real partitions
// rather than stopped processes. Modes:
//   pass       forwards both ways (optionally each chunk delayed, order kept: a slow link)
//   drop       refuses new connections and cuts the ones open (the link is down)
//   blackhole  accepts and keeps connections but forwards nothing (a silent partition: the
//              peers notice only when the link comes back and their streams no longer decrypt)
// and two events: cut() closes every open connection, reorder() shuffles the next chunks of every
// open connection (the encrypted stream breaks; nothing of it may be applied).
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type LinkMode = 'pass' | 'drop' | 'blackhole';

interface Pipe {
  from: Socket;
  to: Socket;
  /** when the last delayed chunk is due, so that delayed chunks stay in order */
  due: number;
  held: Buffer[];
}

export class FaultProxy {
  private mode: LinkMode = 'pass';
  private delayMs: [number, number] | null = null;
  private reorderChunks = 0;
  private readonly pipes = new Set<Pipe>();
  readonly stats = { connections: 0, refused: 0, cuts: 0, bytes: 0 };

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly random: () => number,
  ) {}

  static async start(targetPort: number, random: () => number = Math.random): Promise<FaultProxy> {
    let proxy: FaultProxy | null = null;
    const server = createServer((client) => proxy!.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new FaultProxy(server, (server.address() as AddressInfo).port, random);
    return proxy;
  }

  get current(): LinkMode {
    return this.mode;
  }

  setMode(mode: LinkMode): void {
    this.mode = mode;
    if (mode === 'drop') this.cut();
  }

  /** each chunk waits a random time in [min, max] ms (null: none) */
  setDelay(range: [number, number] | null): void {
    this.delayMs = range;
  }

  /** the next `chunks` chunks of each direction are delivered shuffled */
  reorder(chunks = 6): void {
    this.reorderChunks = chunks;
  }

  cut(): void {
    if (this.pipes.size) this.stats.cuts++;
    for (const p of [...this.pipes]) {
      p.from.destroy();
      p.to.destroy();
    }
  }

  heal(): void {
    this.mode = 'pass';
    this.delayMs = null;
    this.reorderChunks = 0;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, targetPort: number): void {
    if (this.mode === 'drop') {
      this.stats.refused++;
      client.destroy();
      return;
    }
    this.stats.connections++;
    const upstream = connect(targetPort, '127.0.0.1');
    const pipes = [this.pipe(client, upstream), this.pipe(upstream, client)];
    const end = () => {
      for (const p of pipes) this.pipes.delete(p);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
  }

  private pipe(from: Socket, to: Socket): Pipe {
    const p: Pipe = { from, to, due: 0, held: [] };
    this.pipes.add(p);
    from.on('data', (chunk: Buffer) => {
      if (this.mode === 'blackhole') return;
      this.stats.bytes += chunk.length;
      if (this.reorderChunks > 0 || p.held.length) {
        p.held.push(chunk);
        if (p.held.length === 1) setTimeout(() => this.release(p), 20);
        else if (p.held.length >= 3) this.release(p);
        return;
      }
      this.forward(p, chunk);
    });
    return p;
  }

  /** Delivers the held chunks of a pipe, shuffled. */
  private release(p: Pipe): void {
    if (!p.held.length) return;
    if (this.reorderChunks > 0) this.reorderChunks--;
    const shuffled = p.held.splice(0).sort(() => this.random() - 0.5);
    for (const c of shuffled) this.forward(p, c);
  }

  private forward(p: Pipe, chunk: Buffer): void {
    if (!this.delayMs) {
      if (!p.to.destroyed) p.to.write(chunk);
      return;
    }
    const [min, max] = this.delayMs;
    p.due = Math.max(p.due, Date.now() + min + this.random() * (max - min));
    setTimeout(() => {
      if (!p.to.destroyed && this.mode !== 'blackhole') p.to.write(chunk);
    }, p.due - Date.now());
  }
}
