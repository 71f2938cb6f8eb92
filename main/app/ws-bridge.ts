// The typed API over a WebSocket, for browser mode. Every connection must present the launch
// token; every message is validated; one bad message gets an error reply and nothing else.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiErrorCode, ApiMethod, BridgeReply } from '../../shared/api.ts';
import { ApiError } from '../../shared/errors.ts';
import type { DatabaseService } from './service.ts';

/** The calls this build answers; sync and conflict calls arrive with their issues. */
export const BRIDGED_METHODS: readonly ApiMethod[] = [
  'openDatabase', 'currentDatabase', 'listTables', 'tableSchema', 'readRows', 'countRows', 'updateCell',
  'insertRow', 'deleteRows', 'runQuery', 'enableCrr', 'disableCrr',
];
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
  let id: number | null = null;
  const reply = (r: BridgeReply | { id: null; error: { code: ApiErrorCode; message: string } }) => ws.send(JSON.stringify(r));
  try {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      throw new ApiError('invalid-argument', 'Messages must be JSON.');
    }
    const m = msg as { id?: unknown; method?: unknown; params?: unknown };
    if (typeof m !== 'object' || m === null || typeof m.id !== 'number' || !Number.isSafeInteger(m.id)) {
      throw new ApiError('invalid-argument', 'A request needs a numeric id.');
    }
    id = m.id;
    if (typeof m.method !== 'string' || !BRIDGED_METHODS.includes(m.method as ApiMethod)) {
      throw new ApiError('not-found', `Unknown method ${JSON.stringify(m.method)}.`);
    }
    const method = service[m.method as keyof DatabaseService] as (p: unknown) => Promise<unknown>;
    const result = await method.call(service, m.params ?? {});
    reply({ id, result: result ?? null });
  } catch (err) {
    const e = err instanceof ApiError ? err : new ApiError('internal', (err as Error)?.message ?? String(err));
    if (!(err instanceof ApiError)) console.error('bridge call failed:', err);
    reply({ id: id as number, error: { code: e.code, message: e.message } });
  }
}
