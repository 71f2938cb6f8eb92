// The renderer's only way to main: the typed API over Electron's preload (window.crrApi) or, in
// browser mode, over the WebSocket of the page's origin with the launch token from its URL.
import type { Api, ApiEventName, ApiEvents, ApiMethod, ApiParams, ApiResult, BridgeEvent, BridgeReply, CrrBridge } from '../shared/api.ts';

export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function socketBridge(): CrrBridge {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api?token=${encodeURIComponent(token)}`;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  let nextId = 1;
  const ws = new WebSocket(url);
  const open = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('close', () => reject(new ApiCallError('unauthorised', 'The connection to the app was refused or closed.')));
  });
  ws.addEventListener('message', (e) => {
    const msg = JSON.parse(String(e.data)) as BridgeReply | BridgeEvent;
    if ('event' in msg) {
      for (const l of listeners.get(msg.event) ?? []) l(msg.payload);
      return;
    }
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if ('error' in msg) p.reject(new ApiCallError(msg.error.code, msg.error.message));
    else p.resolve(msg.result);
  });
  ws.addEventListener('close', () => {
    for (const p of pending.values()) p.reject(new ApiCallError('internal', 'The connection to the app closed.'));
    pending.clear();
  });
  return {
    async call(method, params) {
      await open;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      });
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      set.add(listener);
      listeners.set(event, set);
      return () => set.delete(listener);
    },
  };
}

const bridge: CrrBridge = (globalThis as { crrApi?: CrrBridge }).crrApi ?? socketBridge();

export function call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
  return bridge.call(method, params).catch((err: { code?: string; message?: string }) => {
    throw err instanceof ApiCallError ? err : new ApiCallError(err?.code ?? 'internal', err?.message ?? String(err));
  }) as Promise<ApiResult<M>>;
}

export function onEvent<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void {
  return bridge.on(event, listener as (p: unknown) => void);
}

export type { Api };
