// Invite codes: everything a peer needs to join a shared database, as one copyable line.
// "crrdesk1." + base64url(JSON { d: database id (hex), k: key (base64url), a: multiaddrs with /p2p/ }).
// The code is a secret: whoever holds it can read and write the database.
import { KEY_BYTES } from './auth.ts';

const PREFIX = 'crrdesk1.';

export interface Invite {
  databaseId: string;
  key: Uint8Array;
  addresses: string[];
}

export class InviteError extends Error {}

export function encodeInvite(invite: Invite): string {
  const body = JSON.stringify({ d: invite.databaseId, k: Buffer.from(invite.key).toString('base64url'), a: invite.addresses });
  return PREFIX + Buffer.from(body).toString('base64url');
}

export function decodeInvite(code: string): Invite {
  const text = typeof code === 'string' ? code.trim() : '';
  if (!text.startsWith(PREFIX)) throw new InviteError('This is not an invite code (it should start with "crrdesk1.").');
  let body: { d?: unknown; k?: unknown; a?: unknown };
  try {
    body = JSON.parse(Buffer.from(text.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw new InviteError('The invite code is damaged: copy it again, whole.');
  }
  if (typeof body.d !== 'string' || !/^[0-9a-f]{32}$/.test(body.d)) throw new InviteError('The invite code has no valid database id.');
  const key = typeof body.k === 'string' ? new Uint8Array(Buffer.from(body.k, 'base64url')) : new Uint8Array();
  if (key.length !== KEY_BYTES) throw new InviteError('The invite code has no valid key.');
  if (!Array.isArray(body.a) || !body.a.every((a) => typeof a === 'string')) throw new InviteError('The invite code has no address list.');
  return { databaseId: body.d, key, addresses: body.a as string[] };
}
