// The renderer's only way to main: the typed API over Electron's preload (window.crrApi) or, in
// browser mode, over the WebSocket of the page's origin with the launch token from its URL.
//
// Browser mode: messages of any size travel in chunks (shared/bridge-chunks.ts). When the
// connection drops (the server stopped, or it refused a message: 1009 too large, 1007 not UTF-8)
// calls in flight fail, `onConnection` listeners hear why (ConnectionBanner.svelte disables the
// page), and the page reconnects with backoff; once back it re-reads what it may have missed
// (tables, rows, sync, conflicts) by raising the events that refresh those views.
import type { Api, ApiEventName, ApiEvents, ApiMethod, ApiParams, ApiResult, BridgeEvent, BridgeReply, CrrBridge, DatabaseInfo } from '../shared/api.ts';
import { ChunkError, Reassembler, toFrames } from '../shared/bridge-chunks.ts';

export class ApiCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ConnectionState {
  connected: boolean;
  /** why it dropped (shown to the user), null while connected */
  reason: string | null;
  /** when the next attempt is (ms since 1970), null while connected */
  retryAt: number | null;
}

const CLOSE_REASONS: Record<number, string> = {
  1009: 'the app refused a message that was too large',
  1007: 'the app refused a malformed message',
  1002: 'the app refused a malformed message',
  1011: 'the app hit an internal error',
};

type Pending = { resolve: (v: unknown) => void; reject: (e: unknown) => void };

function socketBridge(): CrrBridge & { onConnection(l: (s: ConnectionState) => void): () => void } {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api?token=${encodeURIComponent(token)}`;
  const pending = new Map<number, Pending>();
  /** chunked requests in flight: chunk id → request id (a refusal names the chunk) */
  const chunkOf = new Map<number, number>();
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const connectionListeners = new Set<(s: ConnectionState) => void>();
  let state: ConnectionState = { connected: false, reason: null, retryAt: null };
  let nextId = 1;
  let nextChunk = 1;
  let ws: WebSocket;
  let markReady: () => void = () => {};
  /** the first connection: calls made before it wait for it */
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  let everOpened = false;
  let backoff = 500;
  let lastDatabase: string | null = null;

  const setState = (s: ConnectionState) => {
    state = s;
    for (const l of connectionListeners) l(s);
  };
  const emit = (event: string, payload: unknown) => {
    for (const l of listeners.get(event) ?? []) l(payload);
  };

  function connect(): void {
    ws = new WebSocket(url);
    const reassembler = new Reassembler();
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      backoff = 500;
      const again = everOpened;
      everOpened = true;
      setState({ connected: true, reason: null, retryAt: null });
      markReady();
      if (again) void caughtUp();
      else void call('currentDatabase', {}).then((db) => (lastDatabase ??= db?.path ?? null)).catch(() => {});
    });
    ws.addEventListener('message', (e) => {
      let msg: BridgeReply | BridgeEvent | { id: null; forChunk?: number | null; error: { code: string; message: string } } | undefined;
      try {
        msg = reassembler.accept(String(e.data)) as typeof msg;
      } catch (err) {
        console.error('crr-desk: a malformed message from the app was dropped:', (err as Error).message);
        return;
      }
      if (!msg) return;
      if ('event' in msg) return emit(msg.event, msg.payload);
      const id = msg.id ?? (typeof (msg as { forChunk?: unknown }).forChunk === 'number' ? chunkOf.get((msg as { forChunk: number }).forChunk) : undefined);
      const p = id === undefined || id === null ? undefined : pending.get(id);
      if (!p) return;
      pending.delete(id!);
      for (const [c, r] of chunkOf) if (r === id) chunkOf.delete(c);
      if ('error' in msg) p.reject(new ApiCallError(msg.error.code, msg.error.message));
      else p.resolve(msg.result);
    });
    ws.addEventListener('close', (e) => {
      reassembler.clear();
      const reason =
        CLOSE_REASONS[e.code] ??
        (opened ? 'the connection to the app was lost' : 'the app cannot be reached (if it was restarted, open the new address it printed)');
      for (const p of pending.values()) p.reject(new ApiCallError('disconnected', `Not done: ${reason}.`));
      pending.clear();
      chunkOf.clear();
      const retryAt = Date.now() + backoff;
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
      setState({ connected: false, reason, retryAt });
    });
  }

  /** After a reconnect: raise the events that make each view read again what it shows. */
  async function caughtUp(): Promise<void> {
    try {
      const db = (await call('currentDatabase', {})) as DatabaseInfo | null;
      if (db && db.path !== lastDatabase) {
        lastDatabase = db.path;
        return emit('databaseOpened', db);
      }
      const tables = await call('listTables', {});
      emit('tablesChanged', {});
      emit('rowsChanged', { tables: tables.map((t) => t.name), origin: 'outside', site: null, cells: null } satisfies ApiEvents['rowsChanged']);
      emit('syncStatus', await call('syncStatus', {}));
      emit('peersChanged', { peers: await call('listPeers', {}) });
      const conflicts = await call('listConflicts', {}).catch(() => []);
      emit('conflictsChanged', { unresolved: conflicts.filter((c) => !c.resolved).length });
    } catch {
      // dropped again: the next reconnect tries again
    }
  }

  connect();
  listeners.set('databaseOpened', new Set([(p) => (lastDatabase = (p as DatabaseInfo).path)]));
  return {
    async call(method, params) {
      if (!state.connected && everOpened) throw new ApiCallError('disconnected', `Not done: ${state.reason ?? 'the connection to the app was lost'}.`);
      await ready;
      const id = nextId++;
      let frames: string[];
      const chunk = nextChunk++;
      try {
        frames = toFrames(JSON.stringify({ id, method, params }), chunk);
      } catch (err) {
        // too large for any string, or for the bridge: refused here, before anything is sent
        throw new ApiCallError('invalid-argument', err instanceof ChunkError ? err.message : `The message cannot be sent: ${(err as Error).message}`);
      }
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        if (frames.length > 1) chunkOf.set(chunk, id);
        for (const f of frames) ws.send(f);
      });
    },
    on(event, listener) {
      const set = listeners.get(event) ?? new Set();
      set.add(listener);
      listeners.set(event, set);
      return () => set.delete(listener);
    },
    onConnection(listener) {
      connectionListeners.add(listener);
      listener(state);
      return () => connectionListeners.delete(listener);
    },
  };
}

const electron = (globalThis as { crrApi?: CrrBridge }).crrApi;
const socket = electron ? null : socketBridge();
const bridge: CrrBridge = electron ?? socket!;

export function call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResult<M>> {
  return bridge.call(method, params).catch((err: { code?: string; message?: string }) => {
    throw err instanceof ApiCallError ? err : new ApiCallError(err?.code ?? 'internal', err?.message ?? String(err));
  }) as Promise<ApiResult<M>>;
}

export function onEvent<E extends ApiEventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void {
  return bridge.on(event, listener as (p: unknown) => void);
}

/** The connection to the app (browser mode; Electron's is always there). */
export function onConnection(listener: (state: ConnectionState) => void): () => void {
  if (!socket) {
    listener({ connected: true, reason: null, retryAt: null });
    return () => {};
  }
  return socket.onConnection(listener);
}

export type { Api };
