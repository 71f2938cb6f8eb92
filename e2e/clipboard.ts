import type { Locator } from '@playwright/test';

// The project type-checks e2e without the DOM lib (main must not see it), so the few browser
// classes these page functions use are described here, locally.
type Transfer = { getData(type: string): string; setData(type: string, value: string): void };
type BrowserGlobals = {
  DataTransfer: new () => Transfer;
  ClipboardEvent: new (type: string, init: { clipboardData: Transfer; bubbles: boolean; cancelable: boolean }) => unknown;
};
type Target = { dispatchEvent(event: unknown): boolean };

/** Fires a real `copy` event at the element and returns the text its handler put on the clipboard. */
export function dispatchCopy(target: Locator): Promise<string> {
  return target.evaluate((el) => {
    const g = globalThis as unknown as BrowserGlobals;
    const data = new g.DataTransfer();
    (el as unknown as Target).dispatchEvent(new g.ClipboardEvent('copy', { clipboardData: data, bubbles: true, cancelable: true }));
    return data.getData('text/plain');
  });
}

/** Fires a real `paste` event carrying `text` at the element. */
export async function dispatchPaste(target: Locator, text: string): Promise<void> {
  await target.evaluate((el, pasted) => {
    const g = globalThis as unknown as BrowserGlobals;
    const data = new g.DataTransfer();
    data.setData('text/plain', pasted);
    (el as unknown as Target).dispatchEvent(new g.ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
}
