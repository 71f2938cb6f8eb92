// The typed API over a WebSocket, for browser mode. Every connection must present the launch
// token; every message is validated; one bad message gets an error reply and nothing else.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BridgeReply } from '../../shared/api.ts';
import { dispatch } from './dispatch.ts';
import type { DatabaseService } from './service.ts';

const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export function tokenMatches(expected: string, given: string | null): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function attachBridge(server: Server, service: DatabaseService, token: string): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/api' || !tokenMatches(token, url.searchParams.get('token'))) {
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  const stop = service.on((event, payload) => {
    const data = JSON.stringify({ event, payload });
    for (const ws of wss.clients) ws.send(data);
  });
  wss.on('close', stop);
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data) => void answer(ws, service, String(data)));
  });
  return wss;
}

async function answer(ws: WebSocket, service: DatabaseService, text: string): Promise<void> {
  let msg: { id?: unknown; method?: unknown; params?: unknown };
  try {
    msg = JSON.parse(text);
  } catch {
    ws.send(JSON.stringify({ id: null, error: { code: 'invalid-argument', message: 'Messages must be JSON.' } }));
    return;
  }
  if (typeof msg !== 'object' || msg === null || typeof msg.id !== 'number' || !Number.isSafeInteger(msg.id)) {
    ws.send(JSON.stringify({ id: null, error: { code: 'invalid-argument', message: 'A request needs a numeric id.' } }));
    return;
  }
  const reply: BridgeReply = { id: msg.id, ...(await dispatch(service, msg.method, msg.params)) };
  ws.send(JSON.stringify(reply));
}
