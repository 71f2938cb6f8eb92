// Makes the page's row reads slow on demand, so a spec can act while a refresh is still reading:
// wraps the page's WebSocket (browser mode's API transport) to hold replies to readRows calls.
import type { Page } from '@playwright/test';

type Msg = { data: unknown };
type Socket = { send(data: string): void; addEventListener(type: string, fn: (e: Msg) => void, ...rest: unknown[]): void };
type SlowGlobals = { WebSocket: { prototype: Socket }; __slowReadsMs?: number; setTimeout(fn: () => void, ms: number): unknown };

/** Installs the wrapper before the page's scripts run; reads are fast until `slowReads(page, ms)`. */
export async function installSlowReads(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const g = globalThis as unknown as SlowGlobals;
    const slow = new Set<number>();
    const proto = g.WebSocket.prototype;
    const send = proto.send;
    proto.send = function (this: Socket, data: string) {
      const m = JSON.parse(data) as { id: number; method: string };
      if (m.method === 'readRows' && g.__slowReadsMs) slow.add(m.id);
      send.call(this, data);
    };
    const add = proto.addEventListener;
    proto.addEventListener = function (this: Socket, type: string, fn: (e: Msg) => void, ...rest: unknown[]) {
      if (type !== 'message') return add.call(this, type, fn, ...rest);
      add.call(this, type, (e: Msg) => {
        const id = (JSON.parse(String(e.data)) as { id?: number }).id;
        if (id !== undefined && slow.delete(id)) g.setTimeout(() => fn(e), g.__slowReadsMs ?? 0);
        else fn(e);
      }, ...rest);
    };
  });
}

/** From now on, replies to row reads arrive `ms` late (0: at once again). */
export async function slowReads(page: Page, ms: number): Promise<void> {
  await page.evaluate((delay) => ((globalThis as unknown as SlowGlobals).__slowReadsMs = delay), ms);
}
