// Browser mode: the same service, the built renderer and the API over a WebSocket, on
// 127.0.0.1 only, behind a random per-launch token.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseService } from './service.ts';
import { dataDir } from './data-dir.ts';
import { stopSyncNode } from './sync-host.ts';
import { attachBridge } from './ws-bridge.ts';
import { serveStatic } from './static-files.ts';
import { hostAllowed } from './request-guard.ts';

export interface BrowserHost {
  url: string;
  service: DatabaseService;
  close(): Promise<void>;
}

export const RENDERER_DIR = join(import.meta.dirname, '..', '..', 'out', 'renderer');

export async function startBrowserHost(options: { file: string; create?: boolean; port?: number }): Promise<BrowserHost> {
  const service = new DatabaseService({ recentFilesDir: dataDir() });
  await service.openDatabase({ path: options.file, create: options.create });
  const token = randomBytes(24).toString('base64url');
  const server: Server = createServer((req, res) => {
    if (!hostAllowed(req, (server.address() as AddressInfo).port)) {
      res.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end('This server answers only as 127.0.0.1 or localhost.');
      return;
    }
    serveStatic(RENDERER_DIR, req, res);
  });
  // a malformed request line or header: answer 400 and close, never throw
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
  const wss = attachBridge(server, service, token);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    service,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      service.close();
      await stopSyncNode();
    },
  };
}
