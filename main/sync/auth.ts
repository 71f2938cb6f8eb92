// The per-database handshake on the sync protocol. Each database has its own secret key; both
// peers prove they hold it with an HMAC over fresh nonces and both libp2p peer ids (which noise
// has already authenticated), so a proof cannot be replayed or relayed to another connection.
// A peer without the key learns nothing but the database id and gets and puts zero rows.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_BYTES = 32;

export function newShareKey(): Uint8Array {
  return new Uint8Array(randomBytes(KEY_BYTES));
}

export function newNonce(): Uint8Array {
  return new Uint8Array(randomBytes(16));
}

export interface HandshakeFacts {
  databaseId: string;
  initiatorNonce: Uint8Array;
  responderNonce: Uint8Array;
  initiatorPeer: string;
  responderPeer: string;
}

export function proof(key: Uint8Array, role: 'initiator' | 'responder', f: HandshakeFacts): Uint8Array {
  const h = createHmac('sha256', key);
  for (const part of [role, f.databaseId, f.initiatorPeer, f.responderPeer]) h.update(`${part}\0`);
  h.update(f.initiatorNonce);
  h.update(f.responderNonce);
  return new Uint8Array(h.digest());
}

export function proofMatches(key: Uint8Array, role: 'initiator' | 'responder', f: HandshakeFacts, given: Uint8Array): boolean {
  const expected = proof(key, role, f);
  return given.length === expected.length && timingSafeEqual(expected, given);
}
