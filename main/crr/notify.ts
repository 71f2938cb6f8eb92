// Calling the engine's listeners: one that throws is logged and does not stop the others, nor the
// write that triggered them (listeners run after the commit).
export function notifyAll<E>(listeners: Iterable<(event: E) => void>, event: E, what: string): void {
  for (const l of listeners) {
    try {
      l(event);
    } catch (err) {
      console.error(`crr ${what} listener failed:`, err);
    }
  }
}
