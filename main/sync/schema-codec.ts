// Schema-log entries (main/crr/schema-log.ts), version vectors and schema summaries on the wire.
// Decoding checks every field's shape (a malformed one is a ProtocolError: the stream closes);
// what an entry may say is the engine's to check (schemaLog.receive refuses the impossible).
import type { SchemaEntry, SchemaSummary } from '../crr/types.ts';
import { ProtocolError, siteBytes } from './change-codec.ts';

const HEX_SITE = /^[0-9a-fA-F]{32}$/;
const TEXT = ['table', 'column', 'to', 'type', 'index', 'sql'] as const;
const MAX_ENTRIES = 10_000;

export type WireEntry = Omit<SchemaEntry, 'site_id'> & { site: Uint8Array };

export function encodeEntries(entries: SchemaEntry[]): WireEntry[] {
  return entries.map(({ site_id, ...e }) => ({ ...e, site: site_id }));
}

const isInt = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

export function decodeEntries(wire: unknown): SchemaEntry[] {
  if (!Array.isArray(wire)) throw new ProtocolError('schema: entries must be a list');
  if (wire.length > MAX_ENTRIES) throw new ProtocolError(`schema: more than ${MAX_ENTRIES} entries in one frame`);
  return wire.map((w, i) => {
    const e = w as Record<string, unknown>;
    if (!e || typeof e !== 'object') throw new ProtocolError(`schema: entry ${i} is malformed`);
    const site = siteBytes(e.site, `schema: entry ${i}`);
    if (!isInt(e.clock) || typeof e.kind !== 'string' || !isInt(e.written_at)) throw new ProtocolError(`schema: entry ${i} is malformed`);
    const out: SchemaEntry = { site_id: site, clock: e.clock, kind: e.kind as SchemaEntry['kind'], table: '', written_at: e.written_at };
    for (const f of TEXT) {
      if (e[f] === undefined || e[f] === null) continue;
      if (typeof e[f] !== 'string') throw new ProtocolError(`schema: entry ${i}: ${f} must be text`);
      out[f] = e[f] as string;
    }
    if (e.notNull !== undefined && e.notNull !== null) {
      if (typeof e.notNull !== 'boolean') throw new ProtocolError(`schema: entry ${i}: notNull must be true or false`);
      out.notNull = e.notNull;
    }
    if (e.default !== undefined) {
      if (e.default !== null && typeof e.default !== 'string') throw new ProtocolError(`schema: entry ${i}: default must be text or null`);
      out.default = e.default as string | null;
    }
    return out;
  });
}

/** A peer's version vector: site hex → the highest clock of that origin it holds. */
export function decodeVector(wire: unknown): Record<string, number> {
  if (wire === undefined || wire === null) return {};
  if (typeof wire !== 'object' || Array.isArray(wire)) throw new ProtocolError('schema: the version vector must be an object');
  const entries = Object.entries(wire as Record<string, unknown>);
  if (entries.length > MAX_ENTRIES) throw new ProtocolError('schema: the version vector is too long');
  const out: Record<string, number> = {};
  for (const [site, clock] of entries) {
    if (!HEX_SITE.test(site) || !isInt(clock)) throw new ProtocolError('schema: malformed version vector');
    out[site.toLowerCase()] = clock;
  }
  return out;
}

/** Entries the peer holds but has not applied (waiting for its user, or in conflict): "site:clock" keys. */
export function decodeWaiting(wire: unknown): Set<string> {
  if (wire === undefined || wire === null) return new Set();
  if (!Array.isArray(wire) || wire.length > MAX_ENTRIES) throw new ProtocolError('schema: malformed list of waiting entries');
  return new Set(
    wire.map((w) => {
      if (!Array.isArray(w) || typeof w[0] !== 'string' || !HEX_SITE.test(w[0]) || !isInt(w[1])) throw new ProtocolError('schema: malformed waiting entry');
      return `${w[0].toLowerCase()}:${w[1]}`;
    }),
  );
}

export function decodeSummary(wire: unknown): SchemaSummary | null {
  if (wire === undefined || wire === null) return null;
  const s = wire as Record<string, unknown>;
  if (typeof s !== 'object' || !isInt(s.version) || !isInt(s.waiting) || typeof s.digest !== 'string' || s.digest.length > 128) {
    throw new ProtocolError('schema: malformed summary');
  }
  return { version: s.version, waiting: s.waiting, digest: s.digest };
}
