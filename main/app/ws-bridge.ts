// The typed API over a WebSocket, for browser mode. Every connection must come from the app's own
// page (Origin and Host, request-guard.ts) and present the launch token; every message is
// validated; one bad message gets an error reply and nothing else. Messages of any size travel in
// chunks (shared/bridge-chunks.ts); a frame over the limit or a text frame that is not UTF-8 closes
// that connection (1009, 1007: the page shows it and reconnects) and nothing else.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BridgeReply } from '../../shared/api.ts';
import { ChunkError, FRAME_CHARS, Reassembler, toFrames } from '../../shared/bridge-chunks.ts';
import { dispatch } from './dispatch.ts';
import { hostAllowed, originAllowed } from './request-guard.ts';
import type { DatabaseService } from './service.ts';

/** One WebSocket frame; chunks stay far below it. */
const MAX_FRAME_BYTES = 4 * 1024 * 1024;

export function tokenMatches(expected: string, given: string | null): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

function refuse(socket: Duplex, status: string): void {
  socket.on('error', () => {});
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

/** Sends a message, in chunks when long; a connection that closed meanwhile gets nothing. */
function sendMessage(ws: WebSocket, message: unknown, nextChunk: () => number): void {
  if (ws.readyState !== ws.OPEN) return;
  const text = JSON.stringify(message);
  for (const frame of text.length > FRAME_CHARS ? toFrames(text, nextChunk()) : [text]) ws.send(frame);
}

export function attachBridge(server: Server, service: DatabaseService, token: string): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const port = () => (server.address() as AddressInfo).port;
  let chunks = 0;
  const nextChunk = () => ++chunks;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      if (!hostAllowed(req, port()) || !originAllowed(req, port())) return refuse(socket, '403 Forbidden');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== '/api' || !tokenMatches(token, url.searchParams.get('token'))) return refuse(socket, '401 Unauthorized');
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    } catch (err) {
      console.error('browser mode: refused an upgrade:', (err as Error).message);
      refuse(socket, '400 Bad Request');
    }
  });
  wss.on('error', (err) => console.error('browser mode: WebSocket server error:', err.message));
  const stop = service.on((event, payload) => {
    for (const ws of wss.clients) sendMessage(ws, { event, payload }, nextChunk);
  });
  wss.on('close', stop);
  wss.on('connection', (ws: WebSocket) => {
    const reassembler = new Reassembler();
    // ws closes the connection itself after these (1009 too large, 1007 not UTF-8, 1002 protocol)
    ws.on('error', (err) => console.error(`browser mode: closed a connection: ${err.message}`));
    ws.on('close', () => reassembler.clear());
    ws.on('message', (data, isBinary) => {
      let msg: unknown;
      try {
        if (isBinary) throw new ChunkError('Messages must be text.', null);
        msg = reassembler.accept(String(data));
      } catch (err) {
        const forChunk = err instanceof ChunkError ? err.chunk : null;
        sendMessage(ws, { id: null, forChunk, error: { code: 'invalid-argument', message: (err as Error).message } }, nextChunk);
        return;
      }
      if (msg !== undefined) void answer(ws, service, msg, nextChunk);
    });
  });
  return wss;
}

async function answer(ws: WebSocket, service: DatabaseService, value: unknown, nextChunk: () => number): Promise<void> {
  const msg = value as { id?: unknown; method?: unknown; params?: unknown } | null;
  if (typeof msg !== 'object' || msg === null || typeof msg.id !== 'number' || !Number.isSafeInteger(msg.id)) {
    sendMessage(ws, { id: null, error: { code: 'invalid-argument', message: 'A request needs a numeric id.' } }, nextChunk);
    return;
  }
  const reply: BridgeReply = { id: msg.id, ...(await dispatch(service, msg.method, msg.params)) };
  try {
    sendMessage(ws, reply, nextChunk);
  } catch (err) {
    // a result no string can hold: say so instead
    sendMessage(ws, { id: msg.id, error: { code: 'internal', message: (err as Error).message } }, nextChunk);
  }
}
