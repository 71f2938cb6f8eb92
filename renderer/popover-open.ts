// Opening an auto popover (a cell's menu, a cell's history) from a right-click. On Linux the
// contextmenu event comes at mousedown, and Chromium (150 on) light-dismisses an auto popover
// shown between a pointerdown and its pointerup outside it: the right-click's own release closed
// the menu it had just opened. Shown after the release, it stays.
let pressed = false;
if (typeof window !== 'undefined') {
  const release = () => (pressed = false);
  addEventListener('pointerdown', () => (pressed = true), true);
  addEventListener('pointerup', release, true);
  addEventListener('pointercancel', release, true);
}

/** Shows popover `el` now, or once the pressed pointer is released (then `shown`); returns a cancel. */
export function showPopoverWhenReleased(el: HTMLElement, shown?: () => void): () => void {
  const show = () => {
    if (!el.isConnected || el.matches(':popover-open')) return;
    el.showPopover();
    shown?.();
  };
  if (!pressed) {
    show();
    return () => {};
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  // after the release's own light dismiss (it runs once its listeners have)
  const released = () => {
    off();
    timer = setTimeout(show);
  };
  const off = () => {
    removeEventListener('pointerup', released);
    removeEventListener('pointercancel', released);
  };
  addEventListener('pointerup', released);
  addEventListener('pointercancel', released);
  return () => {
    off();
    clearTimeout(timer);
  };
}
