// Loaded with `node --import` into Electron's own installer (node_modules/electron/install.js),
// which downloads with the global fetch and has neither a timeout nor early progress (its bar
// starts after 30 s). This wraps fetch, nothing else: a request that gets no response, or a body
// that stops, for CRR_ELECTRON_DOWNLOAD_TIMEOUT seconds (default 15) is aborted; the zip's
// progress goes to stdout; a failure is rethrown as one line naming its cause and the URL, which
// install.js prints first on stderr.
const original = globalThis.fetch;
const seconds = Number(process.env.CRR_ELECTRON_DOWNLOAD_TIMEOUT) > 0 ? Number(process.env.CRR_ELECTRON_DOWNLOAD_TIMEOUT) : 15;

class DownloadError extends Error {
  name = 'DownloadError';
}

/** "connect ECONNREFUSED 127.0.0.1:9 (http://…/electron-….zip)" from whatever fetch threw. */
function describe(err, url, timedOut) {
  if (timedOut) return new DownloadError(`no data for ${seconds} s (CRR_ELECTRON_DOWNLOAD_TIMEOUT sets the limit) from ${url}`);
  const cause = err?.cause instanceof Error ? err.cause : null;
  return new DownloadError(`${(cause ?? err)?.message ?? String(err)} (${url})`);
}

function progressReporter(url, total) {
  const name = url.slice(url.lastIndexOf('/') + 1);
  const size = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${Math.ceil(n / 1e3)} kB`);
  const tty = process.stdout.isTTY;
  let received = 0;
  let shown = -1;
  process.stdout.write(`Downloading ${name} (${total ? size(total) : 'size unknown'}) from ${new URL(url).host}\n`);
  // on a terminal one line updated in place per percent; otherwise a line per 10% (or 10 MB)
  const show = (final) => {
    const step = total ? Math.floor((received / total) * (tty ? 100 : 10)) : Math.floor(received / 10e6);
    if (step !== shown) {
      shown = step;
      const text = total ? `  ${Math.floor((received / total) * 100)}% (${size(received)} of ${size(total)})` : `  ${size(received)}`;
      process.stdout.write(tty ? `\r${text}` : `${text}\n`);
    }
    if (final && tty) process.stdout.write('\n');
  };
  return {
    add(n) {
      received += n;
      show(false);
    },
    done: () => show(true),
  };
}

globalThis.fetch = async function fetchWithTimeout(input, init = {}) {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const ctrl = new AbortController();
  let timedOut = false;
  let timer;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort();
    }, seconds * 1000);
  };
  arm();
  const signal = init.signal ? AbortSignal.any([init.signal, ctrl.signal]) : ctrl.signal;
  let res;
  try {
    res = await original(input, { ...init, signal });
  } catch (err) {
    clearTimeout(timer);
    throw describe(err, url, timedOut);
  }
  if (!res.ok || !res.body) {
    clearTimeout(timer);
    return res;
  }
  const length = Number(res.headers.get('content-length'));
  const progress = /\.zip$/.test(new URL(url).pathname) ? progressReporter(url, length > 0 ? length : null) : null;
  const reader = res.body.getReader();
  const body = new ReadableStream({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          clearTimeout(timer);
          progress?.done();
          controller.close();
          return;
        }
        arm();
        progress?.add(value.byteLength);
        controller.enqueue(value);
      } catch (err) {
        clearTimeout(timer);
        controller.error(describe(err, url, timedOut));
      }
    },
    cancel(reason) {
      clearTimeout(timer);
      return reader.cancel(reason);
    },
  });
  // the same Response (status, url, headers for its callers), its body read through the timer
  Object.defineProperty(res, 'body', { value: body });
  return res;
};
