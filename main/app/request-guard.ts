// Which HTTP requests browser mode answers at all (DNS-rebinding guard): the Host header must name
// this server by a loopback name and its port, and the API's WebSocket must come from a page of
// this server's own origin. A page on another site that resolves its name to 127.0.0.1 sends its
// own Host and Origin, so it is refused before the token is even looked at. Browsers always send
// Origin with a WebSocket handshake; other programs must send it too.
import type { IncomingMessage } from 'node:http';

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost'];

export function hostAllowed(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host?.toLowerCase();
  return !!host && LOOPBACK_NAMES.some((name) => host === `${name}:${port}`);
}

export function originAllowed(req: IncomingMessage, port: number): boolean {
  const origin = req.headers.origin?.toLowerCase();
  return !!origin && LOOPBACK_NAMES.some((name) => origin === `http://${name}:${port}`);
}
