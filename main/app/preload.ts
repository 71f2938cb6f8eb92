// The preload: exposes exactly the typed API (CrrBridge) to the sandboxed renderer, nothing else.
import { contextBridge, ipcRenderer } from 'electron';
import type { ApiEventName, ApiMethod } from '../../shared/api.ts';

type Reply = { result: unknown } | { error: { code: string; message: string } };

contextBridge.exposeInMainWorld('crrApi', {
  async call(method: ApiMethod, params: unknown): Promise<unknown> {
    const reply = (await ipcRenderer.invoke('crr:call', { method, params })) as Reply;
    if ('error' in reply) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    return reply.result;
  },
  on(event: ApiEventName, listener: (payload: unknown) => void): () => void {
    const handler = (_e: unknown, msg: { event: ApiEventName; payload: unknown }) => {
      if (msg.event === event) listener(msg.payload);
    };
    ipcRenderer.on('crr:event', handler);
    return () => ipcRenderer.removeListener('crr:event', handler);
  },
});
